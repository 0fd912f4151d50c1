#!/usr/bin/env bash
# Memory bounded whatever the peer sends: a registry, a Bearer token server, an AWS endpoint (ECR
# for the gate, ECS for verify) that answer every request with 64 MiB, with Content-Length and
# chunked without one, 16 requests at once, and a docker credential helper and an AWS
# credential_process that print 64 MiB. Every run fails closed with its finding, and its peak
# resident memory, measured by /usr/bin/time, stays under 40 MiB: the per-response cap is enforced
# before the body is read (Content-Length) or as it arrives (chunked), the bytes buffered across
# all transfers have one budget, and a helper's output is read up to its cap, then the helper is
# stopped. Last, a command still runs whole when no second thread can be started.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/fault.sh"
source "$E2E_LIB/registry.sh"
require_cmd /usr/bin/time jq curl docker-registry openssl prlimit

SHA=0123456789abcdef0123456789abcdef01234567
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
LIMIT_KB=$((40 * 1024))
# 16 images x 3 tags; the bench's generator writes the manifest and its Dockerfiles.
"$E2E_PYTHON" "$SOURCE_DIR/bench/lib/gen.py" "$SCRATCH/gen" 16 "$SHA" "http://127.0.0.1:1"
M="$SCRATCH/gen/root/images-manifest.json"
fault_proxy_start --record-only --threads 40

# peak CMD... : runs CMD (output in $LAST_OUT/$LAST_ERR, exit code in $PEAK_RC) and sets PEAK_KB,
# its maximum resident set size in KiB.
peak() {
  PEAK_RC=0
  /usr/bin/time -f '%M' -o "$SCRATCH/time.out" "$@" >"$LAST_OUT" 2>"$LAST_ERR" || PEAK_RC=$?
  PEAK_KB="$(tail -n 1 "$SCRATCH/time.out")"
}

for mode in content-length chunked; do
  chunked=false
  [ "$mode" = content-length ] || chunked=true
  section "registry: every answer 64 MiB ($mode), 16 at once"
  fault_reset
  fault_plan '{"always":{"status":200,"body_bytes":67108864,"chunked":'"$chunked"',"headers":{"Content-Type":"'"$OCI_MANIFEST"'"}}}'
  peak "$IMAGEGATE" gate -m "$M" --env production --sha "$SHA" --registry "$FAULT_URL" \
    --concurrency 16 --no-color
  kb="$PEAK_KB"
  echo "peak RSS, registry, $mode: $kb KiB"
  expect_eq 1 "$PEAK_RC" "registry ($mode): the gate fails closed"
  expect_output_contains "error[BAD_RESPONSE] img-0"
  expect_output_contains "response body exceeds 4194304 bytes (max_body_bytes): GET $FAULT_URL/v2/bench/img-"
  gets="$(fault_log | jq '[.[] | select(.method == "GET")] | length')"
  if [ "$mode" = content-length ]; then
    # Refused on the announced length, before the body: an answer, not retried.
    expect_eq 48 "$gets" "registry ($mode): one GET per tag (48), none retried"
  else
    # A body that outgrows the shared budget is retried once the others are done, at most 4 times.
    expect_eq 1 "$((gets >= 48 && gets <= 4 * 48))" "registry ($mode): 48 GETs and their retries ($gets)"
  fi
  expect_eq 1 "$((kb < LIMIT_KB))" "registry ($mode): peak RSS ${kb} KiB < ${LIMIT_KB} KiB"
done

for mode in content-length chunked; do
  chunked=false
  [ "$mode" = content-length ] || chunked=true
  section "AWS: every ECR answer 64 MiB ($mode), 16 repositories at once"
  fault_reset
  fault_plan '{"always":{"status":200,"body_bytes":67108864,"chunked":'"$chunked"',"headers":{"Content-Type":"application/x-amz-json-1.1"}}}'
  peak env AWS_ACCESS_KEY_ID=AKIAMEMORYBOUNDED001 AWS_SECRET_ACCESS_KEY=memoryBoundedSecret \
    AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true "$IMAGEGATE" gate -m "$M" \
    --env production --sha "$SHA" --registry ecr --endpoint-url "$FAULT_URL" --concurrency 16 --no-color
  kb="$PEAK_KB"
  echo "peak RSS, AWS, $mode: $kb KiB"
  expect_eq 1 "$PEAK_RC" "AWS ($mode): the gate fails closed"
  expect_output_contains "error[BAD_RESPONSE] img-0"
  expect_output_contains "response body exceeds"
  expect_ne 0 "$(fault_log | jq '[.[] | select(.method == "POST")] | length')" \
    "AWS ($mode): the ECR calls reached the proxy"
  expect_eq 1 "$((kb < LIMIT_KB))" "AWS ($mode): peak RSS ${kb} KiB < ${LIMIT_KB} KiB"
done

