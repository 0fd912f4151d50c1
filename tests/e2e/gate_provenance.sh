#!/usr/bin/env bash
# The provenance step of the gate (revision binding) through one case table on every backend: a
# docker-registry (http://), on-disk OCI layouts (oci-layout:DIR) and the ECR fake (ecr), each
# populated with umoci images with the org.opencontainers.image.revision label, without it, and a
# stale build (the label names an older commit) re-tagged with the new sha. The revision check is
# every gate's default (if-present); `--revision off` or a policy's "off" switches it off. Exact
# exit codes and findings; the evidence's provenance; pin refuses a failed provenance; the
# requests the default check adds. The table runs through lib/table.sh.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2317 # backend functions are called by name
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
source "$E2E_LIB/aws.sh"
source "$E2E_LIB/table.sh"
require_cmd docker-registry umoci skopeo jq curl

SHA=0123456789abcdef0123456789abcdef01234567
OLD_SHA=fedcba9876543210fedcba9876543210fedcba98
BACKENDS=(registry layout ecr)

# --- backends -------------------------------------------------------------------------------

backend_registry_start() { registry_start plain; }
backend_registry_populate() { push_manifest_images "$@"; }
backend_registry_args() { printf '%s\n' --registry "$REGISTRY_URL"; }

LAYOUT_DIR="$SCRATCH/layouts"
backend_layout_start() { mkdir -p "$LAYOUT_DIR"; }
backend_layout_populate() { push_manifest_images "$@" --layout "$LAYOUT_DIR"; }
backend_layout_args() { printf '%s\n' --registry "oci-layout:$LAYOUT_DIR"; }

# The ECR fake gets the same umoci images: pushed into layouts first, then every tag's manifest
# and the config blobs go into the fake's state, as a push would put them there.
ECR_LAYOUTS="$SCRATCH/ecr-layouts"
AKID=AKIAFAKEPROVENANCE01
SECRET=provenanceSecretKey0123456789abcdefghijk
e2e_secret "$SECRET"
backend_ecr_start() {
  mkdir -p "$ECR_LAYOUTS"
  printf '%s' "$(jq -nc --arg a "$AKID" --arg s "$SECRET" \
    '{credentials: [{accessKeyId: $a, secretAccessKey: $s}], repositories: {}}')" \
    >"$SCRATCH/ecr-state.json"
  fake_aws_start "$SCRATCH/ecr-state.json" && fake_aws_env "$AKID" "$SECRET" &&
    unset AWS_ENDPOINT_URL
}
backend_ecr_populate() {
  push_manifest_images "$@" --layout "$ECR_LAYOUTS" || return 1
  fake_aws_sync_layouts "$ECR_LAYOUTS"
}
backend_ecr_args() {
  printf '%s\n' --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1
}

# --- manifests and states --------------------------------------------------------------------

