#!/usr/bin/env bash
# `imagegate gate` through the fault proxy in front of a real docker-registry: transient errors are
# retried into a pass, Retry-After is honoured, persistent errors fail (never pass), a redirect to
# another server does not carry Authorization along, and answers that cannot be trusted
# (truncated, forged, malformed digests) are BAD_RESPONSE.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2119,SC2317 # optional-argument helpers; functions run via expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/fault.sh"
source "$E2E_LIB/gate.sh"
require_cmd docker-registry umoci skopeo htpasswd jq curl

SHA=0123456789abcdef0123456789abcdef01234567
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
gate_project "$TEST_DATA/e2e/images-manifest.json"
# One image with a required platform: its manifest is fetched by digest (a GET to tamper with).
ONE="$(gate_variant one '.images = [.images[0] + {platforms: ["linux/amd64"]}]
  | .ecrRepositories = [.images[0].name]')"

registry_start plain
PLAIN_URL="$REGISTRY_URL"
push_manifest_images "$GATE_MANIFEST" production "$SHA"
fault_proxy_start --upstream "$PLAIN_URL"
# The proxy serves 8 connections at once and holds each for its keep-alive time; more connections
# than that would wait seconds for a free worker. The fault plans are written for the tag lookups
# (HEADs, and the manifest GET a required platform needs): --revision off keeps the revision
# check's reads out of them (tests/e2e/gate_provenance.sh counts those).
gate_via_proxy() {
  ig_gate --env production --sha "$SHA" --registry "$FAULT_URL" --evidence-out "$GATE_EVIDENCE" \
    --concurrency 8 --revision off "$@"
}
statuses() { fault_log | jq -r '[.[].status | tostring] | join(" ")'; }

section "500, then 503, then pass: retried into exit 0"
fault_reset
fault_plan '[{"status":500},{"status":503}]'
expect_exit 0 -- gate_via_proxy -m "$GATE_MANIFEST" -v
expect_output_contains "✓ gate passed"
expect_stderr_contains "-> 500 ("
expect_stderr_contains "-> 503 ("
expect_stderr_contains "attempt 2)"
expect_eq 14 "$(fault_log | jq length)" "12 HEADs and 2 retries reached the proxy"
expect_eq "1 1 12" "$(fault_log | jq -r '[([.[] | select(.status == 500)] | length),
  ([.[] | select(.status == 503)] | length), ([.[] | select(.status == 200)] | length)]
  | map(tostring) | join(" ")')" "one 500, one 503, twelve 200"
expect_eq pass "$(evidence_get .verdict)" "evidence verdict pass"

section "429 with Retry-After: 1 is honoured"
fault_reset
fault_plan '[{"status":429,"retry_after":"1"}]'
start_ns=$(date +%s%N)
expect_exit 0 -- gate_via_proxy -m "$GATE_MANIFEST" -v
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect_output_contains "✓ gate passed"
expect_stderr_contains "-> 429 ("
expect_eq 1 "$((elapsed_ms >= 1000))" "the retry waited the 1 s asked for (took ${elapsed_ms} ms)"
expect_eq 13 "$(fault_log | jq length)" "one 429 and its retry"

section "persistent 503: exit 1 UNREACHABLE, never 0"
fault_reset
fault_plan '{"always":{"status":503}}'
expect_exit 1 -- gate_via_proxy -m "$GATE_MANIFEST"
expect_output_contains "error[UNREACHABLE] control-center"
expect_output_contains "registry answered HTTP 503 (after 4 attempts)"
expect_output_contains "✗ gate failed: 4 errors, 0 warnings"
expect_eq "fail 0" "$(evidence_get '"\(.verdict) \([.images[] | select(.digest != null)] | length)"')" \
  "fail, and no digest in the evidence"
expect_eq 48 "$(fault_log | jq length)" "every request tried 4 times (12 x 4)"
fault_plan '{"always":{"status":500}}'
expect_exit 1 -- gate_via_proxy -m "$GATE_MANIFEST"
expect_output_contains "registry answered HTTP 500 (after 4 attempts)"
fault_plan '{"always":{"status":403}}'
expect_exit 1 -- gate_via_proxy -m "$GATE_MANIFEST"
expect_output_contains "error[AUTH_FAILED] control-center"