# The Bearer flow: the registry's challenge names the proxy as its token realm.
registry_start token "$FAULT_URL/token"
registry_docker_config
for mode in content-length chunked; do
  chunked=false
  [ "$mode" = content-length ] || chunked=true
  section "token server: every token answer 64 MiB ($mode), 16 repositories at once"
  fault_reset
  fault_plan '{"always":{"status":200,"body_bytes":67108864,"chunked":'"$chunked"',"headers":{"Content-Type":"application/json"}}}'
  peak "$IMAGEGATE" gate -m "$M" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
    --concurrency 16 --no-color
  kb="$PEAK_KB"
  echo "peak RSS, token server, $mode: $kb KiB"
  expect_eq 1 "$PEAK_RC" "token server ($mode): the gate fails closed"
  expect_output_contains "error[BAD_RESPONSE] img-0"
  expect_output_contains "token endpoint for repository:bench/img-"
  expect_output_contains "response body exceeds"
  tokens="$(fault_log | jq '[.[] | select(.path | startswith("/token"))] | length')"
  expect_eq 1 "$((tokens >= 16))" "token server ($mode): every repository asked for its token ($tokens requests)"
  expect_eq 1 "$((kb < LIMIT_KB))" "token server ($mode): peak RSS ${kb} KiB < ${LIMIT_KB} KiB"
done

for mode in content-length chunked; do
  chunked=false
  [ "$mode" = content-length ] || chunked=true
  section "AWS: every ECS answer 64 MiB ($mode)"
  fault_reset
  fault_plan '{"always":{"status":200,"body_bytes":67108864,"chunked":'"$chunked"',"headers":{"Content-Type":"application/x-amz-json-1.1"}}}'
  peak env AWS_ACCESS_KEY_ID=AKIAMEMORYBOUNDED001 AWS_SECRET_ACCESS_KEY=memoryBoundedSecret \
    AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true "$IMAGEGATE" verify -m "$M" \
    --env production --sha "$SHA" --cluster bench --service web --endpoint-url "$FAULT_URL" --no-color
  kb="$PEAK_KB"
  echo "peak RSS, ECS, $mode: $kb KiB"
  expect_eq 1 "$PEAK_RC" "ECS ($mode): verify fails closed"
  expect_output_contains "response body exceeds"
  expect_eq 1 "$((kb < LIMIT_KB))" "ECS ($mode): peak RSS ${kb} KiB < ${LIMIT_KB} KiB"
done

section "a docker credential helper that prints 64 MiB"
mkdir -p "$SCRATCH/bin"
cat >"$SCRATCH/bin/docker-credential-flood" <<'EOF2'
#!/bin/sh
head -c 67108864 /dev/zero | tr '\0' x
EOF2
chmod +x "$SCRATCH/bin/docker-credential-flood"
jq -n --arg host "$REGISTRY_HOST" '{credHelpers: {($host): "flood"}}' >"$DOCKER_CONFIG/config.json"
fault_reset
fault_plan '{"always":{"pass":true}}'
PATH="$SCRATCH/bin:$PATH" peak "$IMAGEGATE" gate -m "$M" --env production --sha "$SHA" \
  --registry "$REGISTRY_URL" --concurrency 16 --no-color
kb="$PEAK_KB"
echo "peak RSS, credential helper: $kb KiB"
expect_eq 1 "$PEAK_RC" "credential helper: the gate fails closed"
expect_output_contains "error[AUTH_FAILED] img-0"
expect_output_contains "credential helper docker-credential-flood for $REGISTRY_HOST: output too large"
expect_eq 1 "$((kb < LIMIT_KB))" "credential helper: peak RSS ${kb} KiB < ${LIMIT_KB} KiB"

section "an AWS credential_process that prints 64 MiB"
cat >"$SCRATCH/flood-process" <<'EOF2'
#!/bin/sh
head -c 67108864 /dev/zero | tr '\0' x
EOF2
chmod +x "$SCRATCH/flood-process"
printf '[default]\nregion = eu-central-1\ncredential_process = %s\n' "$SCRATCH/flood-process" >"$SCRATCH/aws-config"
peak env AWS_CONFIG_FILE="$SCRATCH/aws-config" AWS_EC2_METADATA_DISABLED=true "$IMAGEGATE" gate -m "$M" \
  --env production --sha "$SHA" --registry ecr --endpoint-url "$FAULT_URL" --concurrency 16 --no-color
kb="$PEAK_KB"
echo "peak RSS, credential_process: $kb KiB"
expect_eq 1 "$PEAK_RC" "credential_process: the gate fails closed"
expect_output_contains "error[AUTH_FAILED]"
expect_output_contains "output is larger than 65536 bytes, not a credentials document"
expect_eq 1 "$((kb < LIMIT_KB))" "credential_process: peak RSS ${kb} KiB < ${LIMIT_KB} KiB"

section "no second thread to be had: the schema compiles on the main thread"
# Every command starts the schema's compilation on a thread of its own. Under a 300 MiB address
# space with a 1 GiB stack limit (a thread's stack), no thread can start: the command must still
# run whole, not abort (it did, with std::system_error, before this was handled).
expect_exit 0 -- prlimit --stack=$((1024 * 1024 * 1024)) --as=$((300 * 1024 * 1024)) \
  "$IMAGEGATE" validate -m "$SOURCE_DIR/examples/afu9/images-manifest.json" --root "$SOURCE_DIR/examples/afu9"
expect_output_contains "valid"
expect_exit 1 -- prlimit --stack=$((1024 * 1024 * 1024)) --as=$((300 * 1024 * 1024)) \
  "$IMAGEGATE" validate -m "$TEST_DATA/manifests/missing-dockerfile.json" --root "$SOURCE_DIR/examples/afu9"
expect_output_contains "DOCKERFILE_MISSING"

finish
