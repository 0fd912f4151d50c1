#!/usr/bin/env bash
# Memory bounded whatever the peer sends: a registry (and an AWS endpoint) that answers every
# request with 64 MiB, with Content-Length and chunked without one, 16 requests at once. The gate
# fails closed (BAD_RESPONSE), and its peak resident memory, measured by /usr/bin/time, stays
# under 40 MiB: the per-response cap is enforced before the body is read (Content-Length) or
# as it arrives (chunked), and the bytes buffered across all transfers have one budget.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/fault.sh"
require_cmd /usr/bin/time jq curl

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

finish
