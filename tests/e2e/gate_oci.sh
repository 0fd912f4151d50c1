#!/usr/bin/env bash
# `imagegate gate` against a real anonymous docker-registry: the verdicts of the acceptance list
# (all present, tag missing, repository missing, digest mismatch, optional images, every finding
# reported), the evidence document, JSON output, an unreachable registry, every usage error with
# its exact message, and the requests the gate makes (one request per tag: a GET for each image's
# first tag, whose bytes the default revision check reads, HEADs for the rest; one config blob
# per image).
#
# Scenarios share one registry: each gets its own environment prefix in a derived manifest, so
# its tags are independent of the others' and nothing needs deleting.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2016,SC2317 # $r and the like are jq variables; functions run via expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
require_cmd docker-registry umoci skopeo jq curl sha256sum

SHA=0123456789abcdef0123456789abcdef01234567
OLD_SHA=fedcba9876543210fedcba9876543210fedcba98
SHORT=${SHA:0:7}
gate_project "$TEST_DATA/e2e/images-manifest.json"
BASE="$GATE_MANIFEST"
# One environment per scenario: prod (all present), miss (one tag missing), two (two problems in
# two images), mm (-latest left on an older build).
ENVS="$(gate_variant envs '.tagging.prefixes += {missing: "miss", two: "two", mismatch: "mm"}')"

section "usage errors exit 2 with the exact message and touch no registry"
NOWHERE=http://127.0.0.1:1
expect_exit 2 -- ig_gate -m "$BASE" --sha "$SHA" --registry "$NOWHERE"
expect_stderr_contains "imagegate gate: --env (or DEPLOY_ENV) is required; known environments: 'production', 'staging'"
expect_exit 2 -- ig_gate -m "$BASE" --env production --registry "$NOWHERE"
expect_stderr_contains "imagegate gate: --sha (or GIT_SHA) is required: the full commit SHA of the build"
expect_exit 2 -- ig_gate -m "$BASE" --env qa --sha "$SHA" --registry "$NOWHERE"
expect_stderr_contains "imagegate gate: --env 'qa' is not an environment of tagging.prefixes; known: 'production', 'staging'"
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha abc123 --registry "$NOWHERE"
expect_stderr_contains "imagegate gate: --sha 'abc123' is not a commit SHA; expected 40 (or 64) lower-case hex characters"
# Through a function: the suite's own "ok - <command>" line must not carry the raw newline or
# escape either (a CI log would read "::error::" at a line start as a workflow command).
gate_newline_sha() {
  ig_gate -m "$BASE" --env production --sha "$SHA"$'\n::error::x' --registry "$NOWHERE"
}
gate_escape_sha() {
  ig_gate -m "$BASE" --env production --sha $'\e[31mred' --registry "$NOWHERE"
}
expect_exit 2 -- gate_newline_sha
expect_stderr_contains "imagegate gate: --sha '$SHA\n::error::x' is not a commit SHA"
expect_eq 1 "$(wc -l <"$LAST_ERR" | tr -d ' ')" "the newline in --sha is shown escaped (one line of stderr)"
expect_exit 2 -- gate_escape_sha
expect_stderr_contains "imagegate gate: --sha '\x1b[31mred' is not a commit SHA"
if grep -q $'\e' "$LAST_ERR"; then fail "a raw ESC byte reached stderr"; else pass "no raw ESC byte in stderr"; fi
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" --registry ftp://127.0.0.1:1
expect_stderr_contains "imagegate gate: --registry 'ftp://127.0.0.1:1' has an unknown scheme; known: ecr, ecr://REGION, ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com, https://HOST[:PORT], http://HOST[:PORT], oci-layout:DIR"
e2e_secret url-Secret-7
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" \
  --registry http://ci-user:url-Secret-7@127.0.0.1:1
