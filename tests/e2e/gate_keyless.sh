#!/usr/bin/env bash
# Keyless provenance: Sigstore bundles for the four afu9 images made by the sigstore JavaScript
# libraries as GitHub's attestation actions make them (@sigstore/sign with @sigstore/mock's Fulcio
# and Rekor: Fulcio certificates from GitHub token claims, intoto Rekor entries), attached as
# referrers by @sigstore/oci (docker-registry: the referrers tag schema; the referrers fake: the
# OCI 1.1 referrers API) or written into an oci-layout as manifests whose subject is the digest.
# The gate verifies them offline against the mock's trusted_root.json. One case table on every
# backend, every failure with its exact finding and exit code, the evidence's certificate facts,
# the input errors (exit 2), and @sigstore/verify run on every bundle of every case: imagegate and
# the reference verifier agree, printed as a table. The table runs through lib/table.sh.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2317 # backend functions are called by name
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
source "$E2E_LIB/signing.sh"
source "$E2E_LIB/table.sh"
require_cmd docker-registry umoci skopeo jq curl node
SIGSTORE_TOOLS="${SIGSTORE_TOOLS:-$SOURCE_DIR/build/tools/sigstore}"
export SIGSTORE_TOOLS
for pkg in @sigstore/oci @sigstore/mock @sigstore/sign @sigstore/verify; do
  [ -d "$SIGSTORE_TOOLS/node_modules/$pkg" ] || {
    echo "error: $SIGSTORE_TOOLS has no $pkg (scripts/bootstrap installs it)" >&2
    exit 1
  }
done
sigstore() { node "$E2E_LIB/sigstore.js" "$@"; }
keyless() { node "$E2E_LIB/keyless.js" "$@"; }

SHA=0123456789abcdef0123456789abcdef01234567
OTHER_SHA=fedcba9876543210fedcba9876543210fedcba98
ISSUER=https://token.actions.githubusercontent.com
WORKFLOW=https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main
BUNDLE=application/vnd.dev.sigstore.bundle.v0.3+json
KEYLESS_DIR="$SCRATCH/keyless"
ROOT="$KEYLESS_DIR/trusted_root.json"
BACKENDS=(registry referrers layout)

# --- backends -------------------------------------------------------------------------------

backend_registry_start() { registry_start plain; }
backend_registry_populate() { push_manifest_images "$@"; }
backend_registry_args() { printf '%s\n' --registry "$REGISTRY_URL"; }
backend_registry_attach() { sigstore attach "$REGISTRY_HOST/$1" "$2" "$BUNDLE" "$3" >/dev/null; }

REFERRERS_URL=""
backend_referrers_start() {
  bg_start oci_referrers "$FAKES_DIR/oci_referrers" --port 0
  local port
  port="$(wait_first_line "$SCRATCH/oci_referrers.out" "$BG_PID")" || return 1
  REFERRERS_URL="http://127.0.0.1:$port"
  REGISTRY_URL="$REFERRERS_URL" REGISTRY_HOST="127.0.0.1:$port"
  export REGISTRY_URL REGISTRY_HOST
}
backend_referrers_populate() { push_manifest_images "$@"; }
backend_referrers_args() { printf '%s\n' --registry "$REFERRERS_URL"; }
backend_referrers_attach() { backend_registry_attach "$@"; }

LAYOUT_DIR="$SCRATCH/layouts"
backend_layout_start() { mkdir -p "$LAYOUT_DIR"; }
backend_layout_populate() { push_manifest_images "$@" --layout "$LAYOUT_DIR"; }
backend_layout_args() { printf '%s\n' --registry "oci-layout:$LAYOUT_DIR"; }
backend_layout_attach() {  # the referrers form: a manifest whose subject is the digest
  local m
  m="$(_artifact_manifest "$(mktemp -d "$SCRATCH/bundle.XXXXXX")" "$3" "$BUNDLE" '{}' "$BUNDLE" "$2" 1)" &&
    layout_put_manifest "$LAYOUT_DIR/$1" "$m"
}