gate_project "$TEST_DATA/e2e/images-manifest.json"
ENVS='.tagging.prefixes += {labelled: "lab", unlabelled: "unl", stale: "st"}'
NONE="$(gate_variant none "$ENVS")"
IF_PRESENT="$(gate_variant if-present "$ENVS | .provenance = {revision: \"if-present\"}")"
REQUIRED="$(gate_variant required "$ENVS | .provenance = {revision: \"required\"}")"
# The default requires the label; mcp-github's own policy switches the revision off.
MIXED="$(gate_variant mixed "$ENVS | .provenance = {revision: \"required\"}
  | (.images[] | select(.id == \"mcp-github\") | .provenance) = {revision: \"off\"}")"
IMAGES=(control-center mcp-deploy mcp-github mcp-observability)

populate_states() {
  local populate="backend_$1_populate"
  "$populate" "$NONE" labelled "$SHA" --revision "$SHA" &&
    "$populate" "$NONE" unlabelled "$SHA" --revision none &&
    # An old build (its label names OLD_SHA) pushed again under the new build's tags.
    "$populate" "$NONE" stale "$SHA" --revision "$OLD_SHA"
}

each() {  # SEVERITY CODE [IMAGE...] : the findings line for these images (default: all)
  local severity="$1" code="$2" out=() id
  shift 2
  [ "$#" -gt 0 ] || set -- "${IMAGES[@]}"
  for id in "$@"; do out+=("$severity $code $id revision"); done
  local IFS=';'
  printf '%s' "${out[*]}"
}

# name | manifest | env | extra args | exit | findings (sorted "SEVERITY CODE IMAGE SUBJECT", ';')
CASES=(
  "labelled-required|$REQUIRED|labelled||0|"
  "labelled-if-present|$IF_PRESENT|labelled||0|"
  "unlabelled-if-present|$IF_PRESENT|unlabelled||0|$(each warning REVISION_MISSING)"
  "unlabelled-required|$REQUIRED|unlabelled||1|$(each error REVISION_MISSING)"
  "unlabelled-cli-required|$NONE|unlabelled|--revision=required|1|$(each error REVISION_MISSING)"
  "unlabelled-mixed|$MIXED|unlabelled||1|$(each error REVISION_MISSING control-center mcp-deploy mcp-observability)"
  "stale-if-present|$IF_PRESENT|stale||1|$(each error REVISION_MISMATCH)"
  "stale-off|$IF_PRESENT|stale|--revision=off|0|"
  "stale-without-policy|$NONE|stale||1|$(each error REVISION_MISMATCH)"
  "unlabelled-without-policy|$NONE|unlabelled||0|$(each warning REVISION_MISSING)"
  "stale-cli-off|$NONE|stale|--revision=off|0|"
)

comparable() {
  jq -S '{verdict, findings: [.findings[] | {severity, code, image, subject, message}],
    images: [.images[] | {id, status, digest, provenance: (.provenance // null
      | if . then {status, revision: .revision.value, sources: [.revision.sources[].value]} else null end)}]}' "$1"
}

for backend in "${BACKENDS[@]}"; do
  table_run "$backend"

  section "backend $backend: what the evidence and the report say"
  ev="$(table_evidence "$backend" labelled-required)"
  expect_eq "pass $SHA config label $SHA" \
    "$(evidence_get '.images[0].provenance | "\(.status) \(.revision.value) \(.revision.sources[0].where) \(.revision.sources[0].value)"' "$ev")" \
    "$backend: the revision found, and where"
  ev="$(table_evidence "$backend" stale-if-present)"
  expect_eq "fail null fail $OLD_SHA" \
    "$(evidence_get '.images[0] | "\(.status) \(.digest) \(.provenance.status) \(.provenance.revision.sources[0].value)"' "$ev")" \
    "$backend: a stale image fails; its digest is only in provenance.digest"
  expect_eq "the config label (org.opencontainers.image.revision) names revision '$OLD_SHA', but this build is $SHA" \
    "$(evidence_get '.findings[0].message' "$ev")" "$backend: REVISION_MISMATCH names both"
  expect_eq "if-present" \
    "$(evidence_get '.images[0].provenance.revision.policy' "$(table_evidence "$backend" stale-without-policy)")" \
    "$backend: without a policy the revision is checked if present"
  expect_eq "null" "$(evidence_get '.images[0].provenance' "$(table_evidence "$backend" stale-cli-off)")" \
    "$backend: --revision off: nothing judged, no provenance in the evidence"
done

section "the gate's text report: the provenance column"
expect_exit 1 -- ig_gate -m "$IF_PRESENT" --env stale --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR"
expect_output_contains "provenance"
expect_output_contains "✗ REVISION_MISMATCH"
expect_output_contains "error[REVISION_MISMATCH] control-center revision: the config label (org.opencontainers.image.revision) names revision '$OLD_SHA', but this build is $SHA"
expect_exit 0 -- ig_gate -m "$REQUIRED" --env labelled --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR"
expect_output_contains "✓ rev ${SHA:0:12}"

section "bad policy input: the schema names it, a bad --revision or --key is a usage error"
BAD="$(gate_variant bad "$ENVS | .provenance = {revision: \"sometimes\"}")"
expect_exit 1 -- ig_gate -m "$BAD" --env labelled --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR"
expect_stderr_contains "SCHEMA_VIOLATION"
expect_stderr_contains "/provenance/revision"
expect_exit 2 -- ig_gate -m "$NONE" --env labelled --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" \
  --revision sometimes
expect_stderr_contains "--revision 'sometimes' is not one of required, if-present, off"
expect_exit 2 -- ig_gate -m "$NONE" --env labelled --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" \
  --key "$SCRATCH/no-such.pub"
expect_stderr_contains "--key"

section "pin refuses evidence whose provenance failed"
TASK_DEF="$SCRATCH/task-definition.json"
jq -n '{family: "afu9", containerDefinitions: [
  {name: "control-center", image: "x/control-center:latest"},
  {name: "mcp-github", image: "x/mcp-github:latest"},
  {name: "mcp-deploy", image: "x/mcp-deploy:latest"},
  {name: "mcp-observability", image: "x/mcp-observability:latest"}]}' >"$TASK_DEF"