expect_stderr_contains 'imagegate gate: registry URL "http://127.0.0.1:1": credentials in the URL are not supported (use docker config.json); expected https://HOST[:PORT] or http://HOST[:PORT]'
expect_not_contains url-Secret-7
expect_not_contains ci-user
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" --registry "$NOWHERE" --timeout 5parsecs
expect_stderr_contains "imagegate gate: --timeout '5parsecs' is not a duration; expected e.g. 90s, 10m, 1h30m, 500ms or whole seconds"
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" --registry "$NOWHERE" --timeout -1s
expect_stderr_contains "imagegate gate: --timeout '-1s' is not a duration; expected e.g. 90s, 10m, 1h30m, 500ms or whole seconds"
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" --registry "$NOWHERE" --concurrency 0
expect_stderr_contains "imagegate gate: --concurrency 0 is out of range; expected 1 to 256"
expect_exit 2 -- ig_gate -m "$SCRATCH/missing.json" --env production --sha "$SHA" --registry "$NOWHERE"
expect_stderr_contains "imagegate gate: MANIFEST_NOT_FOUND: manifest '$SCRATCH/missing.json' does not exist (give one with -m/--manifest)"
expect_exit 2 -- ig_gate -m "$BASE" --env production --sha "$SHA" --registry "$NOWHERE" --output xml
expect_stderr_contains "--output"

section "populating (4 images x 3 tags per environment)"
registry_start plain
push_manifest_images "$ENVS" production "$SHA"
push_manifest_images "$ENVS" missing "$SHA" --skip "afu9/mcp-deploy:miss-$SHORT"
push_manifest_images "$ENVS" two "$SHA" --skip "afu9/mcp-github:two-$SHA" \
  --skip afu9/mcp-observability:two-latest
# An older build of mcp-github holds mm-latest; the new build pushes all other tags.
push_manifest_images "$ENVS" mismatch "$OLD_SHA" --skip afu9/control-center --skip afu9/mcp-deploy \
  --skip afu9/mcp-observability
push_manifest_images "$ENVS" mismatch "$SHA" --skip afu9/mcp-github:mm-latest
populated_digest() { awk -v n="$1" -v t="$2" '$1 == n && $2 == t { d = $3 } END { print d }' "$PUSHED_FILE"; }

section "all present: exit 0, evidence with the populated digests"
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$ENVS" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "✓ gate passed: every required image has every tag on one digest"
expect_output_contains "gate production @ 0123456789ab on $REGISTRY_URL (4 images)"
requests="$(registry_requests_since "$mark")"
expect_eq 8 "$(grep -c '^"HEAD /v2/afu9/[a-z-]*/manifests/prod-' <<<"$requests")" \
  "one HEAD per image and tag but the first (4 x 2)"
expect_eq 4 "$(grep -c '^"GET /v2/afu9/[a-z-]*/manifests/prod-' <<<"$requests")" \
  "one GET per image: the first tag, its manifest read for the revision"
expect_eq 12 "$(grep -cE '^"(HEAD|GET) /v2/[^ ]+/manifests/[^ ]+ HTTP/1.1" 200$' <<<"$requests")" \
  "every tag request answered 200"
expect_eq 12 "$(sort -u <<<"$requests" | grep -c 'manifests/')" "no tag asked twice"
expect_eq 0 "$(grep -c '/manifests/sha256:' <<<"$requests" || true)" \
  "no manifest asked again by digest"
expect_eq 4 "$(grep -cE '^"GET /v2/afu9/[a-z-]+/blobs/sha256:[0-9a-f]{64} HTTP/1.1" 200$' <<<"$requests")" \
  "one config blob per image (the revision label)"
expect_eq 16 "$(grep -c . <<<"$requests")" "no other request at all (anonymous: no /v2/ ping, no tag list)"
expect_eq pass "$(evidence_get .verdict)" "evidence verdict"
expect_eq production "$(evidence_get .env)" "evidence env"
expect_eq "$SHA" "$(evidence_get .sha)" "evidence sha"
expect_eq "$REGISTRY_URL" "$(evidence_get .registry)" "evidence registry"
expect_eq "$(sha256sum "$ENVS" | cut -d' ' -f1)" "$(evidence_get .manifest.sha256 | sed 's/^sha256://')" \
  "evidence manifest sha256 is the sha256sum of the manifest"
