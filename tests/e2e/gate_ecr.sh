#!/usr/bin/env bash
# gate against ECR: the built binary against the fake AWS (tests/fakes/fake_aws) on 127.0.0.1,
# populated with the afu9 example's four repositories. Exit codes and finding codes for every way a
# push can be incomplete or the API can fail, the platforms read from config blobs and indexes,
# and the number of API calls from the fake's counters (one DescribeRepositories per 100
# repositories, one BatchGetImage per repository).
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
require_cmd jq curl sha256sum

AKID=AKIAFAKEGATEECR00001
SECRET=gateEcrSecretKey0123456789abcdefghijklmn
EXPIRED_AKID=ASIAFAKEGATEEXPIRED1
EXPIRED_SECRET=expiredGateSecret0123456789abcdefghijk
EXPIRED_TOKEN=expired-gate-session-token
SHA=0123456789abcdef0123456789abcdef01234567
SHORT=${SHA:0:7}
EXAMPLE=$SOURCE_DIR/examples/afu9
M=$EXAMPLE/images-manifest.json
REPOS=(afu9/control-center afu9/mcp-github afu9/mcp-deploy afu9/mcp-observability)
TAGS=("prod-$SHA" "prod-$SHORT" "prod-latest")
e2e_secret "$SECRET" "$EXPIRED_SECRET" "$EXPIRED_TOKEN" wrongSecretKey0123456789abcdefghijklmnop

sha256_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# An image config blob for one repository and architecture (distinct per repository, so every
# repository has its own digest), labelled with the revision it was built from (the gate's
# default revision check reads it).
config_of() {
  printf '{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"repository":"%s","org.opencontainers.image.revision":"%s"}}}' \
    "$2" "$1" "$SHA"
}

manifest_of() {
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}' \
    "$(sha256_of "$1")" "${#1}"
}

# repositories_json REPO... : every repository IMMUTABLE with one single-platform (linux/amd64)
# image carrying the three production tags, its config blob stored.
repositories_json() {
  local repos='{}' r cfg man
  for r in "$@"; do
    cfg="$(config_of "$r" amd64)"
    man="$(manifest_of "$cfg")"
    repos="$(jq -c --arg r "$r" --arg c "$cfg" --arg m "$man" --arg t1 "${TAGS[0]}" \
      --arg t2 "${TAGS[1]}" --arg t3 "${TAGS[2]}" \
      '.[$r] = {imageTagMutability: "IMMUTABLE", images: [{manifest: $m, tags: [$t1, $t2, $t3]}],
                blobs: [$c]}' <<<"$repos")"
  done
  printf '%s\n' "$repos"
}

credentials_json() {
  jq -nc --arg a "$AKID" --arg s "$SECRET" --arg ea "$EXPIRED_AKID" --arg es "$EXPIRED_SECRET" \
    --arg et "$EXPIRED_TOKEN" \
    '[{accessKeyId: $a, secretAccessKey: $s},
      {accessKeyId: $ea, secretAccessKey: $es, sessionToken: $et, expiration: "2020-01-01T00:00:00Z"}]'
}

BASE_STATE="$(jq -nc --argjson c "$(credentials_json)" --argjson r "$(repositories_json "${REPOS[@]}")" \
  '{credentials: $c, repositories: $r}')"

# Every scenario starts from the complete push, no faults, zero counters.
reset_fake() {
  fake_aws_set_state "$BASE_STATE" >/dev/null
  fake_aws_faults '{"throttle":{"count":0},"internalFailure":{"count":0},"delayMs":0}' >/dev/null
  fake_aws_reset_counters >/dev/null
}

# A variant of the example manifest in the scratch folder (paths still resolve against the
# example through --root).
manifest_variant() {  # NAME JQ_FILTER
  jq "$2" "$M" >"$SCRATCH/$1.json"
  printf '%s\n' "$SCRATCH/$1.json"
}

gate() {  # MANIFEST ARGS...  (REGISTRY, default ecr, picks the registry URL)
  local manifest="$1"
  shift
  "$IMAGEGATE" gate -m "$manifest" --root "$EXAMPLE" --env production --sha "$SHA" --no-color \
    --registry "${REGISTRY:-ecr}" --endpoint-url "$FAKE_AWS_URL" --region eu-central-1 "$@"
}

