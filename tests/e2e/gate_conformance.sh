#!/usr/bin/env bash
# One table of gate cases run against every registry backend: the same populated state must give the
# same exit code, the same findings and the same digests whether the images sit in a docker-registry
# (http://) or in on-disk OCI layouts (oci-layout:DIR).
#
# The table runs through lib/table.sh. Adding a backend (e.g. the ECR fake: `--registry ecr
# --endpoint-url ...`) means adding its name to BACKENDS and writing the functions table.sh names
# (start, populate, args) and backend_<name>_uri REPOSITORY, the repositoryUri the evidence must
# show.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2317 # backend functions are called by name
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
source "$E2E_LIB/table.sh"
require_cmd docker-registry umoci skopeo jq curl

SHA=0123456789abcdef0123456789abcdef01234567
OLD_SHA=fedcba9876543210fedcba9876543210fedcba98
BACKENDS=(registry layout)

# --- backends -------------------------------------------------------------------------------

backend_registry_start() { registry_start plain; }
backend_registry_populate() { push_manifest_images "$@"; }
backend_registry_args() { printf '%s\n' --registry "$REGISTRY_URL"; }
backend_registry_uri() { printf '%s/%s\n' "$REGISTRY_HOST" "$1"; }

LAYOUT_DIR="$SCRATCH/layouts"
backend_layout_start() { mkdir -p "$LAYOUT_DIR"; }
backend_layout_populate() { push_manifest_images "$@" --layout "$LAYOUT_DIR"; }
backend_layout_args() { printf '%s\n' --registry "oci-layout:$LAYOUT_DIR"; }
backend_layout_uri() { printf '%s\n' "$1"; }

# --- manifests and the populated state every case reads ----------------------------------------

gate_project "$TEST_DATA/e2e/images-manifest.json"
# One environment prefix per state, so the states never overlap.
ENVS="$(gate_variant envs '.tagging.prefixes += {mismatch: "mm", two: "two"}')"
# The "two" state read without mcp-observability: one tag missing in one image.
ONE_MISSING="$(gate_variant one-missing '.images |= map(select(.id != "mcp-observability"))
  | .ecrRepositories -= ["afu9/mcp-observability"] | .tagging.prefixes += {two: "two"}')"
EXTRA_REQUIRED="$(gate_variant extra-required '.images += [{id: "mcp-extra", name: "afu9/mcp-extra",
  dockerfile: "control-center/Dockerfile", context: ".", required: true,
  taskDefContainerName: "mcp-extra"}] | .ecrRepositories += ["afu9/mcp-extra"]
  | .tagging.prefixes += {mismatch: "mm"}')"
EXTRA_OPTIONAL="$GATE_DIR/extra-optional.json"
jq '.images[4].required = false' "$EXTRA_REQUIRED" >"$EXTRA_OPTIONAL"
# Its own optional repository, which only ever gets one tag of one environment.
PARTIAL="$(gate_variant partial '.images += [{id: "mcp-partial", name: "afu9/mcp-partial",
  dockerfile: "control-center/Dockerfile", context: ".", required: false,
  taskDefContainerName: "mcp-partial"}] | .ecrRepositories += ["afu9/mcp-partial"]
  | .tagging.prefixes += {two: "two"}')"

# populate_states BACKEND : everything the cases below expect, through the backend's populate function.
populate_states() {
  local populate="backend_$1_populate"
  "$populate" "$ENVS" production "$SHA" &&
    # An older build of mcp-github keeps mm-latest; the new build pushes every other tag.
    "$populate" "$ENVS" mismatch "$OLD_SHA" --skip afu9/control-center --skip afu9/mcp-deploy \
      --skip afu9/mcp-observability &&
    "$populate" "$ENVS" mismatch "$SHA" --skip afu9/mcp-github:mm-latest &&
    # One state for two cases: two problems in two images (read without mcp-partial) and an
    # optional image with one tag of three.
    "$populate" "$PARTIAL" two "$SHA" --skip "afu9/mcp-github:two-$SHA" \
      --skip afu9/mcp-observability:two-latest --skip "afu9/mcp-partial:two-$SHA" \
      --skip afu9/mcp-partial:two-latest
}

