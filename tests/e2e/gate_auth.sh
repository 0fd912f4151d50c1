#!/usr/bin/env bash
# `imagegate gate` against registries that want credentials or TLS: htpasswd Basic auth from a
# docker config.json and from a credential helper, wrong and missing credentials (AUTH_FAILED,
# never a pass), a private CA, and Bearer tokens (one per repository, not per tag). No password,
# token or Authorization value may show in the output at any verbosity.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2119,SC2317 # optional-argument helpers; functions run via expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
require_cmd docker-registry umoci skopeo htpasswd jq curl openssl base64

SHA=0123456789abcdef0123456789abcdef01234567
gate_project "$TEST_DATA/e2e/images-manifest.json"
PASSWORD='ci-Secret-Auth1'
WRONG='wrong-Secret-Auth2'
HELPER_PASSWORD="$PASSWORD"
e2e_secret "$PASSWORD" "$WRONG"
gate_prod() {
  ig_gate -m "$GATE_MANIFEST" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
    --evidence-out "$GATE_EVIDENCE" "$@"
}
# no_secrets : none of the credentials, nor their base64 form, in the last command's output.
no_secrets() {
  local secret
  for secret in "$@"; do
    expect_not_contains "$secret"
  done
}

section "htpasswd registry, credentials in docker config.json: exit 0"
registry_start htpasswd ci-user "$PASSWORD"
push_manifest_images "$GATE_MANIFEST" production "$SHA"
BASIC="$(printf '%s' "ci-user:$PASSWORD" | base64 -w0)"
e2e_secret "$BASIC"
# shellcheck disable=SC2119 # the default location
registry_docker_config
mark="$(registry_log_mark)"
expect_exit 0 -- gate_prod -v -v
expect_output_contains "✓ gate passed"
expect_eq pass "$(evidence_get .verdict)" "evidence verdict pass"
requests="$(registry_requests_since "$mark")"
expect_eq '"GET /v2/ HTTP/1.1" 401' "$(head -n1 <<<"$requests")" \
  "one /v2/ ping learns the scheme first"
# One request per tag (each image's first tag a GET: the revision check reads its manifest) and
# one config blob per image.
expect_eq 17 "$(grep -c . <<<"$requests")" "then nothing but the 12 tag requests and 4 config blobs"
expect_eq 12 "$(grep -cE '^"(HEAD|GET) /v2/afu9/[a-z-]*/manifests/[^ ]* HTTP/1.1" 200$' <<<"$requests")" \
  "each tag request sent with credentials and answered 200 (no 401 round trip per request)"
expect_eq 4 "$(grep -cE '^"GET /v2/afu9/[a-z-]*/blobs/[^ ]* HTTP/1.1" 200$' <<<"$requests")" \
  "each config blob sent with credentials and answered 200"
expect_stderr_contains "HEAD $REGISTRY_URL/v2/afu9/mcp-deploy/manifests/prod-latest -> 200"
no_secrets "$PASSWORD" "$BASIC" "Authorization" "Basic "
expect_not_contains "$PASSWORD" "$GATE_EVIDENCE"

section "wrong password: exit 1 AUTH_FAILED"
REGISTRY_PASSWORD="$WRONG" registry_docker_config
WRONG_BASIC="$(printf '%s' "ci-user:$WRONG" | base64 -w0)"
e2e_secret "$WRONG_BASIC"
expect_exit 1 -- gate_prod -v -v
expect_output_contains "error[AUTH_FAILED] control-center"
expect_output_contains "the credentials for $REGISTRY_HOST were rejected or lack pull access"
expect_eq "fail AUTH_FAILED" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "every finding AUTH_FAILED"
expect_eq 4 "$(evidence_get '.findings | length')" "one finding per image"
no_secrets "$WRONG" "$WRONG_BASIC" "$PASSWORD" "Authorization"

section "no credentials: exit 1 AUTH_FAILED"
rm -f "$DOCKER_CONFIG/config.json"
expect_exit 1 -- gate_prod
expect_output_contains "error[AUTH_FAILED] mcp-github"
expect_output_contains "no credentials are configured for $REGISTRY_HOST"
expect_eq "fail AUTH_FAILED" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "every finding AUTH_FAILED"

section "credentials from a credential helper (credHelpers): exit 0"
mkdir -p "$SCRATCH/bin"
# The helper records what it was asked (the server, never a secret) and answers the credentials.
cat >"$SCRATCH/bin/docker-credential-e2e" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
printf '%s\n' "\$server" >>"$SCRATCH/helper.asked"
printf '{"ServerURL":"%s","Username":"ci-user","Secret":"%s"}\n' "\$server" "$HELPER_PASSWORD"
EOF
chmod +x "$SCRATCH/bin/docker-credential-e2e"
mkdir -p "$DOCKER_CONFIG"
jq -n --arg host "$REGISTRY_HOST" '{credHelpers: {($host): "e2e"}}' >"$DOCKER_CONFIG/config.json"
PATH="$SCRATCH/bin:$PATH" expect_exit 0 -- gate_prod -v -v
expect_output_contains "✓ gate passed"
expect_eq "$REGISTRY_HOST" "$(sort -u "$SCRATCH/helper.asked")" "the helper was asked for this registry"
expect_eq 1 "$(wc -l <"$SCRATCH/helper.asked" | tr -d ' ')" "the helper ran once per gate run"
no_secrets "$PASSWORD" "$BASIC" "Authorization"
expect_exit 1 -- gate_prod
expect_output_contains "error[AUTH_FAILED]"
expect_output_contains "docker-credential-e2e"
no_secrets "$PASSWORD"

