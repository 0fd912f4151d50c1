# shellcheck shell=bash
# Helpers shared by the `imagegate gate` suites: a project folder the manifest validates in, derived
# manifests, one way to run the gate, and reading the registry's access log per run. Needs
# common.sh (and registry.sh for the log helpers).
#
#   gate_project MANIFEST                  -> $GATE_DIR with the manifest and its Dockerfiles;
#                                             exports GATE_MANIFEST
#   gate_variant NAME JQ_FILTER            -> $GATE_DIR/NAME.json, the manifest run through jq
#   expect_exit CODE -- ig_gate ARGS...    -> `imagegate gate --no-color ARGS`
#   evidence_get JQ_FILTER [FILE]          -> jq -r over an evidence file (default $GATE_EVIDENCE)
#   registry_log_mark / registry_requests_since MARK [REGEX]

# Variables from the caller's environment would change what the gate checks.
unset DEPLOY_ENV GIT_SHA IMAGEGATE_REGISTRY IMAGEGATE_MANIFEST NO_COLOR

GATE_DIR="$SCRATCH/project"
GATE_EVIDENCE="$SCRATCH/evidence.json"
export GATE_DIR GATE_EVIDENCE

# gate_project MANIFEST : a folder where every path the manifest names exists, so the same
# project serves validate and matrix (which check Dockerfiles and contexts) as well as gate.
gate_project() {
  local manifest="$1" context dockerfile
  mkdir -p "$GATE_DIR" || return 1
  cp "$manifest" "$GATE_DIR/images-manifest.json" || return 1
  while IFS=$'\t' read -r context dockerfile; do
    mkdir -p "$GATE_DIR/$context" "$(dirname "$GATE_DIR/$dockerfile")" &&
      printf 'FROM scratch\n' >"$GATE_DIR/$dockerfile" || return 1
  done < <(jq -r '.images[] | [.context, .dockerfile] | @tsv' "$manifest")
  GATE_MANIFEST="$GATE_DIR/images-manifest.json"
  export GATE_MANIFEST
}

# gate_variant NAME JQ_FILTER [jq args...] : a derived manifest next to the original (same
# Dockerfiles); prints its path.
gate_variant() {
  local name="$1" filter="$2"
  shift 2
  jq "$@" "$filter" "$GATE_MANIFEST" >"$GATE_DIR/$name.json" || return 1
  printf '%s\n' "$GATE_DIR/$name.json"
}

# ig_gate ARGS... : the gate without colour, so output compares byte for byte.
ig_gate() {
  "$IMAGEGATE" gate --no-color "$@"
}

# evidence_get JQ_FILTER [FILE]
evidence_get() {
  jq -r "$1" "${2:-$GATE_EVIDENCE}"
}

# registry_log_mark : the current length of the registry's access log, for registry_requests_since.
registry_log_mark() {
  wc -l <"$REGISTRY_LOG" | tr -d ' '
}

# registry_requests_since MARK [REGEX] : the access-log request lines written after MARK. The
# registry logs a request after answering it, so the log is read once it stops growing.
registry_requests_since() {
  local mark="$1" regex="${2:-.}" before=-1 now tries=0
  now="$(wc -l <"$REGISTRY_LOG")"
  while [ "$now" != "$before" ] && [ "$tries" -lt 20 ]; do
    before="$now"
    sleep 0.05
    now="$(wc -l <"$REGISTRY_LOG")"
    tries=$((tries + 1))
  done
  tail -n "+$((mark + 1))" "$REGISTRY_LOG" |
    grep -oE '"(GET|HEAD|PUT|POST|PATCH|DELETE) [^"]*" [0-9]{3}' | grep -E -- "$regex" || true
}
