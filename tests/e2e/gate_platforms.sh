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
for arch in amd64 arm64; do
  child="$(index_children "afu9/control-center:prod-$SHA" "$arch")"
  expect_eq 1 "$(grep -c "^\"GET /v2/afu9/control-center/manifests/$child HTTP/1.1\" 200" <<<"$requests")" \
    "the $arch child manifest is read once by digest (three tags, one index)"
done
expect_eq 2 "$(grep -c '^"GET /v2/afu9/control-center/blobs/sha256:[0-9a-f]* HTTP/1.1" 200' <<<"$requests" || true)" \
  "each child's config blob is read once"
expect_eq 8 "$(grep -c . <<<"$requests")" \
  "3 HEADs, the index, 2 child manifests and 2 configs: nothing asked twice"

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

# Indexes whose children do not bear out their entries, each under its own tags (env = prefix).
DEPTH="$(gate_variant depth '.images = [.images[0] + {platforms: $p}] | .ecrRepositories = [.images[0].name]
  | .tagging.prefixes += {gone: "gone", liar: "liar", att: "att"}' --argjson p '["linux/amd64", "linux/arm64"]')"
push_depth_index() {  # ENV SPEC... : the index under ENV's three tags; prints its digest
  local env="$1" digest ref tag
  shift
  digest="$(image_push_index "afu9/control-center:$env-$SHA" "$@")" || return 1
  ref="$(index_layout_ref "afu9/control-center:$env-$SHA")"
  for tag in "$env-$SHORT" "$env-latest"; do
    image_push "$ref" "afu9/control-center:$tag" --all || return 1
  done
  printf '%s\n' "$digest"
}

section "an index pushed without its arm64 child: exit 1 CHILD_MISSING"
gone_digest="$(push_depth_index gone amd64 arm64)"
gone_child="$(index_children "afu9/control-center:gone-$SHA" arm64)"
registry_delete_manifest afu9/control-center "$gone_child"
expect_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/afu9/control-center/manifests/$gone_child")" \
  "the registry no longer has the arm64 child"
expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: application/vnd.oci.image.index.v1+json" \
  "$REGISTRY_URL/v2/afu9/control-center/manifests/gone-latest")" "while the tag still names the index"
mark="$(registry_log_mark)"
expect_exit 1 -- ig_gate -m "$DEPTH" --env gone --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[CHILD_MISSING] control-center linux/arm64: platform linux/arm64 of ${gone_digest:0:19}: child manifest ${gone_child:0:19} is not in the registry"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq "fail CHILD_MISSING linux/arm64 1" \
  "$(evidence_get '"\(.verdict) \(.findings[0].code) \(.findings[0].subject) \(.findings | length)"')" \
  "evidence: only the arm64 child is missing"
expect_eq 1 "$(registry_requests_since "$mark" "GET /v2/afu9/control-center/manifests/$gone_child " | grep -c .)" \
  "the missing child is asked for once"

section "an index entry that claims linux/arm64 for an amd64 image: exit 1 PLATFORM_MISMATCH"
liar_digest="$(push_depth_index liar amd64 amd64:arm64)"
liar_child="$(index_children "afu9/control-center:liar-$SHA" amd64:arm64)"
expect_exit 1 -- ig_gate -m "$DEPTH" --env liar --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[PLATFORM_MISMATCH] control-center linux/arm64: platform linux/arm64 of ${liar_digest:0:19}: the index entry claims linux/arm64 but its image ${liar_child:0:19} is built for linux/amd64"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq "fail PLATFORM_MISMATCH" "$(evidence_get '"\(.verdict) \(.findings[0].code)"')" \
  "evidence: the lie is a mismatch"

section "linux/arm64 only as an attestation entry: exit 1 PLATFORM_MISSING"
att_digest="$(push_depth_index att amd64 arm64+att)"
expect_exit 1 -- ig_gate -m "$DEPTH" --env att --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[PLATFORM_MISSING] control-center linux/arm64: platform linux/arm64 is not provided by ${att_digest:0:19}; found: linux/amd64"
expect_eq "linux/amd64" "$(evidence_get '.images[0].platforms | join(" ")')" \
  "the attestation entry is no platform of the image"

section "the same three on oci-layout:"
LAYOUTS="$SCRATCH/layouts"
for env in gone liar att; do
  for tag in "$env-$SHA" "$env-$SHORT" "$env-latest"; do
    layout_tag "$LAYOUTS/afu9/control-center" "$tag" "$(index_layout_ref "afu9/control-center:$env-$SHA")"
  done
done
rm "$LAYOUTS/afu9/control-center/blobs/sha256/${gone_child#sha256:}"
expect_exit 1 -- ig_gate -m "$DEPTH" --env gone --sha "$SHA" --registry "oci-layout:$LAYOUTS"
expect_output_contains "error[CHILD_MISSING] control-center linux/arm64: platform linux/arm64 of ${gone_digest:0:19}: child manifest ${gone_child:0:19} is not in the registry"
expect_exit 1 -- ig_gate -m "$DEPTH" --env liar --sha "$SHA" --registry "oci-layout:$LAYOUTS"
expect_output_contains "error[PLATFORM_MISMATCH] control-center linux/arm64: platform linux/arm64 of ${liar_digest:0:19}: the index entry claims linux/arm64 but its image ${liar_child:0:19} is built for linux/amd64"
expect_exit 1 -- ig_gate -m "$DEPTH" --env att --sha "$SHA" --registry "oci-layout:$LAYOUTS"
expect_output_contains "error[PLATFORM_MISSING] control-center linux/arm64: platform linux/arm64 is not provided by ${att_digest:0:19}; found: linux/amd64"
for tag in "prod-$SHA" "prod-$SHORT" prod-latest; do
  layout_tag "$LAYOUTS/afu9/control-center" "$tag" "$index_ref"
done
expect_exit 0 -- ig_gate -m "$BOTH" --env production --sha "$SHA" --registry "oci-layout:$LAYOUTS"
expect_output_contains "✓ gate passed"

section "without required platforms (and --revision off) nothing but the HEADs is asked"
NONE="$(gate_variant none '.images = [.images[0]] | .ecrRepositories = [.images[0].name]')"
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$NONE" --env staging --sha "$SHA" --registry "$REGISTRY_URL" --revision off
expect_eq "3 3" "$(registry_requests_since "$mark" | grep -c . || true) $(registry_requests_since "$mark" HEAD | grep -c . || true)" \
  "three requests, all HEAD"

finish
