#!/usr/bin/env bash
# Proves the e2e harness itself with independent clients (curl, skopeo) before any imagegate suite
# relies on it: registries in every auth mode, pushed images and indexes with the digests they
# should have, the token server against the real registry, and the fault proxy's scripted answers.
# shellcheck source-path=SCRIPTDIR/lib
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/fault.sh"
require_cmd docker-registry umoci skopeo htpasswd jq curl openssl

OCI_MANIFEST="application/vnd.oci.image.manifest.v1+json"
OCI_INDEX="application/vnd.oci.image.index.v1+json"
ACCEPT_ALL="Accept: $OCI_MANIFEST, $OCI_INDEX"
SHA=0123456789abcdef0123456789abcdef01234567

# head_digest URL [curl flags...] : the Docker-Content-Digest of a HEAD answer ("" if none).
head_digest() {
  local url="$1"
  shift
  curl -sI -H "$ACCEPT_ALL" "$@" "$url" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# http_code URL [curl flags...] : the status of a HEAD answer (000 when there was none).
http_code() {
  local url="$1"
  shift
  curl -s -o /dev/null -I -w '%{http_code}' -H "$ACCEPT_ALL" "$@" "$url" || true
}

section "the assertions of common.sh fail when they should"
cat >"$SCRATCH/inner_fail.sh" <<'EOF'
source "$E2E_LIB/common.sh"
bg_start sleeper sleep 300
echo "$BG_PID" >"$1/sleeper.pid"
echo "$SCRATCH" >"$1/inner.scratch"
expect_exit 0 -- true
expect_exit 0 -- false
finish
EOF
expect_exit 1 -- env E2E_KEEP_SCRATCH=0 bash "$SCRATCH/inner_fail.sh" "$SCRATCH"
expect_output_contains "FAIL - exit code of: false"
expect_output_contains "1 passed, 1 failed"
sleeper="$(cat "$SCRATCH/sleeper.pid")"
if kill -0 "$sleeper" 2>/dev/null; then fail "inner suite left sleep $sleeper running"; else pass "inner suite's background process was killed"; fi
if [ -d "$(cat "$SCRATCH/inner.scratch")" ]; then fail "inner scratch dir kept"; else pass "inner scratch dir removed"; fi
# shellcheck disable=SC2016 # the inner suite expands these itself
printf '%s\n' 'source "$E2E_LIB/common.sh"' 'pass one' 'cat /nonexistent/file' 'pass never' 'finish' \
  >"$SCRATCH/inner_abort.sh"
expect_exit 1 -- env E2E_KEEP_SCRATCH=0 bash "$SCRATCH/inner_abort.sh"
expect_stderr_contains "suite aborted (exit 1) after 1 passed, 0 failed"
expect_not_contains "ok   - never"

printf '%s\n' 'source "$E2E_LIB/common.sh"' 'expect_not_contains secret "$SCRATCH/never-written"' 'finish' \
  >"$SCRATCH/inner_missing.sh"
expect_exit 1 -- env E2E_KEEP_SCRATCH=0 bash "$SCRATCH/inner_missing.sh"
expect_output_contains "FAIL - cannot look for 'secret': no file "
expect_output_contains "/never-written"

section "isolation: nothing of the developer's machine reaches a suite"
# shellcheck disable=SC2016 # the inner suite expands these itself
printf '%s\n' 'source "$E2E_LIB/common.sh"' 'env >"$1/inner.env"' 'pass env written' 'finish' \
  >"$SCRATCH/inner_env.sh"
expect_exit 0 -- env HOME=/root AWS_REGION=eu-central-1 AWS_DEFAULT_REGION=eu-central-1 \
  AWS_PROFILE=dev AWS_ENDPOINT_URL=https://aws.example AWS_ENDPOINT_URL_ECS=https://ecs.example \
  AWS_ACCESS_KEY_ID=AKIADEVELOPER0000001 AWS_SECRET_ACCESS_KEY=developerSecret \
  AWS_CONFIG_FILE=/root/.aws/config AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.0.0.1 \
  DOCKER_CONFIG=/root/.docker http_proxy=http://10.0.0.1:3128 HTTPS_PROXY=http://10.0.0.1:3128 \
  https_proxy=http://10.0.0.1:3128 HTTP_PROXY=http://10.0.0.1:3128 ALL_PROXY=socks5://10.0.0.1 \
  no_proxy='*' NO_PROXY='*' ECS_CLUSTER=prod GIT_SHA=0123456 \
  bash "$SCRATCH/inner_env.sh" "$SCRATCH"
inner_env="$SCRATCH/inner.env"
expect_eq "AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE" \
  "$(grep -oE '^AWS_[A-Z_]+' "$inner_env" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "no AWS_* variable but the two config paths, which point into the scratch directory"
expect_eq "" "$(grep -E '^(HOME|DOCKER_CONFIG|AWS_CONFIG_FILE|AWS_SHARED_CREDENTIALS_FILE)=/root' "$inner_env" || :)" \
  "HOME, DOCKER_CONFIG and the AWS files are not the developer's"
expect_eq "" "$(grep -iE '^(http|https|all)_proxy=' "$inner_env" | grep -vE '=http://127\.0\.0\.1:[0-9]+$' || :)" \
  "every proxy variable (both cases) names the harness's egress trap on 127.0.0.1"
expect_eq "2" "$(grep -cE '^(no_proxy|NO_PROXY)=127\.0\.0\.1,localhost,::1$' "$inner_env" || :)" \
  "NO_PROXY keeps only loopback direct"
expect_eq "" "$(grep -E '^(ECS_CLUSTER|GIT_SHA)=' "$inner_env" || :)" "the commands' inputs are unset"

section "isolation: the egress trap records and fails a connection that would leave the machine"
expect_exit 0 -- curl -s -o /dev/null http://registry.example.invalid/v2/
expect_eq "GET http://registry.example.invalid/v2/ HTTP/1.1" "$(head -n 1 "$E2E_EGRESS_LOG")" \
  "curl's request went to the trap, not to the network"
: >"$E2E_EGRESS_LOG"
# The defect this catches: a region in the (isolated) AWS config, no endpoint given, so imagegate
# would call the real ECR with whatever credentials there are.
mkdir -p "$(dirname "$AWS_CONFIG_FILE")"
printf '[default]\nregion = eu-central-1\n' >"$AWS_CONFIG_FILE"
printf '[default]\naws_access_key_id = AKIAEGRESSTRAP000001\naws_secret_access_key = egressTrapSecret\n' \
  >"$AWS_SHARED_CREDENTIALS_FILE"
expect_exit 1 -- env AWS_EC2_METADATA_DISABLED=true "$IMAGEGATE" gate --no-color \
  -m "$SOURCE_DIR/examples/afu9/images-manifest.json" --env production --sha "$SHA" --registry ecr
expect_output_contains "error[UNREACHABLE]"
expect_ne 0 "$(grep -c '^CONNECT api\.ecr\.eu-central-1\.amazonaws\.com:443 ' "$E2E_EGRESS_LOG" || :)" \
  "imagegate's call to the real ECR was caught by the trap"
expect_exit 1 -- e2e_egress_check
expect_stderr_contains "a connection to a host other than this machine was attempted:"
expect_stderr_contains "CONNECT api.ecr.eu-central-1.amazonaws.com:443"
: >"$E2E_EGRESS_LOG"
rm -f "$AWS_CONFIG_FILE" "$AWS_SHARED_CREDENTIALS_FILE"
expect_exit 0 -- e2e_egress_check

section "isolation: every suite isolates before its first command"
# The first command of a suite (after comments, set, ':' checks and making its scratch directory)
# sources common.sh, or isolate.sh followed by e2e_isolate.
for suite in "$SOURCE_DIR"/tests/e2e/*.sh; do
  first="$(awk '
    /^[[:space:]]*(#|$)/ { next }
    /^set / || /^: "/ || /^(scratch|work)=\$\(mktemp -d\)$/ || /^trap .rm -rf/ { next }
    /^source "\$\{E2E_LIB:\?\}\/isolate\.sh"$/ { iso = 1; next }
    /^E2E_NETWORK_ALLOWED=/ { next }
    { print; exit }' "$suite")"
  case "$first" in
    'source "${E2E_LIB:?}/common.sh"'* | 'e2e_isolate "$'*) pass "${suite##*/} isolates first" ;;
    *) fail "${suite##*/}: first command before isolation: $first" ;;
  esac