expect_exit 1 -- "$IMAGEGATE" pin -m "$IF_PRESENT" --no-color \
  --evidence "$SCRATCH/evidence.layout.stale-if-present.json" --task-def "$TASK_DEF" \
  -o "$SCRATCH/pinned.json"
expect_output_contains "error[PROVENANCE_FAILED] control-center provenance: the evidence's provenance policy failed for 'control-center': its digest is not proven to be this commit's build"
[ ! -e "$SCRATCH/pinned.json" ] && pass "nothing pinned" || fail "a pinned file was written"
expect_exit 0 -- "$IMAGEGATE" pin -m "$REQUIRED" --no-color \
  --evidence "$SCRATCH/evidence.layout.labelled-required.json" --task-def "$TASK_DEF" \
  -o "$SCRATCH/pinned.json"

section "requests: the default revision check adds one config GET per image"
mapfile -t registry_args < <(backend_registry_args)
# The first tag of each image is a GET instead of a HEAD: its bytes are the manifest the revision
# is read from, so the manifest is never asked for twice.
for m in "$NONE" "$REQUIRED"; do
  mark="$(registry_log_mark)"
  expect_exit 0 -- ig_gate -m "$m" --env labelled --sha "$SHA" "${registry_args[@]}"
  requests="$(registry_requests_since "$mark")"
  expect_eq 8 "$(grep -c '^"HEAD /v2/afu9/[a-z-]*/manifests/lab-' <<<"$requests")" "$(basename "$m"): 8 tag HEADs"
  expect_eq 4 "$(grep -c '^"GET /v2/afu9/[a-z-]*/manifests/lab-[^ ]* HTTP/1.1" 200$' <<<"$requests")" \
    "$(basename "$m"): one tag GET per image"
  expect_eq 4 "$(grep -c '^"GET /v2/afu9/[a-z-]*/blobs/sha256:[0-9a-f]* HTTP/1.1" 200$' <<<"$requests")" \
    "$(basename "$m"): one config blob GET per image"
  expect_eq 16 "$(grep -c . <<<"$requests")" "$(basename "$m"): nothing else (no manifest by digest)"
done
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$NONE" --env labelled --sha "$SHA" "${registry_args[@]}" --revision off
expect_eq 12 "$(registry_requests_since "$mark" '^"HEAD ' | grep -c .)" "--revision off: the 12 HEADs only"
expect_eq 12 "$(registry_requests_since "$mark" | grep -c .)" "--revision off: nothing else"

section "every backend gave the same evidence"
table_agree comparable "${BACKENDS[@]}"

finish