# --- states: one environment prefix each, bundles for the four images --------------------------

gate_project "$TEST_DATA/e2e/images-manifest.json"
STATES=(good workflow issuer commit untrusted expired tampered digest unsigned
  private tlogtsa tstamper tsforeign proof5 prooftamp cptamp proofonly prooftime)
M="$(gate_variant keyless '.tagging.prefixes = {good: "gd", workflow: "wf", issuer: "is",
  commit: "cm", untrusted: "ut", expired: "ex", tampered: "tp", digest: "dg", unsigned: "un",
  private: "pv", tlogtsa: "tb", tstamper: "tt", tsforeign: "tf", proof5: "p5", prooftamp: "pt",
  cptamp: "ct", proofonly: "po", prooftime: "pn"}')"
POLICY="$(gate_variant keyless-policy '.tagging.prefixes = {good: "gd", workflow: "wf"}
  | .provenance = {identities: [{issuer: $i, subject: $s}]}' --arg i "$ISSUER" --arg s "$WORKFLOW")"
mapfile -t REPOS < <(jq -r '.images[].name' "$M")
prefix_of() { jq -r --arg e "$1" '.tagging.prefixes[$e]' "$M"; }
digest_of() {  # ENV_PREFIX REPO -> the digest pushed for it
  awk -v r="$2" -v t="$1-latest" '$1 == r && $2 == t { d = $3 } END { print d }' "$PUSHED_FILE"
}

# The GitHub token claims Fulcio turns into the certificate's identity and extensions.
claims() {  # SUB ISS SHA
  jq -cn --arg sub "$1" --arg iss "$2" --arg sha "$3" '{sub: $sub, iss: $iss, sha: $sha,
    repository: "afu9/afu9", repository_owner: "afu9", event_name: "push", ref: "refs/heads/main",
    job_workflow_ref: "afu9/afu9/.github/workflows/deploy.yml@refs/heads/main",
    workflow_ref: "afu9/afu9/.github/workflows/deploy.yml@refs/heads/main",
    runner_environment: "github-hosted", run_id: "4242", run_attempt: "1"}'
}

# spec_entry STATE REPO DIGEST OTHER_DIGEST : one bundle of keyless.js make.
spec_entry() {
  local state="$1" repo="$2" digest="$3" other="$4" c extra='{}'
  c="$(claims "$WORKFLOW" "$ISSUER" "$SHA")"
  case "$state" in
    workflow) c="$(claims "${WORKFLOW/deploy.yml/release.yml}" "$ISSUER" "$SHA")" ;;
    issuer) c="$(claims "$WORKFLOW" https://gitlab.com "$SHA")" ;;
    commit) c="$(claims "$WORKFLOW" "$ISSUER" "$OTHER_SHA")" ;;
    untrusted) extra='{"ca": "untrusted"}' ;;
    expired) extra='{"caMinutesAgo": 120}' ;;  # valid ten minutes, two hours before the entry
    tampered) extra='{"tamper": "body"}' ;;
    digest) digest="$other" ;;
    # GitHub's private-repository attestations: an RFC 3161 timestamp, no Rekor entry.
    private) extra='{"tlog": false, "tsa": "trusted"}' ;;
    tlogtsa) extra='{"tsa": "trusted"}' ;;  # both time sources
    tstamper) extra='{"tlog": false, "tsa": "trusted", "tamper": "timestamp"}' ;;
    tsforeign) extra='{"tlog": false, "tsa": "untrusted"}' ;;  # a TSA the root does not name
    proof5) extra='{"proof": "tree"}' ;;  # an audit path of three hashes
    prooftamp) extra='{"proof": "tree", "tamper": "proof"}' ;;
    cptamp) extra='{"proof": "tree", "tamper": "checkpoint"}' ;;
    # Rekor v2's shape: an inclusion proof, no signed entry timestamp; the time from a TSA.
    proofonly) extra='{"proof": "tree", "set": false, "tsa": "trusted"}' ;;
    prooftime) extra='{"proof": "tree", "set": false}' ;;  # and no time at all
  esac
  jq -cn --arg n "$state-${repo##*/}" --arg d "$digest" --argjson c "$c" --argjson x "$extra" \
    '{name: $n, digest: $d, claims: $c} + $x'
}