expect_eq 4 "$(evidence_get '.images | length')" "four images in the evidence"
expect_eq 0 "$(evidence_get '.findings | length')" "no findings"
for name in afu9/control-center afu9/mcp-github afu9/mcp-deploy afu9/mcp-observability; do
  want="$(populated_digest "$name" "prod-latest")"
  img=".images[] | select(.repository == \"$name\")"
  expect_eq "$want" "$(evidence_get "$img.digest")" "$name digest is the populated digest"
  expect_eq "$REGISTRY_HOST/$name" "$(evidence_get "$img.repositoryUri")" "$name repositoryUri"
  expect_eq "found found found" "$(evidence_get "[$img.tags[].status] | join(\" \")")" \
    "$name: three tags found"
  expect_eq "prod-$SHA prod-$SHORT prod-latest" "$(evidence_get "[$img.tags[].tag] | join(\" \")")" \
    "$name: the expected tags"
  expect_eq "$want" "$(evidence_get "[$img.tags[].digest] | unique | join(\" \")")" \
    "$name: every tag on the populated digest"
  expect_eq "$REGISTRY_HOST/$name@$want" "$(evidence_get "$img.pinnedReference")" \
    "$name pinned reference"
done

section "DEPLOY_ENV, GIT_SHA, IMAGEGATE_REGISTRY and the manifest's registry stand in for flags"
expect_exit 0 -- env DEPLOY_ENV=production GIT_SHA="$SHA" IMAGEGATE_REGISTRY="$REGISTRY_URL" \
  "$IMAGEGATE" gate -m "$ENVS" --no-color
expect_output_contains "gate production @ 0123456789ab on $REGISTRY_URL (4 images)"
expect_output_contains "✓ gate passed"
WITH_REGISTRY="$(gate_variant with-registry '.registry = $r' --arg r "$REGISTRY_URL")"
expect_exit 0 -- ig_gate -m "$WITH_REGISTRY" --env production --sha "$SHA"
expect_output_contains "on $REGISTRY_URL (4 images)"
WRONG_REGISTRY="$(gate_variant wrong-registry '.registry = $r' --arg r "$NOWHERE")"
expect_exit 0 -- ig_gate -m "$WRONG_REGISTRY" --env production --sha "$SHA" --registry "$REGISTRY_URL"
expect_output_contains "on $REGISTRY_URL (4 images)"
expect_exit 1 -- ig_gate -m "$WRONG_REGISTRY" --env production --sha "$SHA" --timeout 10s
expect_output_contains "error[UNREACHABLE]"
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$ENVS" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --concurrency 1
expect_eq 16 "$(registry_requests_since "$mark" | grep -c .)" "--concurrency 1: the same 16 requests"

section "--output json prints the evidence"
expect_exit 0 -- ig_gate -m "$ENVS" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --output json
expect_eq "$(jq -S 'del(.time, .timing)' "$GATE_EVIDENCE")" "$(jq -S 'del(.time, .timing)' "$LAST_OUT")" \
  "stdout is the evidence document (time and timing aside)"
expect_eq '16 8 0' "$(jq -r '.timing | "\(.requests.total) \(.requests.byKind["HEAD manifest"]) \(.requests.retries)"' "$LAST_OUT")" \
  "its timing counts the 16 requests (8 HEADs, 4 tag GETs, 4 config blobs), no retry"

section "one tag missing: exit 1, TAG_MISSING names image and tag"
expect_exit 1 -- ig_gate -m "$ENVS" --env missing --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[TAG_MISSING] mcp-deploy miss-$SHORT: tag 'miss-$SHORT' is not in 'afu9/mcp-deploy'"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq fail "$(evidence_get .verdict)" "evidence verdict fail"
expect_eq "TAG_MISSING mcp-deploy miss-$SHORT" \
  "$(evidence_get '.findings[] | "\(.code) \(.image) \(.subject)"')" "the only finding"
expect_eq "found missing found" \
  "$(evidence_get '[.images[] | select(.id == "mcp-deploy") | .tags[].status] | join(" ")')" \
  "tag statuses of mcp-deploy"
expect_eq null "$(evidence_get '.images[] | select(.id == "mcp-deploy") | .digest')" \
  "a failed image has no digest to pin"

section "every finding is reported: two problems in two images"
expect_exit 1 -- ig_gate -m "$ENVS" --env two --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[TAG_MISSING] mcp-github two-$SHA: tag 'two-$SHA' is not in 'afu9/mcp-github'"
expect_output_contains "error[TAG_MISSING] mcp-observability two-latest: tag 'two-latest' is not in 'afu9/mcp-observability'"
expect_output_contains "✗ gate failed: 2 errors, 0 warnings"
expect_eq "mcp-github mcp-observability" "$(evidence_get '[.findings[].image] | join(" ")')" \
  "both images in the evidence findings"