done

section "bad inputs to the harness are refused with a reason"
expect_exit 2 -- registry_start bogus
expect_stderr_contains "registry_start: unknown mode 'bogus' (plain, htpasswd, tls, token)"
expect_exit 2 -- registry_start htpasswd alice
expect_stderr_contains "registry_start htpasswd USER PASS"
expect_exit 2 -- token_server_start alice
expect_stderr_contains "token_server_start USER PASS"
expect_exit 2 -- "$FAKES_DIR/fault_proxy" --port 0
expect_stderr_contains "fault_proxy: --upstream URL or --record-only is required"
echo '[{"status":"500"}]' >"$SCRATCH/bad_plan.json"
expect_exit 2 -- "$FAKES_DIR/fault_proxy" --port 0 --record-only --script "$SCRATCH/bad_plan.json"
expect_stderr_contains "fault_proxy: action key 'status' must be an integer"
expect_exit 2 -- "$FAKES_DIR/fault_proxy" --port 0 --record-only --script "$SCRATCH/missing.json"
expect_stderr_contains "fault_proxy: cannot read --script $SCRATCH/missing.json"
expect_exit 2 -- "$FAKES_DIR/token_server" --port 0 --user u --password p \
  --key "$SCRATCH/missing.key" --cert "$SCRATCH/missing.pem"