populate_states() {
  local b="$1" state prefix repo i digest other entries=()
  for state in "${STATES[@]}"; do
    prefix="$(prefix_of "$state")"
    PUSH_SALT="$state" "backend_${b}_populate" "$M" "$state" "$SHA" || return 1
  done
  for state in "${STATES[@]}"; do
    [ "$state" != unsigned ] || continue
    prefix="$(prefix_of "$state")"
    for i in "${!REPOS[@]}"; do
      digest="$(digest_of "$prefix" "${REPOS[$i]}")"
      other="$(digest_of "$prefix" "${REPOS[$(((i + 1) % ${#REPOS[@]}))]}")"
      entries+=("$(spec_entry "$state" "${REPOS[$i]}" "$digest" "$other")")
    done
  done
  rm -rf "$KEYLESS_DIR"
  printf '%s\n' "${entries[@]}" | jq -s '{bundles: .}' >"$SCRATCH/spec.json"
  keyless make "$KEYLESS_DIR" "$SCRATCH/spec.json" || return 1
  for state in "${STATES[@]}"; do
    [ "$state" != unsigned ] || continue
    prefix="$(prefix_of "$state")"
    for repo in "${REPOS[@]}"; do
      "backend_${b}_attach" "$repo" "$(digest_of "$prefix" "$repo")" \
        "$KEYLESS_DIR/$state-${repo##*/}.json" || return 1
    done
  done
}

each() {  # SEVERITY CODE SUBJECT : the findings line for the four images
  local id lines=()
  for id in control-center mcp-deploy mcp-github mcp-observability; do
    lines+=("$1 $2 $id $3")
  done
  (IFS=';' && printf '%s' "${lines[*]}")
}

ID="--certificate-identity=$WORKFLOW;--certificate-oidc-issuer=$ISSUER;--trusted-root=$ROOT"
REGEXP="--certificate-identity-regexp=^https://github\\.com/afu9/afu9/\\.github/workflows/deploy\\.yml@;--certificate-oidc-issuer=$ISSUER;--trusted-root=$ROOT"
# name | manifest | env | args (';'-separated) | exit | findings
CASES=(
  "good|$M|good|$ID|0|"
  "good-manifest-policy|$POLICY|good|--trusted-root=$ROOT|0|"
  "good-regexp|$M|good|$REGEXP|0|"
  "workflow|$M|workflow|$ID|1|$(each error IDENTITY_MISMATCH bundle)"
  "workflow-manifest-policy|$POLICY|workflow|--trusted-root=$ROOT|1|$(each error IDENTITY_MISMATCH bundle)"
  "issuer|$M|issuer|$ID|1|$(each error IDENTITY_MISMATCH bundle)"
  "commit|$M|commit|$ID|1|$(each error PROVENANCE_COMMIT_MISMATCH bundle)"
  "untrusted|$M|untrusted|$ID|1|$(each error SIGNATURE_INVALID bundle)"
  "expired|$M|expired|$ID|1|$(each error SIGNATURE_INVALID bundle)"
  "tampered|$M|tampered|$ID|1|$(each error TLOG_INVALID bundle)"
  "digest|$M|digest|$ID|1|$(each error SIGNATURE_INVALID bundle)"
  "unsigned|$M|unsigned|$ID|1|$(each error SIGNATURE_MISSING bundle)"
  "private|$M|private|$ID|0|"
  "tlogtsa|$M|tlogtsa|$ID|0|"
  "tstamper|$M|tstamper|$ID|1|$(each error TLOG_INVALID bundle)"
  "tsforeign|$M|tsforeign|$ID|1|$(each error TLOG_INVALID bundle)"
  "proof5|$M|proof5|$ID|0|"
  "prooftamp|$M|prooftamp|$ID|1|$(each error TLOG_INVALID bundle)"
  "cptamp|$M|cptamp|$ID|1|$(each error TLOG_INVALID bundle)"
  "proofonly|$M|proofonly|$ID|0|"
  "prooftime|$M|prooftime|$ID|1|$(each error TLOG_INVALID bundle)"
)

# What @sigstore/verify says about the case's four bundles: "pass" when all four pass, else
# "fail" and the first reason.
reference_verdict() {  # ENV
  local env="$1" repo prefix out verdict=pass reason=""
  prefix="$(prefix_of "$env")"
  [ "$env" != unsigned ] || {
    printf 'fail|no bundle\n'
    return
  }
  for repo in "${REPOS[@]}"; do
    out="$(keyless verify "$KEYLESS_DIR/$env-${repo##*/}.json" "$ROOT" "$(digest_of "$prefix" "$repo")" \
      "$ISSUER" "$WORKFLOW" "$SHA")" || verdict=fail
    [ -n "$reason" ] || reason="$out"
  done
  printf '%s|%s\n' "$verdict" "$reason"
}

AGREEMENT=()
table_case_checks() {
  local backend="$1" name="$2" evidence="$4" env="" c n e ours theirs
  [ "$name" != good ] || {
    expect_eq "$SHA" "$(evidence_get '.images[0].provenance.keyless.verified[0].sourceDigest' "$evidence")" \
      "$backend: the evidence names the certificate's source commit"
    expect_eq https://github.com/afu9/afu9 \
      "$(evidence_get '.images[0].provenance.keyless.verified[0].sourceRepository' "$evidence")" \
      "$backend: the source repository"
    expect_eq https://github.com/afu9/afu9/actions/runs/4242/attempts/1 \
      "$(evidence_get '.images[0].provenance.keyless.verified[0].runInvocation' "$evidence")" \
      "$backend: the run invocation"
    expect_eq "$WORKFLOW $ISSUER push" \
      "$(evidence_get '.images[3].provenance.keyless.verified[0] | "\(.subject) \(.issuer) \(.buildTrigger)"' "$evidence")" \
      "$backend: the identity and the trigger"
    expect_eq 4 "$(evidence_get '[.images[].provenance.keyless.verified | length] | add' "$evidence")" \
      "$backend: one bundle verified per image"
  }
  [ "$backend" = registry ] || return 0
  [[ "$name" != *manifest-policy && "$name" != good-regexp ]] || return 0
  for c in "${CASES[@]}"; do
    IFS='|' read -r n _ e _ <<<"$c"
    [ "$n" != "$name" ] || env="$e"
  done
  ours="$(evidence_get .verdict "$evidence")"
  theirs="$(reference_verdict "$env")"
  AGREEMENT+=("$(printf '%-10s | %-26s | %-4s | %-4s | %s' "$name" \
    "$(evidence_get '[.findings[].code] | unique | join(",") | if . == "" then "-" else . end' "$evidence")" \
    "$ours" "${theirs%%|*}" "$(cut -c1-90 <<<"${theirs#*|}")")")
  expect_eq "$ours" "${theirs%%|*}" "$name: imagegate and @sigstore/verify agree"
}

for backend in "${BACKENDS[@]}"; do
  table_run "$backend"
done

section "imagegate and @sigstore/verify, every case (docker-registry)"
printf '%-10s | %-26s | %-4s | %-4s | %s\n' case "imagegate findings" gate ref "@sigstore/verify says"
printf '%s\n' "${AGREEMENT[@]}"
expect_eq 18 "${#AGREEMENT[@]}" "every case compared"

section "exact messages"
ARGS=(-m "$M" --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --certificate-identity "$WORKFLOW"
  --certificate-oidc-issuer "$ISSUER" --trusted-root "$ROOT")
expect_exit 0 -- ig_gate "${ARGS[@]}" --env good
expect_output_contains "✓ rev ${SHA:0:12}, keyless"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env workflow
expect_output_contains "error[IDENTITY_MISMATCH] control-center bundle: layout subject scan"
expect_output_contains "signed by subject '${WORKFLOW/deploy.yml/release.yml}' from issuer '$ISSUER'; the policy accepts issuer '$ISSUER', subject '$WORKFLOW'"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env commit
expect_output_contains "the certificate names source commit '$OTHER_SHA', but this build is $SHA"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env untrusted
expect_output_contains "the certificate does not chain to a certificate authority of the trusted root"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env expired
expect_output_contains "the certificate was not valid at the log's integrated time"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env tampered
expect_output_contains "the signed entry timestamp does not verify with the log's key"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env digest
expect_output_contains "the bundle's subject is sha256:"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env unsigned
expect_output_contains "has no Sigstore bundle (looked in: "
expect_exit 0 -- ig_gate "${ARGS[@]}" --env private --evidence-out "$SCRATCH/private.json"
expect_eq "-1 1" "$(evidence_get '.images[0].provenance.keyless.verified[0] | "\(.logIndex) \(.timestamps | length)"' "$SCRATCH/private.json")" \
  "private: no log entry, one verified timestamp in the evidence"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env tstamper
expect_output_contains "timestamp 0: the timestamp does not verify with the timestamp authority 'https://tsa.keyless.test' ("
expect_exit 1 -- ig_gate "${ARGS[@]}" --env tsforeign
expect_output_contains "timestamp 0: the timestamp does not verify with the timestamp authority 'https://tsa.keyless.test' ("
expect_exit 1 -- ig_gate "${ARGS[@]}" --env prooftamp
expect_output_contains ": the inclusion proof's audit path does not lead from the entry to its root hash"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env cptamp
expect_output_contains ": no signature of the checkpoint verifies with the log's key"
expect_exit 1 -- ig_gate "${ARGS[@]}" --env prooftime
expect_output_contains "no verified time: the log entries have no signed entry timestamp"

section "input errors: exit 2, before anything connects"
BASE=(-m "$M" --env good --sha "$SHA" --registry "http://127.0.0.1:9")
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --certificate-oidc-issuer "$ISSUER" \
  --trusted-root "$SCRATCH/missing.json"
expect_stderr_contains "TRUSTED_ROOT_INVALID: trusted root '$SCRATCH/missing.json' does not exist"
mkdir -p "$SCRATCH/a-directory.json"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --certificate-oidc-issuer "$ISSUER" \
  --trusted-root "$SCRATCH/a-directory.json"
expect_stderr_contains "TRUSTED_ROOT_INVALID: trusted root '$SCRATCH/a-directory.json' cannot be read"
printf 'not json' >"$SCRATCH/garbage.json"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --certificate-oidc-issuer "$ISSUER" \
  --trusted-root "$SCRATCH/garbage.json"
expect_stderr_contains "TRUSTED_ROOT_INVALID: trusted root '$SCRATCH/garbage.json' is not a JSON object (Sigstore's trusted_root.json)"
jq '.tlogs = [] | .timestampAuthorities = []' "$ROOT" >"$SCRATCH/no-tlogs.json"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --certificate-oidc-issuer "$ISSUER" \
  --trusted-root "$SCRATCH/no-tlogs.json"
expect_stderr_contains "trusted root '$SCRATCH/no-tlogs.json' names no tlogs (Rekor) and no timestampAuthorities"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --certificate-oidc-issuer "$ISSUER"
expect_stderr_contains "image 'control-center': keyless identities are required but no trusted root is given (--trusted-root FILE, Sigstore's trusted_root.json)"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity "$WORKFLOW" --trusted-root "$ROOT"
expect_stderr_contains "command line: an identity needs its OIDC issuer (--certificate-oidc-issuer)"
expect_exit 2 -- ig_gate "${BASE[@]}" --certificate-identity-regexp '(' --certificate-oidc-issuer "$ISSUER" \
  --trusted-root "$ROOT"
expect_stderr_contains "command line: the subject expression '(' is not a regular expression"

finish