section "-latest on an older build's digest: DIGEST_MISMATCH lists every tag with its digest"
old="$(populated_digest afu9/mcp-github mm-latest)"
new="$(populated_digest afu9/mcp-github "mm-$SHORT")"
expect_ne "$old" "$new" "the old and new build differ"
expect_exit 1 -- ig_gate -m "$ENVS" --env mismatch --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[DIGEST_MISMATCH] mcp-github: the tags of one build name 2 different digests: mm-$SHA -> ${new:0:19}, mm-$SHORT -> ${new:0:19}, mm-latest -> ${old:0:19}"
expect_output_contains "✗ gate failed: 1 error, 0 warnings"
expect_eq "DIGEST_MISMATCH" "$(evidence_get '[.findings[].code] | join(" ")')" "only the mismatch"
expect_eq "$new $new $old" \
  "$(evidence_get '[.images[] | select(.id == "mcp-github") | .tags[].digest] | join(" ")')" \
  "evidence keeps each tag's digest"

section "repository missing: exit 1, REPOSITORY_MISSING"
EXTRA_REQUIRED="$(gate_variant extra-required '.images += [{id: "mcp-extra", name: "afu9/mcp-extra",
  dockerfile: "control-center/Dockerfile", context: ".", required: true,
  taskDefContainerName: "mcp-extra"}] | .ecrRepositories += ["afu9/mcp-extra"]')"
expect_exit 1 -- ig_gate -m "$EXTRA_REQUIRED" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[REPOSITORY_MISSING] mcp-extra: repository 'afu9/mcp-extra' does not exist in the registry"
expect_output_contains "✗ REPOSITORY_MISSING"
expect_eq "REPOSITORY_MISSING mcp-extra error" \
  "$(evidence_get '.findings[] | "\(.code) \(.image) \(.severity)"')" "the only finding"

section "optional image missing: exit 0 with a warning"
EXTRA_OPTIONAL="$GATE_DIR/extra-optional.json"
jq '.images[4].required = false' "$EXTRA_REQUIRED" >"$EXTRA_OPTIONAL"
expect_exit 0 -- ig_gate -m "$EXTRA_OPTIONAL" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "warning[REPOSITORY_MISSING] mcp-extra: repository 'afu9/mcp-extra' does not exist in the registry"
expect_output_contains "mcp-extra (optional)"
expect_output_contains "✓ gate passed: every required image has every tag on one digest (0 errors, 1 warning)"
expect_eq "pass absent" "$(evidence_get '"\(.verdict) \(.images[4].status)"')" "verdict pass, image absent"

section "optional image partly present: exit 1"
image_push "$(image_build extra "afu9/mcp-extra@$SHA")" "afu9/mcp-extra:prod-$SHORT"
expect_exit 1 -- ig_gate -m "$EXTRA_OPTIONAL" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE"
expect_output_contains "error[TAG_MISSING] mcp-extra prod-$SHA: tag 'prod-$SHA' is not in 'afu9/mcp-extra'"
expect_output_contains "error[TAG_MISSING] mcp-extra prod-latest: tag 'prod-latest' is not in 'afu9/mcp-extra'"
expect_output_contains "✗ gate failed: 2 errors, 0 warnings"
expect_eq "fail fail" "$(evidence_get '"\(.verdict) \(.images[4].status)"')" "verdict and image fail"

section "registry stopped: exit 1 UNREACHABLE, never 0"
registry_stop
expect_exit 1 -- ig_gate -m "$ENVS" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --evidence-out "$GATE_EVIDENCE" --timeout 10s
expect_output_contains "error[UNREACHABLE] control-center"
expect_output_contains "✗ gate failed: 4 errors, 0 warnings"
expect_eq "fail UNREACHABLE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "every image UNREACHABLE in the evidence"
expect_eq 0 "$(evidence_get '[.images[] | select(.digest != null)] | length')" "no digest from nowhere"
ALL_OPTIONAL="$(gate_variant all-optional '.images[].required = false')"
expect_exit 1 -- ig_gate -m "$ALL_OPTIONAL" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --timeout 10s
expect_output_contains "error[UNREACHABLE] mcp-github"
expect_output_contains "✗ gate failed: 4 errors, 0 warnings"

finish