printf '%s' "$BASE_STATE" >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
unset AWS_ENDPOINT_URL  # the endpoint comes from --endpoint-url, as the suite means to test
export AWS_EC2_METADATA_DISABLED=true

section "every image pushed with every tag"
reset_fake
expect_exit 0 -- gate "$M" --evidence-out "$SCRATCH/evidence.json"
expect_eq 1 "$(fake_aws_count DescribeRepositories)" "one DescribeRepositories for 4 repositories"
expect_eq 4 "$(fake_aws_count BatchGetImage)" "one BatchGetImage per repository"
expect_eq 4 "$(fake_aws_count DescribeImages)" "one DescribeImages per repository (imageStatus)"
# The default revision check reads each image's config blob; the manifest came with BatchGetImage.
expect_eq 4 "$(fake_aws_count GetDownloadUrlForLayer)" "one GetDownloadUrlForLayer per image (the revision label)"
expect_eq 4 "$(fake_aws_count BlobDownload)" "one config blob download per image"
expect_eq 0 "$(jq '[.images[].findings[]] | length' "$SCRATCH/evidence.json")" "every revision label is this build's"
want_digest="sha256:$(sha256_of "$(manifest_of "$(config_of afu9/mcp-deploy amd64)")")"
expect_eq "$want_digest" \
  "$(jq -r '.images[] | select(.repository == "afu9/mcp-deploy") | .digest' "$SCRATCH/evidence.json")" \
  "evidence holds the digest of the pushed manifest"
expect_eq "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/mcp-deploy" \
  "$(jq -r '.images[] | select(.repository == "afu9/mcp-deploy") | .repositoryUri' "$SCRATCH/evidence.json")" \
  "evidence holds the repository URI from DescribeRepositories"
expect_not_contains TAG_MUTABLE
expect_not_contains "$SECRET"

section "a missing tag"
reset_fake
fake_aws_merge_state "$(jq -c --arg t "prod-$SHORT" '.repositories["afu9/mcp-deploy"].images[0].tags -= [$t]' <<<"$BASE_STATE" | jq -c '{repositories: {"afu9/mcp-deploy": .repositories["afu9/mcp-deploy"]}}')" >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains TAG_MISSING
expect_output_contains "prod-$SHORT"

section "a missing repository"
reset_fake
fake_aws_merge_state '{"repositories":{"afu9/mcp-github":null}}' >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains REPOSITORY_MISSING
expect_output_contains afu9/mcp-github
expect_eq 2 "$(fake_aws_count DescribeRepositories)" "the missing name is dropped and the rest asked once more"
expect_eq 3 "$(fake_aws_count BatchGetImage)" "no BatchGetImage for the missing repository"

section "-latest on another digest"
reset_fake
other="$(manifest_of "$(config_of afu9/control-center-old amd64)")"
printf '%s' "$other" >"$SCRATCH/old-manifest.json"
fake_aws_add_image afu9/control-center prod-latest "$SCRATCH/old-manifest.json" >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains DIGEST_MISMATCH

section "an optional image not pushed"
reset_fake
fake_aws_merge_state '{"repositories":{"afu9/mcp-observability":null}}' >/dev/null
optional="$(manifest_variant optional '(.images[] | select(.id == "mcp-observability") | .required) = false')"
expect_exit 0 -- gate "$optional"
expect_output_contains REPOSITORY_MISSING

section "mutable repository and moving tags"
reset_fake
fake_aws_merge_state '{"repositories":{"afu9/mcp-deploy":{"imageTagMutability":"MUTABLE"}}}' >/dev/null
expect_exit 0 -- gate "$M"
expect_output_contains TAG_MUTABLE
expect_output_contains "tag 'prod-latest' can be moved after the gate"

section "platforms from the config blob"
reset_fake
amd="$(manifest_variant amd '(.images[] | select(.id == "control-center") | .platforms) = ["linux/amd64"]')"
expect_exit 0 -- gate "$amd" --evidence-out "$SCRATCH/amd-evidence.json"
expect_eq "linux/amd64" "$(jq -r '.images[] | select(.id == "control-center") | .platforms | join(",")' "$SCRATCH/amd-evidence.json")" \
  "the platform read from the config blob is in the evidence"