section "a failing credential helper or a broken config.json: AUTH_FAILED, nothing of it quoted"
LEAK='leaked-Secret-Auth5'
e2e_secret "$LEAK"
printf '#!/bin/sh\necho "%s is wrong"\necho "stderr %s" >&2\nexit 1\n' "$LEAK" "$LEAK" \
  >"$SCRATCH/bin/docker-credential-e2e"
PATH="$SCRATCH/bin:$PATH" expect_exit 1 -- gate_prod -v -v
expect_output_contains "error[AUTH_FAILED] control-center: repository 'afu9/control-center': credential helper docker-credential-e2e for $REGISTRY_HOST failed (exit status 1)"
no_secrets "$LEAK"
printf '#!/bin/sh\necho "{\\"Username\\":\\"u\\",\\"Secret\\":%s}"\n' "$LEAK" \
  >"$SCRATCH/bin/docker-credential-e2e"
PATH="$SCRATCH/bin:$PATH" expect_exit 1 -- gate_prod -v -v
expect_output_contains "credential helper docker-credential-e2e for $REGISTRY_HOST: output is not a JSON object with string Username and Secret"
no_secrets "$LEAK"
printf '{"auths": {"%s": {"auth": "%s"}}, "x": %s' "$REGISTRY_HOST" "$BASIC" "$LEAK" \
  >"$DOCKER_CONFIG/config.json"
expect_exit 1 -- gate_prod -v -v
expect_output_contains "docker config $DOCKER_CONFIG/config.json: not a JSON object"
no_secrets "$LEAK" "$BASIC" "$PASSWORD"

section "TLS with a private CA: --ca-file passes, without it UNREACHABLE"
rm -f "$DOCKER_CONFIG/config.json"
registry_start tls
push_manifest_images "$GATE_MANIFEST" production "$SHA"
expect_exit 0 -- gate_prod --ca-file "$REGISTRY_CA"
expect_output_contains "✓ gate passed"
expect_eq "pass $REGISTRY_HOST/afu9/control-center" \
  "$(evidence_get '"\(.verdict) \(.images[0].repositoryUri)"')" "evidence over TLS"
expect_exit 1 -- gate_prod --timeout 20s
expect_output_contains "error[UNREACHABLE] control-center"
expect_output_contains "certificate"
expect_eq "fail UNREACHABLE" "$(evidence_get '"\(.verdict) \([.findings[].code] | unique | join(","))"')" \
  "every finding UNREACHABLE"
expect_exit 1 -- gate_prod --ca-file "$SCRATCH/missing-ca.pem"
expect_output_contains "cannot read CA file $SCRATCH/missing-ca.pem"

section "Bearer challenge: token server in front of the registry, one token per repository"
TOKEN_PASSWORD_VALUE='tok-Secret-Auth3'
token_server_start ci-token "$TOKEN_PASSWORD_VALUE"
registry_start token
push_manifest_images "$GATE_MANIFEST" production "$SHA"
# shellcheck disable=SC2119 # the default location
registry_docker_config
token_reset
expect_exit 0 -- gate_prod -v -v
expect_output_contains "✓ gate passed"
counters="$(token_counters)"
expect_eq 4 "$(jq .tokens_issued <<<"$counters")" "four tokens for 4 images x 3 tags"
expect_eq '{"repository:afu9/control-center:pull":1,"repository:afu9/mcp-deploy:pull":1,"repository:afu9/mcp-github:pull":1,"repository:afu9/mcp-observability:pull":1}' \
  "$(jq -cS .by_scope <<<"$counters")" "one token per repository scope"
expect_eq 0 "$(jq .denied <<<"$counters")" "nothing denied"
no_secrets "$TOKEN_PASSWORD_VALUE" "Bearer" "Authorization" \
  "$(printf '%s' "ci-token:$TOKEN_PASSWORD_VALUE" | base64 -w0)"
REGISTRY_PASSWORD="$WRONG" registry_docker_config
token_reset
expect_exit 1 -- gate_prod -v -v
expect_output_contains "error[AUTH_FAILED] control-center"
expect_eq 0 "$(token_counters | jq .tokens_issued)" "no token for wrong credentials"
no_secrets "$WRONG" "$TOKEN_PASSWORD_VALUE" "Authorization"

finish