expect_stderr_contains "token_server: cannot open --key $SCRATCH/missing.key"
expect_exit 2 -- "$FAKES_DIR/token_server" --port 0 --user u --password p \
  --key "$SCRATCH/bad_plan.json" --cert "$SCRATCH/bad_plan.json"
expect_stderr_contains "is not a PEM private key"

section "plain registry: tags, digests, platforms, index"
registry_start plain
PLAIN_URL="$REGISTRY_URL"
expect_exit 0 -- wait_port 127.0.0.1 "${REGISTRY_HOST#*:}" 2
closed_port="$(free_port)"
expect_exit 1 -- wait_port 127.0.0.1 "$closed_port" 1
expect_stderr_contains "error: nothing listens on 127.0.0.1:$closed_port after 1s"
ref_a="$(image_build app-a "content of a" amd64)"
ref_b="$(image_build app-b "content of b" arm64)"
digest_a="$(image_digest "$ref_a")"
digest_b="$(image_digest "$ref_b")"
expect_ne "$digest_a" "$digest_b" "distinct content gives distinct digests"
expect_eq "$digest_a" "$(image_digest "$(image_build app-a2 "content of a" amd64)")" \
  "the same content builds to the same digest"
image_push_tags "$ref_a" afu9/a v1 v1.0 latest
image_push_tags "$ref_b" afu9/b v1 v1.0 latest
for tag in v1 v1.0 latest; do
  expect_eq "$digest_a" "$(head_digest "$PLAIN_URL/v2/afu9/a/manifests/$tag")" "afu9/a:$tag digest"
  expect_eq "$digest_b" "$(head_digest "$PLAIN_URL/v2/afu9/b/manifests/$tag")" "afu9/b:$tag digest"
done
config_b="$(curl -sf -H "Accept: $OCI_MANIFEST" "$PLAIN_URL/v2/afu9/b/manifests/v1" | jq -r .config.digest)"
expect_eq "linux/arm64" "$(curl -sfL "$PLAIN_URL/v2/afu9/b/blobs/$config_b" | jq -r '"\(.os)/\(.architecture)"')" \
  "afu9/b's config says linux/arm64"
expect_exit 22 -- curl -sfI -H "$ACCEPT_ALL" "$PLAIN_URL/v2/afu9/a/manifests/never-pushed"

