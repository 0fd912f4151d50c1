#!/usr/bin/env bash
# `imagegate gate` with required platforms against a real docker-registry: a multi-arch OCI index
# provides what it lists and nothing else, and a single-arch image is judged by the platform in its
# config blob (which the gate must read, not guess).
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2016 # $p and the like are jq variables
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
require_cmd docker-registry umoci skopeo jq curl

SHA=0123456789abcdef0123456789abcdef01234567
SHORT=${SHA:0:7}
gate_project "$TEST_DATA/e2e/images-manifest.json"
# One image is enough to judge platforms; the others are covered by gate_oci.sh.
platforms_manifest() {
  gate_variant "$1" '.images = [.images[0] + {platforms: $p}] | .ecrRepositories = [.images[0].name]' \
    --argjson p "$2"
}
BOTH="$(platforms_manifest both '["linux/amd64", "linux/arm64"]')"
S390X="$(platforms_manifest s390x '["linux/amd64", "linux/s390x"]')"
AMD64="$(platforms_manifest amd64 '["linux/amd64"]')"
ARM64="$(platforms_manifest arm64 '["linux/arm64"]')"

registry_start plain
section "populating: production tags on a linux/amd64+linux/arm64 index, staging on an arm64 image"
index_digest="$(image_push_index "afu9/control-center:prod-$SHA" amd64 arm64)"
# Every tag from the index layout with --all: a registry-to-registry retag would copy one platform.
index_ref="$(index_layout_ref "afu9/control-center:prod-$SHA")"
image_push "$index_ref" "afu9/control-center:prod-$SHORT" --all
image_push "$index_ref" afu9/control-center:prod-latest --all
arm_ref="$(image_build arm-only "afu9/control-center arm64 only" arm64)"
arm_digest="$(image_digest "$arm_ref")"
image_push_tags "$arm_ref" afu9/control-center "stage-$SHA" "stage-$SHORT" stage-latest
arm_config="$(jq -r .config.digest "$SCRATCH/images/arm-only/blobs/sha256/${arm_digest#sha256:}")"

section "multi-arch index with both required platforms: exit 0"
mark="$(registry_log_mark)"
# --revision off: these counts are the platform reads alone (gate_provenance counts the revision's).
expect_exit 0 -- ig_gate -m "$BOTH" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE" --revision off
expect_output_contains "✓ gate passed"
expect_eq "pass $index_digest" "$(evidence_get '"\(.verdict) \(.images[0].digest)"')" \
  "evidence pins the index digest"
expect_eq "linux/amd64 linux/arm64" "$(evidence_get '.images[0].platforms | join(" ")')" \
  "evidence lists the index's platforms"
expect_eq "linux/amd64 linux/arm64" "$(evidence_get '.images[0].requiredPlatforms | join(" ")')" \
  "evidence lists the required platforms"
expect_eq application/vnd.oci.image.index.v1+json \
  "$(evidence_get '[.images[0].tags[].mediaType] | unique | join(" ")')" "tags are the index"
requests="$(registry_requests_since "$mark")"
expect_eq 1 "$(grep -c "^\"GET /v2/afu9/control-center/manifests/$index_digest HTTP/1.1\" 200" <<<"$requests")" \
  "the index is read once by digest (not once per tag)"
expect_eq 0 "$(grep -c '/blobs/' <<<"$requests" || true)" "an index needs no config blob"

section "an index without a required platform: exit 1 PLATFORM_MISSING"
expect_exit 1 -- ig_gate -m "$S390X" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[PLATFORM_MISSING] control-center linux/s390x: platform linux/s390x is not provided by ${index_digest:0:19}; found: linux/amd64, linux/arm64"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq "fail PLATFORM_MISSING linux/s390x" \
  "$(evidence_get '"\(.verdict) \(.findings[0].code) \(.findings[0].subject)"')" \
  "evidence: only linux/s390x is missing"

