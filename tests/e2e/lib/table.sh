# shellcheck shell=bash
# One table of gate cases run against every registry backend: the suites that prove "the same
# populated state gives the same exit code, findings and digests on every backend"
# (gate_conformance, gate_provenance, gate_signatures) share this runner instead of each keeping
# its own loop.
#
# A suite defines:
#   BACKENDS=(name...)                       the backends, in order; each has
#     backend_<name>_start                   start what it needs, once
#     backend_<name>_populate MANIFEST ENV SHA [options of push_manifest_images]...
#     backend_<name>_args                    the gate's registry arguments, one per line
#   populate_states BACKEND                  everything the cases read, via backend_<name>_populate
#   CASES=("name|manifest|env|args|exit|findings"...)
#                                            args: extra gate arguments, ';'-separated (may be
#                                            empty); findings: sorted "SEVERITY CODE IMAGE SUBJECT"
#                                            lines joined with ';'
#   SHA                                      the gate's --sha
# and optionally table_case_checks BACKEND NAME MANIFEST EVIDENCE, called after each case for the
# suite's own assertions.
#
# table_run BACKEND runs every case on one backend; each case's evidence is
# $(table_evidence BACKEND NAME), what the backend was populated with is $SCRATCH/pushed.BACKEND.
# table_agree COMPARABLE FIRST OTHER... asserts that every case's evidence, reduced by the
# function COMPARABLE EVIDENCE, is the same on each OTHER backend as on FIRST.

table_evidence() { printf '%s/evidence.%s.%s.json\n' "$SCRATCH" "$1" "$2"; }

# table_findings EVIDENCE : the evidence's findings as a CASES findings field.
table_findings() {
  jq -r '[.findings[] | "\(.severity) \(.code) \(.image) \(.subject)"] | sort | join(";")' "$1"
}

table_run() {
  local backend="$1" case name manifest env args want_exit want_findings evidence extra
  section "backend $backend: populating"
  "backend_${backend}_start"
  : >"$PUSHED_FILE"
  populate_states "$backend"
  cp "$PUSHED_FILE" "$SCRATCH/pushed.$backend"
  mapfile -t TABLE_REGISTRY_ARGS < <("backend_${backend}_args")
  for case in "${CASES[@]}"; do
    IFS='|' read -r name manifest env args want_exit want_findings <<<"$case"
    section "backend $backend: $name"
    extra=()
    [ -z "$args" ] || IFS=';' read -r -a extra <<<"$args"
    evidence="$(table_evidence "$backend" "$name")"
    expect_exit "$want_exit" -- ig_gate -m "$manifest" --env "$env" --sha "$SHA" \
      "${TABLE_REGISTRY_ARGS[@]}" "${extra[@]}" --evidence-out "$evidence"
    expect_eq "$want_findings" "$(table_findings "$evidence")" "$backend $name: findings"
    expect_eq "$([ "$want_exit" = 0 ] && echo pass || echo fail)" \
      "$(evidence_get .verdict "$evidence")" "$backend $name: verdict"
    if declare -F table_case_checks >/dev/null; then
      table_case_checks "$backend" "$name" "$manifest" "$evidence"
    fi
  done
}

table_agree() {
  local comparable="$1" first="$2" backend case name
  shift 2
  for backend in "$@"; do
    for case in "${CASES[@]}"; do
      name="${case%%|*}"
      expect_eq "$("$comparable" "$(table_evidence "$first" "$name")")" \
        "$("$comparable" "$(table_evidence "$backend" "$name")")" "$name: $backend agrees with $first"
    done
  done
}

# table_print HEADER ROW... : prints '|'-separated rows as an aligned Markdown table (the header
# first), for suites whose result is a matrix (aws_faults).
table_print() {
  local -a widths=() cells
  local row i cell line
  for row in "$@"; do
    IFS='|' read -r -a cells <<<"$row"
    for i in "${!cells[@]}"; do
      [ "${#cells[$i]}" -le "${widths[$i]:-0}" ] || widths[i]=${#cells[$i]}
    done
  done
  local first=1
  for row in "$@"; do
    IFS='|' read -r -a cells <<<"$row"
    line="|"
    for i in "${!widths[@]}"; do
      cell="${cells[$i]:-}"
      line+=" $(printf '%-*s' "${widths[$i]}" "$cell") |"
    done
    printf '%s\n' "$line"
    if [ "$first" = 1 ]; then
      line="|"
      for i in "${!widths[@]}"; do line+="$(printf -- '-%.0s' $(seq $((widths[i] + 2))))|"; done
      printf '%s\n' "$line"
      first=0
    fi
  done
}