index_digest="$(image_push_index afu9/multi:v1 amd64 arm64)"
expect_eq "$index_digest" "$(head_digest "$PLAIN_URL/v2/afu9/multi/manifests/v1" -H "Accept: $OCI_INDEX")" \
  "index digest from the registry"
expect_exit 0 -- curl -sfI -H "Accept: $OCI_INDEX" "$PLAIN_URL/v2/afu9/multi/manifests/v1"
expect_output_contains "Content-Type: $OCI_INDEX"
index="$(curl -sf -H "Accept: $OCI_INDEX" "$PLAIN_URL/v2/afu9/multi/manifests/v1")"
expect_eq "linux/amd64 linux/arm64" \
  "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | join(" ")' <<<"$index")" \
  "index lists both platforms"
child="$(jq -r '.manifests[1].digest' <<<"$index")"
expect_eq 200 "$(http_code "$PLAIN_URL/v2/afu9/multi/manifests/$child")" "index child manifest pushed"
expect_eq "$index_digest" "sha256:$(printf '%s' "$index" | sha256sum | cut -d' ' -f1)" \
  "index digest is the sha256 of its bytes"
image_retag afu9/a:v1 retagged
expect_eq "$digest_a" "$(head_digest "$PLAIN_URL/v2/afu9/a/manifests/retagged")" "image_retag keeps the digest"
docker_digest="$(image_push_as v2s2 "$ref_a" afu9/a:docker)"
expect_ne "$digest_a" "$docker_digest" "conversion to Docker schema 2 changes the digest"
expect_exit 0 -- curl -sfI -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
  "$PLAIN_URL/v2/afu9/a/manifests/docker"
expect_output_contains "Docker-Content-Digest: $docker_digest"
expect_output_contains "Content-Type: application/vnd.docker.distribution.manifest.v2+json"
list_digest="$(image_push_as v2s2 "$(index_layout_ref afu9/multi:v1)" afu9/multi:docker --all)"
expect_exit 0 -- curl -sfI -H "Accept: application/vnd.docker.distribution.manifest.list.v2+json" \
  "$PLAIN_URL/v2/afu9/multi/manifests/docker"
expect_output_contains "Docker-Content-Digest: $list_digest"
expect_output_contains "Content-Type: application/vnd.docker.distribution.manifest.list.v2+json"
expect_exit 1 -- registry_docker_config
expect_stderr_contains "registry_docker_config: the plain registry has no credentials"

section "populating a manifest's images (4 images x 3 tags)"
populate_start=$(date +%s%N)
push_manifest_images "$TEST_DATA/e2e/images-manifest.json" production "$SHA"
populate_ms=$((($(date +%s%N) - populate_start) / 1000000))
echo "populating took ${populate_ms} ms"
expect_eq 12 "$(wc -l <"$PUSHED_FILE" | tr -d ' ')" "12 image tags populated"
expect_eq 4 "$(cut -d' ' -f3 "$PUSHED_FILE" | sort -u | wc -l | tr -d ' ')" "4 distinct digests"
populate_ok=0
while read -r name tag digest; do
  [ "$(head_digest "$PLAIN_URL/v2/$name/manifests/$tag")" = "$digest" ] && populate_ok=$((populate_ok + 1))
done <"$PUSHED_FILE"
expect_eq 12 "$populate_ok" "every populated tag answers its digest"
expect_exit 0 -- grep -qx "afu9/mcp-github prod-0123456 .*" "$PUSHED_FILE"
expect_eq 200 "$(http_code "$PLAIN_URL/v2/afu9/control-center/manifests/prod-latest")" "prod-latest pushed"
: >"$PUSHED_FILE"
push_manifest_images "$TEST_DATA/e2e/images-manifest.json" staging "$SHA" \
  --skip afu9/mcp-deploy --skip afu9/mcp-github:stage-latest