# One for the platform, read by the tag lookup, and one per image for the revision label.
expect_eq 5 "$(fake_aws_count GetDownloadUrlForLayer)" "one GetDownloadUrlForLayer for the three tags' one config, 4 for the revisions"
expect_eq 5 "$(fake_aws_count BlobDownload)" "one config blob download for the platform, 4 for the revisions"
# -vv logs every request, the presigned blob download included: its signature stays out.
expect_exit 0 -- gate "$amd" -vv
expect_stderr_contains "/_fake/blobs/afu9/control-center/sha256:"
expect_stderr_contains "X-Amz-Signature=REDACTED"
if grep -qE 'X-Amz-Signature=[0-9a-f]' "$LAST_OUT" "$LAST_ERR"; then
  fail "the presigned URL's signature is in the -vv output"
else
  pass "the presigned URL's signature is not in the -vv output"
fi
expect_not_contains "$SECRET"
arm="$(manifest_variant arm '(.images[] | select(.id == "control-center") | .platforms) = ["linux/arm64"]')"
expect_exit 1 -- gate "$arm"
expect_output_contains PLATFORM_MISSING
expect_not_contains X-Amz-Signature

section "platforms from an index"
reset_fake
amd_cfg="$(config_of afu9/mcp-github amd64)"
arm_cfg="$(config_of afu9/mcp-github arm64)"
amd_man="$(manifest_of "$amd_cfg")"
arm_man="$(manifest_of "$arm_cfg")"
index="$(jq -nc --arg a "sha256:$(sha256_of "$amd_man")" --argjson asz "${#amd_man}" \
  --arg b "sha256:$(sha256_of "$arm_man")" --argjson bsz "${#arm_man}" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
     {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $asz,
      platform: {os: "linux", architecture: "amd64"}},
     {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $bsz,
      platform: {os: "linux", architecture: "arm64", variant: "v8"}}]}')"
# ecr_index CHILDREN_JSON INDEX : mcp-github holds the children (untagged) and the index under the
# three production tags, with the config blobs of the children.
ecr_index() {
  fake_aws_merge_state "$(jq -nc --argjson c "$1" --arg i "$2" --arg ac "$amd_cfg" --arg bc "$arm_cfg" \
    --arg t1 "${TAGS[0]}" --arg t2 "${TAGS[1]}" --arg t3 "${TAGS[2]}" \
    '{repositories: {"afu9/mcp-github": {images: ([$c[] | {manifest: ., tags: []}]
                                                  + [{manifest: $i, tags: [$t1, $t2, $t3]}]),
                                         blobs: [$ac, $bc]}}}')" >/dev/null
}
ecr_index "$(jq -nc --arg a "$amd_man" --arg b "$arm_man" '[$a, $b]')" "$index"
multi="$(manifest_variant multi '(.images[] | select(.id == "mcp-github") | .platforms) = ["linux/amd64", "linux/arm64"]')"
expect_exit 0 -- gate "$multi" --evidence-out "$SCRATCH/multi-evidence.json"
expect_eq "linux/amd64,linux/arm64/v8" "$(jq -r '.images[] | select(.id == "mcp-github") | .platforms | join(",")' "$SCRATCH/multi-evidence.json")" \
  "the index entries' platforms are in the evidence"
# The platform depth check and the revision check each read the index's children and their
# configs today (one batch each): 4 + 1 + 1 BatchGetImage, and 3 single-image configs for the
# revision + 2 child configs for the platforms + the same 2 for the revision.
expect_eq 6 "$(fake_aws_count BatchGetImage)" \
  "one BatchGetImage per repository, one for the index's children (platforms), one for them again (revision)"
expect_eq 7 "$(fake_aws_count GetDownloadUrlForLayer)" "3 revision configs, 2 child configs for the platforms, 2 for the revision"

section "an index whose arm64 child was never pushed: CHILD_MISSING"
reset_fake
ecr_index "$(jq -nc --arg a "$amd_man" '[$a]')" "$index"
index_digest="sha256:$(sha256_of "$index")"
arm_digest="sha256:$(sha256_of "$arm_man")"
expect_exit 1 -- gate "$multi"
expect_output_contains "error[CHILD_MISSING] mcp-github linux/arm64: platform linux/arm64 of ${index_digest:0:19}: child manifest ${arm_digest:0:19} is not in the registry"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"