# --- the cases ------------------------------------------------------------------------------
# name | manifest | env | args | exit | findings ("SEVERITY CODE IMAGE SUBJECT", sorted, ';')
CASES=(
  "all-present|$ENVS|production||0|"
  "tag-missing|$ONE_MISSING|two||1|error TAG_MISSING mcp-github two-$SHA"
  "repository-missing|$EXTRA_REQUIRED|production||1|error REPOSITORY_MISSING mcp-extra "
  "digest-mismatch|$ENVS|mismatch||1|error DIGEST_MISMATCH mcp-github "
  "optional-missing|$EXTRA_OPTIONAL|production||0|warning REPOSITORY_MISSING mcp-extra "
  "optional-partly-present|$PARTIAL|two||1|error TAG_MISSING mcp-github two-$SHA;error TAG_MISSING mcp-observability two-latest;error TAG_MISSING mcp-partial two-$SHA;error TAG_MISSING mcp-partial two-latest"
  "optional-no-tag-of-this-env|$PARTIAL|production||0|warning TAG_MISSING mcp-partial "
  "two-problems|$ENVS|two||1|error TAG_MISSING mcp-github two-$SHA;error TAG_MISSING mcp-observability two-latest"
)

# The part of the evidence that must not depend on the backend.
comparable() {
  jq -S '{verdict, findings: [.findings[] | {severity, code, image, subject}],
    images: [.images[] | {id, status, digest, required,
      tags: [.tags[] | {tag, status, digest}]}]}' "$1"
}

# What every case must show beyond its findings and verdict.
table_case_checks() {
  local backend="$1" name="$2" manifest="$3" evidence="$4" want_uris="" repository got want
  for repository in $(jq -r '.images[].name' "$manifest"); do
    want_uris+="$repository $("backend_${backend}_uri" "$repository")"$'\n'
  done
  expect_eq "${want_uris%$'\n'}" \
    "$(evidence_get '.images[] | "\(.repository) \(.repositoryUri)"' "$evidence")" \
    "$backend $name: every image's repositoryUri"
  if [ "$name" = all-present ]; then
    # Every image's digest is the one this backend was populated with.
    got="$(evidence_get '.images[] | "\(.repository) \(.digest)"' "$evidence" | sort)"
    want="$(awk -v t="prod-latest" '$2 == t { print $1, $3 }' "$SCRATCH/pushed.$backend" | sort)"
    expect_eq "$want" "$got" "$backend $name: evidence digests are the populated ones"
  fi
  if [ "$name" = digest-mismatch ]; then
    expect_output_contains "mm-latest -> sha256:"
  fi
}

for backend in "${BACKENDS[@]}"; do
  table_run "$backend"
done

section "oci-layout root that does not exist: UNREACHABLE, even when every image is optional"
ALL_OPTIONAL="$(gate_variant all-optional '.images[].required = false')"
expect_exit 1 -- ig_gate -m "$ALL_OPTIONAL" --env production --sha "$SHA" \
  --registry "oci-layout:$SCRATCH/no-such-dir" --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[UNREACHABLE] control-center: repository 'afu9/control-center': oci-layout root $SCRATCH/no-such-dir is not a directory"
expect_output_contains "✗ gate failed: 4 errors, 0 warnings"
expect_eq "fail UNREACHABLE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "evidence: UNREACHABLE only"
expect_exit 0 -- ig_gate -m "$ALL_OPTIONAL" --env production --sha "$SHA" \
  --registry "oci-layout:$LAYOUT_DIR"
expect_output_contains "✓ gate passed"

section "a corrupt blob in a layout: exit 1 BAD_RESPONSE"
cp -r "$LAYOUT_DIR" "$SCRATCH/corrupt"
digest="$(awk '$1 == "afu9/mcp-deploy" && $2 == "prod-latest" { d = $3 } END { print d }' \
  "$SCRATCH/pushed.layout")"
blob="$SCRATCH/corrupt/afu9/mcp-deploy/blobs/sha256/${digest#sha256:}"
chmod u+w "$blob"
printf '{"schemaVersion":2}' >"$blob"
expect_exit 1 -- ig_gate -m "$ENVS" --env production --sha "$SHA" \
  --registry "oci-layout:$SCRATCH/corrupt" --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[BAD_RESPONSE] mcp-deploy prod-latest: tag 'prod-latest': afu9/mcp-deploy:prod-latest: blob $digest hashes to"
expect_output_contains "✗ gate failed: 3 errors, 0 warnings"
expect_eq "fail mcp-deploy" "$(evidence_get '"\(.verdict) \([.findings[].image] | unique | join(","))"')" \
  "only mcp-deploy fails"

section "the manifest's registry: oci-layout:DIR relative to the manifest's folder"
RELATIVE="$(gate_variant relative '.registry = "oci-layout:../layouts"')"
expect_exit 0 -- ig_gate -m "$RELATIVE" --env production --sha "$SHA"
expect_output_contains "gate production @ 0123456789ab on oci-layout:"
expect_output_contains "✓ gate passed"

section "every backend gave the same evidence"
table_agree comparable "${BACKENDS[@]}"

finish