expect_eq 8 "$(wc -l <"$PUSHED_FILE" | tr -d ' ')" "--skip leaves out an image and a tag"
expect_eq 404 "$(http_code "$PLAIN_URL/v2/afu9/mcp-github/manifests/stage-latest")" "skipped tag absent"
expect_eq 404 "$(http_code "$PLAIN_URL/v2/afu9/mcp-deploy/manifests/stage-0123456")" "skipped image absent"
expect_exit 1 -- manifest_tags "$TEST_DATA/e2e/images-manifest.json" qa "$SHA"
expect_stderr_contains "no tagging.prefixes for env qa"
expect_eq 5 "$(registry_request_count '"PUT /v2/afu9/a/manifests/[^ ]+ HTTP/1.1" 201')" \
  "registry log shows afu9/a's manifest PUTs (3 tags, a retag, a Docker copy)"
expect_ne 0 "$(registry_request_count '"HEAD /v2/afu9/b/manifests/v1 HTTP/1.1" 200')" \
  "registry log shows curl's HEADs"

section "on-disk OCI layouts, one per repository"
layout_tag "$SCRATCH/layouts/afu9/a" v1 "$ref_a"
layout_tag "$SCRATCH/layouts/afu9/a" latest "$ref_a"
layout_tag "$SCRATCH/layouts/afu9/multi" v1 "oci:$SCRATCH/images/index-afu9_multi_v1:index"
expect_exit 0 -- test -f "$SCRATCH/layouts/afu9/a/oci-layout"
expect_eq "$digest_a $digest_a" \
  "$(image_digest "oci:$SCRATCH/layouts/afu9/a:v1") $(image_digest "oci:$SCRATCH/layouts/afu9/a:latest")" \
  "layout tags carry the image digest"
expect_eq "$index_digest" "$(image_digest "oci:$SCRATCH/layouts/afu9/multi:v1")" "layout keeps the index"
: >"$PUSHED_FILE"
push_manifest_images "$TEST_DATA/e2e/images-manifest.json" production "$SHA" --layout "$SCRATCH/oci"
expect_eq 3 "$(jq '.manifests | length' "$SCRATCH/oci/afu9/mcp-deploy/index.json")" "populated layout has 3 tags"
expect_eq "$(awk '$1 == "afu9/mcp-deploy" { print $3; exit }' "$PUSHED_FILE")" \
  "$(image_digest "oci:$SCRATCH/oci/afu9/mcp-deploy:prod-$SHA")" "populated layout digest"

section "htpasswd registry"
registry_start htpasswd alice 'htpasswd-Secret-1'
expect_eq 401 "$(http_code "$REGISTRY_URL/v2/")" "no credentials: 401"
expect_exit 0 -- curl -sI "$REGISTRY_URL/v2/"
expect_output_contains 'Www-Authenticate: Basic realm="imagegate-e2e"'
expect_eq 401 "$(http_code "$REGISTRY_URL/v2/" -u alice:wrong)" "wrong password: 401"
expect_eq 200 "$(http_code "$REGISTRY_URL/v2/" -u 'alice:htpasswd-Secret-1')" "credentials: 200"
image_push "$ref_a" afu9/a:v1
expect_eq "$digest_a" "$(head_digest "$REGISTRY_URL/v2/afu9/a/manifests/v1" -u 'alice:htpasswd-Secret-1')" \
  "push with credentials"
expect_not_contains 'htpasswd-Secret-1' "$REGISTRY_LOG"
# shellcheck disable=SC2119 # no FILE: the default location
registry_docker_config
expect_eq "alice:htpasswd-Secret-1" \
  "$(jq -r --arg h "$REGISTRY_HOST" '.auths[$h].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" \
  "docker config.json holds the registry's credentials"
REGISTRY_PASSWORD=wrong-password expect_exit 1 -- \
  push_manifest_images "$TEST_DATA/e2e/images-manifest.json" production "$SHA"
expect_stderr_contains "error: pushing oci:"
expect_stderr_contains "authentication required"
expect_stderr_contains "error: populating $TEST_DATA/e2e/images-manifest.json (production) failed"