section "a single-arch arm64 image where linux/amd64 is required: the config blob decides"
mark="$(registry_log_mark)"
expect_exit 1 -- ig_gate -m "$AMD64" --env staging --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE" --revision off
expect_output_contains "error[PLATFORM_MISSING] control-center linux/amd64: platform linux/amd64 is not provided by ${arm_digest:0:19}; found: linux/arm64"
expect_eq "fail linux/arm64" "$(evidence_get '"\(.verdict) \(.images[0].platforms | join(" "))"')" \
  "evidence records the platform found in the config"
requests="$(registry_requests_since "$mark")"
expect_eq 1 "$(grep -c "^\"GET /v2/afu9/control-center/blobs/$arm_config HTTP/1.1\" 200" <<<"$requests")" \
  "the registry log shows one GET of the config blob"
expect_eq 1 "$(grep -c "^\"GET /v2/afu9/control-center/manifests/$arm_digest HTTP/1.1\" 200" <<<"$requests")" \
  "and one GET of the manifest by digest"

section "the same image where linux/arm64 is required: exit 0"
expect_exit 0 -- ig_gate -m "$ARM64" --env staging --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_eq "pass $arm_digest linux/arm64" \
  "$(evidence_get '"\(.verdict) \(.images[0].digest) \(.images[0].platforms | join(" "))"')" \
  "evidence: the arm64 image passes"

section "Docker schema 2: a manifest list and a single image are judged like their OCI twins"
DOCKER_BOTH="$(gate_variant docker-both '.images = [.images[0] + {platforms: $p}]
  | .ecrRepositories = [.images[0].name] | .tagging.prefixes += {docker: "dk", single: "one"}' \
  --argjson p '["linux/amd64", "linux/arm64"]')"
DOCKER_AMD64="$GATE_DIR/docker-amd64.json"
jq '.images[0].platforms = ["linux/amd64"]' "$DOCKER_BOTH" >"$DOCKER_AMD64"
list_digests=()
for tag in "dk-$SHA" "dk-$SHORT" dk-latest; do
  list_digests+=("$(image_push_as v2s2 "$index_ref" "afu9/control-center:$tag" --all)")
done
expect_eq 1 "$(printf '%s\n' "${list_digests[@]}" | sort -u | wc -l | tr -d ' ')" \
  "the three tags name one manifest list"
expect_exit 0 -- ig_gate -m "$DOCKER_BOTH" --env docker --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "✓ gate passed"
expect_eq "pass ${list_digests[0]} linux/amd64 linux/arm64" \
  "$(evidence_get '"\(.verdict) \(.images[0].digest) \(.images[0].platforms | join(" "))"')" \
  "evidence pins the manifest list, not one of its children"
expect_eq application/vnd.docker.distribution.manifest.list.v2+json \
  "$(evidence_get '[.images[0].tags[].mediaType] | unique | join(" ")')" "media type of a manifest list"
single_digests=()
for tag in "one-$SHA" "one-$SHORT" one-latest; do
  single_digests+=("$(image_push_as v2s2 "$arm_ref" "afu9/control-center:$tag")")
done
expect_exit 1 -- ig_gate -m "$DOCKER_AMD64" --env single --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[PLATFORM_MISSING] control-center linux/amd64: platform linux/amd64 is not provided by ${single_digests[0]:0:19}; found: linux/arm64"
expect_eq application/vnd.docker.distribution.manifest.v2+json \
  "$(evidence_get '[.images[0].tags[].mediaType] | unique | join(" ")')" "media type of a schema 2 image"

section "without required platforms (and --revision off) nothing but the HEADs is asked"
NONE="$(gate_variant none '.images = [.images[0]] | .ecrRepositories = [.images[0].name]')"
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$NONE" --env staging --sha "$SHA" --registry "$REGISTRY_URL" --revision off
expect_eq "3 3" "$(registry_requests_since "$mark" | grep -c . || true) $(registry_requests_since "$mark" HEAD | grep -c . || true)" \
  "three requests, all HEAD"

finish