section "a registry slower than --timeout: exit 1 UNREACHABLE at the deadline"
fault_reset
fault_plan '{"always":{"delay_ms":4000}}'
expect_exit 1 -- gate_via_proxy -m "$GATE_MANIFEST" --timeout 1s
expect_output_contains "error[UNREACHABLE] control-center"
expect_output_contains "deadline exceeded (overall timeout 1000 ms)"
# The proxy would answer 200 after 4 s: had the gate waited for it, it would have passed. Every
# image failing at the deadline, with no digest, is the proof (no wall clock involved).
expect_eq 4 "$(grep -c 'error\[UNREACHABLE\] .*deadline exceeded (overall timeout 1000 ms)' "$LAST_OUT" || :)" \
  "each of the 4 images failed at the deadline"
expect_eq "fail 0" "$(evidence_get '"\(.verdict) \([.images[] | select(.digest != null)] | length)"')" \
  "the deadline left no digest in the evidence"
fault_plan '[]'

section "a malformed Docker-Content-Digest on HEAD: exit 1 BAD_RESPONSE"
fault_reset
fault_plan '{"always":{"status":200,"headers":{"Docker-Content-Digest":"sha256:not-a-digest","Content-Type":"'"$OCI_MANIFEST"'"}}}'
expect_exit 1 -- gate_via_proxy -m "$ONE"
expect_output_contains "error[BAD_RESPONSE] control-center"
expect_output_contains 'Docker-Content-Digest "sha256:not-a-digest" is not a sha256 digest'
expect_eq "fail BAD_RESPONSE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "evidence: BAD_RESPONSE only"

section "a login page instead of the registry: exit 1 BAD_RESPONSE"
fault_plan '{"always":{"status":200,"body":"<html>please log in</html>","headers":{"Content-Type":"text/html"}}}'
expect_exit 1 -- gate_via_proxy -m "$GATE_MANIFEST"
expect_output_contains "error[BAD_RESPONSE] control-center"
expect_output_contains "manifest is not a JSON object"
expect_output_contains "✗ gate failed: 4 errors, 0 warnings"
expect_eq 0 "$(evidence_get '[.images[] | select(.digest != null)] | length')" "no digest from a web page"

section "a forged manifest body (does not hash to the digest): exit 1 BAD_RESPONSE"
digest="$(awk '$1 == "afu9/control-center" { print $3; exit }' "$PUSHED_FILE")"
fault_reset
# The three HEADs pass; the GET of the manifest by digest (for its platform) gets a forged body.
fault_plan '[{"pass":true},{"pass":true},{"pass":true},{"status":200,"body":"{\"schemaVersion\":2}","headers":{"Docker-Content-Digest":"'"$digest"'","Content-Type":"'"$OCI_MANIFEST"'"}}]'
expect_exit 1 -- gate_via_proxy -m "$ONE"
expect_output_contains "error[BAD_RESPONSE] control-center"
expect_output_contains "but the registry reported $digest"
expect_eq "GET /v2/afu9/control-center/manifests/$digest" \
  "$(fault_log | jq -r '.[3] | "\(.method) \(.path)"')" "the forged answer was the GET by digest"
expect_eq "fail BAD_RESPONSE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "evidence: BAD_RESPONSE only"
expect_exit 0 -- gate_via_proxy -m "$ONE"
expect_output_contains "✓ gate passed"

section "truncated answers: exit 1 BAD_RESPONSE"
fault_reset
fault_plan '{"always":{"truncate":true}}'
expect_exit 1 -- gate_via_proxy -m "$ONE"
expect_output_contains "error[BAD_RESPONSE] control-center"
expect_eq "fail BAD_RESPONSE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "evidence: BAD_RESPONSE only"
expect_ne 0 "$(fault_log | jq '[.[] | select(.action == "truncate")] | length')" \
  "the proxy did truncate the GETs"