section "a port taken between free_port and the registry's bind is retried"
taken_port="${REGISTRY_HOST#*:}"
eval "real_$(declare -f free_port)"
# shellcheck disable=SC2317 # called by registry_start
free_port() {
  if [ ! -e "$SCRATCH/port_handed_out" ]; then
    touch "$SCRATCH/port_handed_out"
    echo "$taken_port"
  else
    real_free_port
  fi
}
registry_start plain
eval "$(declare -f real_free_port | sed 's/^real_free_port/free_port/')"
expect_ne "$taken_port" "${REGISTRY_HOST#*:}" "second attempt got another port"
expect_eq 200 "$(http_code "$REGISTRY_URL/v2/")" "the retried registry answers"
expect_exit 0 -- grep -q "address already in use" "$REGISTRY_LOG.port-taken"

section "TLS registry with a private CA"
registry_start tls
expect_eq https "${REGISTRY_URL%%:*}" "REGISTRY_URL is https"
expect_eq 200 "$(http_code "$REGISTRY_URL/v2/" --cacert "$REGISTRY_CA")" "curl --cacert: 200"
expect_exit 60 -- curl -sS -o /dev/null "$REGISTRY_URL/v2/"
expect_stderr_contains "certificate"
expect_eq 200 "$(http_code "https://localhost:${REGISTRY_HOST#*:}/v2/" --cacert "$REGISTRY_CA")" \
  "certificate also names localhost"
image_push "$ref_b" afu9/b:v1
expect_eq "$digest_b" "$(head_digest "$REGISTRY_URL/v2/afu9/b/manifests/v1" --cacert "$REGISTRY_CA")" \
  "skopeo pushed over TLS"

section "token registry: Bearer challenge, token server, real registry"
token_server_start bob 'token-Secret-2'
registry_start token
image_push "$ref_a" afu9/a:v1
expect_ne 0 "$(token_counters | jq '.tokens_issued')" "skopeo got tokens to push"
expect_exit 0 -- curl -sI -H "$ACCEPT_ALL" "$REGISTRY_URL/v2/afu9/a/manifests/v1"
expect_output_contains "HTTP/1.1 401"
expect_output_contains "Www-Authenticate: Bearer realm=\"$TOKEN_URL\",service=\"$TOKEN_SERVICE\",scope=\"repository:afu9/a:pull\""
token_reset
token_response="$(curl -sf -u 'bob:token-Secret-2' "$TOKEN_URL?service=$TOKEN_SERVICE&scope=repository:afu9/a:pull")"
token="$(jq -r .token <<<"$token_response")"
expect_eq "$token" "$(jq -r .access_token <<<"$token_response")" "token and access_token agree"
expect_eq 300 "$(jq -r .expires_in <<<"$token_response")" "expires_in"
expect_eq "$digest_a" "$(head_digest "$REGISTRY_URL/v2/afu9/a/manifests/v1" -H "Authorization: Bearer $token")" \
  "Bearer token: 200 with the digest"
expect_eq 401 "$(http_code "$REGISTRY_URL/v2/afu9/b/manifests/v1" -H "Authorization: Bearer $token")" \
  "token for afu9/a does not open afu9/b"
expect_eq 401 "$(http_code "$REGISTRY_URL/v2/afu9/a/manifests/v1" -H "Authorization: Bearer x${token:1}")" \
  "tampered token: 401"
expect_eq '{"repository:afu9/a:pull":1}' "$(token_counters | jq -c .by_scope)" "one token counted per scope"
expect_exit 22 -- curl -sf -u bob:wrong "$TOKEN_URL?service=$TOKEN_SERVICE&scope=repository:afu9/a:pull"
expect_exit 22 -- curl -sf "$TOKEN_URL?service=$TOKEN_SERVICE&scope=repository:afu9/a:pull"
expect_eq 2 "$(token_counters | jq .denied)" "wrong and missing credentials denied"
claims="$(cut -d. -f2 <<<"$token" | tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d)"
expect_eq "$TOKEN_SERVICE bob pull" "$(jq -r '"\(.aud) \(.sub) \(.access[0].actions | join(","))"' <<<"$claims")" \
  "token claims: aud, sub, granted actions"
expect_not_contains 'token-Secret-2' "$REGISTRY_LOG" "$TOKEN_LOG"

