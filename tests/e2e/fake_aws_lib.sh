#!/usr/bin/env bash
# The e2e library's fake AWS helpers (lib/aws.sh): start, populate images, faults and counters, as
# other suites use them; the AWS CLI checks what the fake then serves.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
require_cmd jq curl /usr/bin/aws

AKID=AKIAFAKEAWSLIBTEST01
SECRET=libTestSecretKey0123456789abcdefghijklmn
cat >"$SCRATCH/state.json" <<JSON
{"credentials": [{"accessKeyId": "$AKID", "secretAccessKey": "$SECRET"}]}
JSON

section "start"
fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
expect_eq "$FAKE_AWS_URL" "http://127.0.0.1:$FAKE_AWS_PORT" "FAKE_AWS_URL names the port"

section "populated images"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}' \
  >"$SCRATCH/m1.json"
printf '{"schemaVersion":2,"layers":[]}' >"$SCRATCH/m2.json"
fake_aws_add_image afu9/web prod-abc "$SCRATCH/m1.json"
fake_aws_add_image afu9/web prod-latest "$SCRATCH/m1.json"
fake_aws_add_image afu9/web prod-latest "$SCRATCH/m2.json" application/vnd.oci.image.manifest.v1+json
d1="sha256:$(sha256sum "$SCRATCH/m1.json" | cut -d' ' -f1)"
d2="sha256:$(sha256sum "$SCRATCH/m2.json" | cut -d' ' -f1)"
expect_exit 0 -- /usr/bin/aws --endpoint-url "$FAKE_AWS_URL" ecr batch-get-image \
  --repository-name afu9/web --image-ids imageTag=prod-abc imageTag=prod-latest
expect_eq "$d1 $d2" "$(jq -r '[.images[].imageId.imageDigest] | join(" ")' "$LAST_OUT")" \
  "tags point at the digests of the populated files (prod-latest moved)"

section "faults and counters"
fake_aws_reset_counters
fake_aws_faults '{"throttle":{"count":1,"operation":"DescribeRepositories"}}'
expect_exit 0 -- /usr/bin/aws --endpoint-url "$FAKE_AWS_URL" ecr describe-repositories
expect_eq 2 "$(fake_aws_count DescribeRepositories)" "the throttled call was retried"
expect_eq 0 "$(fake_aws_count BatchGetImage)" "other operations were not counted"
expect_exit 1 -- fake_aws_faults '{"throttle":{"cont":1}}'
expect_stderr_contains "unknown key 'cont'"
expect_not_contains "$SECRET" "$FAKE_AWS_LOG"
finish