section "token endpoint faults: retried when transient, never a pass otherwise"
TOKEN_SECRET='token-Secret-Fault5'
token_server_start ci-token "$TOKEN_SECRET"
fault_proxy_start --upstream "http://127.0.0.1:$TOKEN_PORT"
TOKEN_PROXY_PORT="$FAULT_PORT"
registry_start token "$FAULT_URL/token"
push_manifest_images "$GATE_MANIFEST" production "$SHA"
# shellcheck disable=SC2119 # the default location
registry_docker_config
gate_token() {
  ig_gate -m "$GATE_MANIFEST" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
    --evidence-out "$GATE_EVIDENCE" --revision off "$@"
}
fault_plan '[{"status":503}]' "$TOKEN_PROXY_PORT"
expect_exit 0 -- gate_token
expect_output_contains "✓ gate passed"
fault_plan '{"always":{"status":500}}' "$TOKEN_PROXY_PORT"
expect_exit 1 -- gate_token
expect_output_contains "error[UNREACHABLE] control-center: repository 'afu9/control-center': token endpoint for repository:afu9/control-center:pull answered HTTP 500"
fault_plan '{"always":{"status":200,"body":"'"$TOKEN_SECRET"' is not JSON"}}' "$TOKEN_PROXY_PORT"
expect_exit 1 -- gate_token -v -v
expect_output_contains "error[BAD_RESPONSE] control-center: repository 'afu9/control-center': token endpoint for repository:afu9/control-center:pull answered with something not JSON"
expect_not_contains "$TOKEN_SECRET"
fault_plan '{"always":{"status":200,"body":"{\"token\":\"\"}"}}' "$TOKEN_PROXY_PORT"
expect_exit 1 -- gate_token
expect_output_contains "token endpoint for repository:afu9/control-center:pull answered without a token"
# A token the registry does not accept: the HEADs are denied.
fault_plan '{"always":{"status":200,"body":"{\"token\":\"abc.def.ghi\"}"}}' "$TOKEN_PROXY_PORT"
expect_exit 1 -- gate_token
expect_output_contains "error[AUTH_FAILED] control-center"
expect_output_contains "access denied (HTTP 401)"
expect_not_contains "abc.def.ghi"
fault_plan '{"always":{"status":401,"body":"{\"details\":\"'"$TOKEN_SECRET"'\"}"}}' "$TOKEN_PROXY_PORT"
expect_exit 1 -- gate_token -v -v
expect_output_contains "token endpoint for repository:afu9/control-center:pull denied access (HTTP 401)"
expect_not_contains "$TOKEN_SECRET"
expect_eq "fail AUTH_FAILED" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "evidence: AUTH_FAILED only"
fault_plan '[]' "$TOKEN_PROXY_PORT"

section "a redirect to another port: Authorization does not follow"
SECRET='redirect-Secret-Fault4'
registry_start htpasswd ci-user "$SECRET"
push_manifest_images "$GATE_MANIFEST" production "$SHA"
fault_proxy_start --record-only
RECORD_URL="$FAULT_URL" RECORD_PORT="$FAULT_PORT"
fault_proxy_start --upstream "$REGISTRY_URL"
mkdir -p "$DOCKER_CONFIG"
jq -n --arg host "$FAULT_HOST" --arg auth "$(printf '%s' "ci-user:$SECRET" | base64 -w0)" \
  '{auths: {($host): {auth: $auth}}}' >"$DOCKER_CONFIG/config.json"
# The /v2/ ping passes (the registry asks for Basic), then every HEAD is redirected.
plan="$(jq -cn --arg r "$RECORD_URL" '[{pass: true}] + [range(12) | {redirect: $r}]')"
fault_plan "$plan"
expect_exit 0 -- gate_via_proxy -m "$GATE_MANIFEST" -v -v
expect_eq 12 "$(fault_log | jq '[.[] | select(.action == "redirect" and .authorization)] | length')" \
  "the proxy got Authorization with each redirected HEAD"
expect_eq 12 "$(fault_log "$RECORD_PORT" | jq '[.[] | select(.method == "HEAD")] | length')" \
  "the record-only server got the 12 redirected HEADs"
expect_eq 0 "$(fault_log "$RECORD_PORT" | jq '[.[] | select(.authorization)] | length')" \
  "the record-only server never saw Authorization"
expect_not_contains "$SECRET"
expect_not_contains "$(printf '%s' "ci-user:$SECRET" | base64 -w0)"
# Its 200 without a digest proves nothing: the digest came from GETs the registry answered.
expect_eq "pass 4" "$(evidence_get '"\(.verdict) \([.images[] | select(.digest != null)] | length)"')" \
  "digests verified by GET from the registry"
expect_eq 12 "$(fault_log | jq '[.[] | select(.method == "GET" and .action == "pass" and .status == 200
  and (.path | test("/manifests/")))] | length')" "one GET per tag through the proxy"

finish