section "token server options: pull-only users, anonymous pulls"
bg_start token_ro "$FAKES_DIR/token_server" --port 0 --user carol --password ro-pass --allow pull \
  --anonymous --key "$TOKEN_KEY" --cert "$TOKEN_CERT" --issuer "$TOKEN_ISSUER"
ro_url="http://127.0.0.1:$(wait_first_line "$SCRATCH/token_ro.out" "$BG_PID")/token"
scope="service=$TOKEN_SERVICE&scope=repository:afu9/a:pull,push"
expect_eq pull "$(curl -sf -u carol:ro-pass "$ro_url?$scope" | jq -r .token | cut -d. -f2 |
  tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d |
  jq -r '.access[0].actions | join(",")')" "--allow pull grants no push"
expect_eq '"" pull' "$(curl -sf "$ro_url?$scope" | jq -r .token | cut -d. -f2 |
  tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d |
  jq -r '"\"\(.sub)\" \(.access[0].actions | join(","))"')" "--anonymous grants pull to nobody"
expect_eq 401 "$(curl -s -o /dev/null -w '%{http_code}' -u carol:wrong "$ro_url?$scope")" \
  "--anonymous still refuses wrong credentials"

section "token realm behind the fault proxy"
fault_proxy_start --upstream "http://127.0.0.1:$TOKEN_PORT"
registry_start token "$FAULT_URL/token"
expect_exit 0 -- curl -sI "$REGISTRY_URL/v2/afu9/a/manifests/v1"
expect_output_contains "Www-Authenticate: Bearer realm=\"$FAULT_URL/token\""
fault_plan '[{"status":500}]'
via_proxy="$FAULT_URL/token?service=$TOKEN_SERVICE&scope=repository:afu9/a:pull"
expect_eq 500 "$(curl -s -o /dev/null -w '%{http_code}' -u 'bob:token-Secret-2' "$via_proxy")" \
  "token endpoint answers the scripted 500"
token="$(curl -sf -u 'bob:token-Secret-2' "$via_proxy" | jq -r .token)"
expect_eq 404 "$(http_code "$REGISTRY_URL/v2/afu9/a/manifests/v1" -H "Authorization: Bearer $token")" \
  "token fetched through the proxy is accepted (empty registry: 404, not 401)"
expect_eq "true true" "$(fault_log | jq -r '[.[].authorization | tostring] | join(" ")')" \
  "proxy log records that credentials came, not what they were"
fault_log >"$SCRATCH/token_proxy_log.json"
expect_not_contains 'token-Secret-2' "$SCRATCH/token_proxy_log.json"

section "fault proxy in front of the plain registry"
fault_proxy_start --upstream "$PLAIN_URL"
proxied="$FAULT_URL/v2/afu9/a/manifests/v1"
PROXY_PORT="$FAULT_PORT"
fault_plan '[{"status":500},{"status":503},{"pass":true}]'
codes="$(http_code "$proxied") $(http_code "$proxied") $(http_code "$proxied")"
expect_eq "500 503 200" "$codes" "scripted 500, 503, then pass"
expect_exit 0 -- curl -sfI -H "$ACCEPT_ALL" "$proxied"
expect_output_contains "Docker-Content-Digest: $digest_a"
expect_output_contains "Content-Length: $(jq ".manifests[0].size" "$SCRATCH/images/app-a/index.json")"
expect_exit 0 -- curl -sf -H "Accept: $OCI_MANIFEST" "$proxied"
expect_output_contains '"schemaVersion":2'
fault_plan '[{"status":429,"retry_after":"1"}]'
expect_exit 0 -- curl -sI "$proxied"
expect_output_contains "HTTP/1.1 429"
expect_output_contains "Retry-After: 1"
fault_plan '[{"truncate":true}]'
expect_exit 18 -- curl -sS -o /dev/null -H "Accept: $OCI_MANIFEST" "$proxied"
expect_stderr_contains "bytes remaining to read"
forged="sha256:$(printf '0%.0s' {1..64})"
fault_plan "[{\"status\":200,\"body\":\"{}\",\"headers\":{\"Docker-Content-Digest\":\"$forged\",\"Content-Type\":\"$OCI_MANIFEST\"}}]"
expect_exit 0 -- curl -si "$proxied"
expect_output_contains "Docker-Content-Digest: $forged"
expect_output_contains "Content-Type: $OCI_MANIFEST"
expect_eq 1 "$(grep -ci '^content-type:' "$LAST_OUT")" "exactly one Content-Type header"
fault_plan '{"always":{"status":503}}'
expect_eq "503 503" "$(http_code "$proxied") $(http_code "$proxied")" "always 503"
fault_plan '[{"delay_ms":400}]'
elapsed="$(curl -s -o /dev/null -I -w '%{time_total}' -H "$ACCEPT_ALL" "$proxied")"
expect_eq 1 "$(awk -v t="$elapsed" 'BEGIN { print (t >= 0.4) ? 1 : 0 }')" "delay_ms holds the answer (${elapsed}s)"
expect_exit 1 -- fault_plan '[{"stauts":500}]'
expect_stderr_contains "unknown action key 'stauts'"
expect_exit 1 -- fault_plan '{"status":500}'
expect_stderr_contains "plan must be a JSON list"
expect_eq "200 200" "$(http_code "$proxied") $(http_code "$proxied")" \
  "plan used up and bad plans rejected: requests pass again"