section "an index entry claiming arm64 for an amd64 image: PLATFORM_MISMATCH"
reset_fake
liar="$(jq -c --arg a "sha256:$(sha256_of "$amd_man")" '.manifests[1].digest = $a' <<<"$index")"
ecr_index "$(jq -nc --arg a "$amd_man" '[$a]')" "$liar"
expect_exit 1 -- gate "$multi"
expect_output_contains "error[PLATFORM_MISMATCH] mcp-github linux/arm64: platform linux/arm64 of sha256:$(sha256_of "$liar" | cut -c1-12): the index entry claims linux/arm64/v8 but its image sha256:$(sha256_of "$amd_man" | cut -c1-12) is built for linux/amd64"

section "arm64 only as an attestation entry: PLATFORM_MISSING"
reset_fake
att="$(jq -c '.manifests[1].annotations = {"vnd.docker.reference.type": "attestation-manifest"}' <<<"$index")"
ecr_index "$(jq -nc --arg a "$amd_man" --arg b "$arm_man" '[$a, $b]')" "$att"
expect_exit 1 -- gate "$multi"
expect_output_contains "error[PLATFORM_MISSING] mcp-github linux/arm64: platform linux/arm64 is not provided by sha256:$(sha256_of "$att" | cut -c1-12); found: linux/amd64"
s390="$(manifest_variant s390 '(.images[] | select(.id == "mcp-github") | .platforms) = ["linux/s390x"]')"
expect_exit 1 -- gate "$s390"
expect_output_contains PLATFORM_MISSING

section "an ARCHIVED image is listed but cannot be pulled: IMAGE_NOT_PULLABLE"
reset_fake
fake_aws_merge_state "$(jq -c '{repositories: {"afu9/mcp-deploy": (.repositories["afu9/mcp-deploy"]
  | .images[0].imageStatus = "ARCHIVED")}}' <<<"$BASE_STATE")" >/dev/null
expect_exit 1 -- gate "$M" --evidence-out "$SCRATCH/archived-evidence.json"
expect_output_contains "error[IMAGE_NOT_PULLABLE] mcp-deploy prod-$SHA: ${want_digest:0:19} in 'afu9/mcp-deploy' cannot be pulled: its imageStatus is ARCHIVED, not ACTIVE (restore it with UpdateImageStorageClass)"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq "fail IMAGE_NOT_PULLABLE" \
  "$(jq -r '"\(.verdict) \(.findings[0].code)"' "$SCRATCH/archived-evidence.json")" "evidence: not pullable"
reset_fake
fake_aws_merge_state "$(jq -c '{repositories: {"afu9/mcp-deploy": (.repositories["afu9/mcp-deploy"]
  | .images[0].imageStatus = "ACTIVATING")}}' <<<"$BASE_STATE")" >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains "error[IMAGE_NOT_PULLABLE] mcp-deploy prod-$SHA: ${want_digest:0:19} in 'afu9/mcp-deploy' cannot be pulled: its imageStatus is ACTIVATING, not ACTIVE"

section "throttled twice, then answered"
reset_fake
fake_aws_faults '{"throttle":{"count":2,"operation":"BatchGetImage"}}' >/dev/null
expect_exit 0 -- gate "$M"
expect_eq 6 "$(fake_aws_count BatchGetImage)" "the two throttled calls were retried"

section "throttled on every attempt"
reset_fake
fake_aws_faults '{"throttle":{"count":1000,"operation":"BatchGetImage"}}' >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains THROTTLED
expect_eq 12 "$(fake_aws_count BatchGetImage)" "three attempts per repository, then fail closed"

section "internal failures on DescribeRepositories"
reset_fake
fake_aws_faults '{"internalFailure":{"count":1000,"operation":"DescribeRepositories"}}' >/dev/null
expect_exit 1 -- gate "$M"
expect_output_contains "error[AWS_ERROR] control-center: repository 'afu9/control-center': ecr DescribeRepositories: InternalFailure: "
expect_output_contains "(HTTP 500, request id "
expect_output_contains ") after 3 attempts"
expect_eq 4 "$(grep -c '^error\[AWS_ERROR\] .*InternalFailure' "$LAST_OUT" || :)" "every image fails closed with AWS_ERROR"
expect_eq 3 "$(fake_aws_count DescribeRepositories)" "one call for the four repositories, retried twice (3 attempts), no more"

section "wrong secret key"
reset_fake
expect_exit 1 -- env AWS_SECRET_ACCESS_KEY=wrongSecretKey0123456789abcdefghijklmnop "$IMAGEGATE" gate -m "$M" \
  --env production --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1
expect_output_contains AUTH_FAILED
expect_not_contains wrongSecretKey0123456789abcdefghijklmnop
expect_not_contains wrongSecretKey0123456789abcdefghijklmnop "$FAKE_AWS_LOG"

section "expired session credentials"
reset_fake
expect_exit 1 -- env AWS_ACCESS_KEY_ID="$EXPIRED_AKID" AWS_SECRET_ACCESS_KEY="$EXPIRED_SECRET" \
  AWS_SESSION_TOKEN="$EXPIRED_TOKEN" "$IMAGEGATE" gate -m "$M" --env production --sha "$SHA" \
  --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1
expect_output_contains AUTH_FAILED
expect_output_contains ExpiredTokenException
expect_not_contains "$EXPIRED_TOKEN"
expect_not_contains "$EXPIRED_SECRET"

section "usage errors"
expect_exit 2 -- env -u AWS_REGION -u AWS_DEFAULT_REGION "$IMAGEGATE" gate -m "$M" --env production \
  --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL"
expect_stderr_contains "no AWS region"
REGISTRY=ecr://eu-central expect_exit 2 -- gate "$M"
expect_stderr_contains "expected 'ecr', 'ecr://REGION'"
REGISTRY=ecr://123456789012.dkr.ecr.us-east-1.amazonaws.com expect_exit 2 -- gate "$M"
expect_stderr_contains "contradicts"

section "the region and account from the registry host"
reset_fake
expect_exit 0 -- env -u AWS_REGION -u AWS_DEFAULT_REGION "$IMAGEGATE" gate -m "$M" --env production \
  --sha "$SHA" --no-color --registry ecr://123456789012.dkr.ecr.eu-central-1.amazonaws.com \
  --endpoint-url "$FAKE_AWS_URL"
expect_exit 1 -- env -u AWS_REGION -u AWS_DEFAULT_REGION "$IMAGEGATE" gate -m "$M" --env production \
  --sha "$SHA" --no-color --registry ecr://999999999999.dkr.ecr.eu-central-1.amazonaws.com \
  --endpoint-url "$FAKE_AWS_URL"
expect_output_contains REPOSITORY_MISSING

section "150 repositories"
mkdir -p "$SCRATCH/bulk"
printf 'FROM scratch\n' >"$SCRATCH/bulk/Dockerfile"
bulk_names=()
for i in $(seq -w 1 150); do bulk_names+=("bulk/r$i"); done
jq -n --args '{version: "1.0.0",
  images: [$ARGS.positional[] | {id: (. | sub("/"; "-")), name: ., dockerfile: "Dockerfile",
           context: ".", required: true, taskDefContainerName: (. | sub("/"; "-"))}],
  ecrRepositories: $ARGS.positional,
  tagging: {strategy: "git-sha", prefixes: {production: "prod"},
            alwaysTag: ["{prefix}-{full_sha}", "{prefix}-{short_sha}", "{prefix}-latest"]}}' \
  "${bulk_names[@]}" >"$SCRATCH/bulk/images-manifest.json"
fake_aws_set_state "$(repositories_json "${bulk_names[@]}" |
  jq -c --argjson c "$(credentials_json)" '{credentials: $c, repositories: .}')" >/dev/null
fake_aws_reset_counters >/dev/null
expect_exit 0 -- "$IMAGEGATE" gate -m "$SCRATCH/bulk/images-manifest.json" --env production \
  --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1
expect_eq 2 "$(fake_aws_count DescribeRepositories)" "two DescribeRepositories for 150 repositories"
expect_eq 150 "$(fake_aws_count BatchGetImage)" "one BatchGetImage per repository"

expect_not_contains "$SECRET" "$FAKE_AWS_LOG"
finish