SAVED_HOST="$REGISTRY_HOST" SAVED_URL="$REGISTRY_URL" SAVED_USER="${REGISTRY_USER:-}"
REGISTRY_HOST="$FAULT_HOST" REGISTRY_URL="$FAULT_URL" REGISTRY_USER=""
image_push "$ref_b" afu9/through-proxy:v1
REGISTRY_HOST="$SAVED_HOST" REGISTRY_URL="$SAVED_URL" REGISTRY_USER="$SAVED_USER"
expect_eq "$digest_b" "$(head_digest "$PLAIN_URL/v2/afu9/through-proxy/manifests/v1")" \
  "a push through the proxy reaches the registry unchanged"

echo '[{"status":418},{"status":502}]' >"$SCRATCH/plan.json"
fault_proxy_start --upstream "$PLAIN_URL" --script "$SCRATCH/plan.json"
scripted="$FAULT_URL/v2/afu9/a/manifests/v1"
expect_eq "418 502 200" "$(http_code "$scripted") $(http_code "$scripted") $(http_code "$scripted")" \
  "--script plans the first requests"
bg_stop "$FAULT_PID"

section "redirect to another server: Authorization must not follow"
e2e_secret redirect-Secret-3
fault_proxy_start --record-only
RECORD_PORT="$FAULT_PORT" RECORD_URL="$FAULT_URL"
fault_reset "$PROXY_PORT"
fault_plan "[{\"redirect\":\"$RECORD_URL\"},{\"redirect\":\"$RECORD_URL\"}]" "$PROXY_PORT"
expect_exit 0 -- curl -sfL -H "Authorization: Bearer redirect-Secret-3" "$proxied"
expect_output_contains "ok"
expect_eq '[{"action":"record","authorization":false,"method":"GET","path":"/v2/afu9/a/manifests/v1","status":200}]' \
  "$(fault_log "$RECORD_PORT" | jq -c .)" "record-only server saw the request without Authorization"
expect_eq "true redirect 302" "$(fault_log "$PROXY_PORT" | jq -r '.[0] | "\(.authorization) \(.action) \(.status)"')" \
  "the proxy saw Authorization and redirected"
# The record-only log would show it if a client did forward the header.
expect_exit 0 -- curl -sfL --location-trusted -H "Authorization: Bearer redirect-Secret-3" "$proxied"
expect_eq true "$(fault_log "$RECORD_PORT" | jq -r '.[1].authorization')" "forwarded Authorization is logged"
fault_log "$PROXY_PORT" >"$SCRATCH/proxy_log.json"
fault_log "$RECORD_PORT" >"$SCRATCH/record_log.json"
expect_not_contains 'redirect-Secret-3' "$SCRATCH/proxy_log.json" "$SCRATCH/record_log.json" \
  "$SCRATCH"/fault_proxy*.log

finish
