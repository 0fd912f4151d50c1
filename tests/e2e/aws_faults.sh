#!/usr/bin/env bash
# The AWS fault matrix: one table of faults the fake AWS injects at a given call of a given
# operation (tests/fakes/README.md, POST /_fake/faults "rules"), each run through verify against
# ECS (or a gate against ECR). Every row either recovers as the AWS SDKs' standard retry mode does
# (3 attempts, a retry quota of 500 tokens, 5 per retry; the signing time corrected from the
# server's Date; expired credentials resolved again once) or fails closed with its own finding.
# Each row asserts the exit code, the finding code (and the text that tells it apart), the
# requests the fake saw of the faulted operation and in all; the matrix is printed at the end.
# shellcheck disable=SC2119,SC2317 # optional-argument helpers; functions run via expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
source "$E2E_LIB/table.sh"
require_cmd jq curl sha256sum

EX=$SOURCE_DIR/examples/afu9
M=$EX/images-manifest.json
TD=$EX/task-definition.json
SHA=0123456789abcdef0123456789abcdef01234567
REG=123456789012.dkr.ecr.eu-central-1.amazonaws.com
AKID=AKIAFAKEAWSFAULTS001
SECRET=awsFaultsSecretKey0123456789abcdefghijklm
CONTAINER_AKID=ASIAFAKEAWSFAULTSCT1
CONTAINER_SECRET=awsFaultsContainerSecret0123456789abcdef
CONTAINER_TOKEN=awsFaultsContainerSessionToken0123456789
CONTAINER_AUTH=awsFaultsContainerAuthorization0123
e2e_secret "$SECRET" "$CONTAINER_SECRET" "$CONTAINER_TOKEN" "$CONTAINER_AUTH"
digest() { printf 'sha256:%s' "$(printf "$1%.0s" $(seq 64))"; }
ig() { "$IMAGEGATE" "$@" --no-color; }

# Passed evidence of the example at $SHA, each image on its own digest (1..4); pin makes the task
# definition ECS runs (revision 2) from it.
ecr_pass_evidence "$SCRATCH/evidence.json"
ig pin -m "$M" --env production --sha "$SHA" --allow-unmanaged log-router \
  --evidence "$SCRATCH/evidence.json" --task-def "$TD" -o "$SCRATCH/pinned.json" 2>/dev/null
TD2=arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:2

# 60 repositories for the 5xx storm through the gate (one BatchGetImage each, all at once).
"$E2E_PYTHON" "$SOURCE_DIR/bench/lib/gen.py" "$SCRATCH/gen" 60 "$SHA" "http://127.0.0.1:1" "$AKID" "$SECRET"
GEN_M="$SCRATCH/gen/root/images-manifest.json"

jq -n --arg akid "$AKID" --arg secret "$SECRET" --arg cakid "$CONTAINER_AKID" \
  --arg csecret "$CONTAINER_SECRET" --arg ctoken "$CONTAINER_TOKEN" --arg cauth "$CONTAINER_AUTH" \
  --slurpfile old "$TD" --slurpfile new "$SCRATCH/pinned.json" \
  --slurpfile gen "$SCRATCH/gen/fake-aws-state.json" '{
  listTasksPageSize: 1,
  credentials: [{accessKeyId: $akid, secretAccessKey: $secret},
                {accessKeyId: $cakid, secretAccessKey: $csecret, sessionToken: $ctoken}],
  container: {authorizationToken: $cauth, accessKeyId: $cakid},
  repositories: $gen[0].repositories,
  taskDefinitions: [($old[0] + {revision: 1}), ($new[0] + {revision: 2})],
  clusters: {afu9: {services: {}}}}' >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
unset AWS_ENDPOINT_URL

# The service every verify row reads: three RUNNING tasks of revision 2, so ListTasks (one task
# per page) answers three pages; "pending": one task PENDING until the second DescribeTasks.
SERVICE_RUNNING='{"taskDefinition": "afu9:2", "desiredCount": 3}'
SERVICE_PENDING="{\"taskDefinition\": \"afu9:2\", \"desiredCount\": 1, \"tasks\": [{\"taskDefinitionArn\": \"$TD2\", \"lastStatus\": \"PENDING\", \"runningAfterDescribes\": 1}]}"

V=(ig verify -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/evidence.json"
  --allow-unmanaged log-router --endpoint-url "$FAKE_AWS_URL" --cluster afu9 --service web)

# The commands of the rows. Each sets the service up and runs imagegate (expect_exit's CMD).
run_verify() { "${V[@]}"; }
run_verify_wait() { "${V[@]}" --wait 1m; }
# Container credentials (with their authorization token) instead of static keys: they can be
# resolved again after an ExpiredTokenException.
run_verify_wait_container() {
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$FAKE_AWS_URL/_fake/container-credentials" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN="$CONTAINER_AUTH" "$IMAGEGATE" "${V[@]:1}" --no-color --wait 1m
}
run_gate_storm() {
  ig gate -m "$GEN_M" --env production --sha "$SHA" --registry ecr --endpoint-url "$FAKE_AWS_URL" \
    --region eu-central-1
}

# ROWS: name|command|service|faults|exit|finding|text|operation|requests of it|requests in all
#   command: run_<command>; service: running|pending; faults: the /_fake/faults body;
#   finding: the error finding's code ("-": none, and exit 0); text: what the output must also
#   say (may be empty); the counts are the fake's, after the run (ContainerCredentials included).
# Without faults a verify makes 7 requests: DescribeServices, ListServiceDeployments,
# DescribeTaskDefinition, ListTasks x3 (one task per page), DescribeTasks; with --wait on one
# PENDING task 8: ListTasks x2, DescribeTasks x2 and the container credentials once. Each
# recovered row adds exactly its retries (and credential resolutions); "throttled on page 2,
# every attempt" never asks for page 3 nor DescribeTasks, and adds two retries: BASE again.
R='"rules"'
ROWS=(
  "baseline: no fault|verify|running|{$R:[]}|0|-|verified: every service runs exactly this deploy's images|ListTasks|3|BASE"
  "throttled on page 2 of ListTasks|verify|running|{$R:[{\"operation\":\"ListTasks\",\"call\":2,\"answer\":\"throttle\"}]}|0|-|verified|ListTasks|4|BASE+1"
  "throttled on page 2, every attempt|verify|running|{$R:[{\"operation\":\"ListTasks\",\"call\":2,\"count\":-1,\"answer\":\"throttle\"}]}|1|THROTTLED|ListTasks failed: ecs ListTasks: ThrottlingException: Rate exceeded (HTTP 400, request id|ListTasks|4|BASE+0"
  "truncated JSON answer|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"answer\":\"truncatedJson\"}]}|1|BAD_RESPONSE|ecs DescribeServices: answer is not a JSON object (HTTP 200|DescribeServices|1|1"
  "HTML 502 from a proxy, once|verify|running|{$R:[{\"operation\":\"DescribeTasks\",\"answer\":\"html502\"}]}|0|-|verified|DescribeTasks|2|BASE+1"
  "HTML 502 from a proxy, persistent|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"count\":-1,\"answer\":\"html502\"}]}|1|UNREACHABLE|ecs DescribeServices: HTTP 502 from a proxy or gateway, not an AWS answer (text/html, no AWS error code, request id none) after 3 attempts|DescribeServices|3|3"
  "clock 20 min behind: InvalidSignatureException|verify|running|{$R:[],\"clockOffsetSeconds\":1200}|0|-|verified|DescribeServices|2|BASE+1"
  "clock 20 min ahead: InvalidSignatureException|verify|running|{$R:[],\"clockOffsetSeconds\":-1200}|0|-|verified|DescribeServices|2|BASE+1"
  "clock skew: RequestTimeTooSkewed|verify|running|{$R:[],\"clockOffsetSeconds\":1200,\"skewErrorType\":\"RequestTimeTooSkewed\"}|0|-|verified|DescribeServices|2|BASE+1"
  "clock skew: SignatureDoesNotMatch|verify|running|{$R:[],\"clockOffsetSeconds\":-1200,\"skewErrorType\":\"SignatureDoesNotMatch\"}|0|-|verified|DescribeServices|2|BASE+1"
  "SignatureDoesNotMatch, clocks agree|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"answer\":\"error\",\"status\":403,\"type\":\"SignatureDoesNotMatch\",\"message\":\"The request signature we calculated does not match\"}]}|1|AUTH_FAILED|ecs DescribeServices: SignatureDoesNotMatch: The request signature we calculated does not match (HTTP 403|DescribeServices|1|1"
  "baseline: verify --wait, a PENDING task|verify_wait_container|pending|{$R:[]}|0|-|verified|DescribeTasks|2|WAITBASE"
  "ExpiredToken during verify --wait|verify_wait_container|pending|{$R:[{\"operation\":\"DescribeTasks\",\"call\":2,\"answer\":\"expiredToken\"}]}|0|-|verified|DescribeTasks|3|WAITBASE+2"
  "ExpiredToken, static keys|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"count\":-1,\"answer\":\"expiredToken\"}]}|1|AUTH_FAILED|ecs DescribeServices: ExpiredTokenException: The security token included in the request is expired (HTTP 400|DescribeServices|2|2"
  "500 InternalFailure, persistent|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"count\":-1,\"answer\":\"internalFailure\"}]}|1|AWS_ERROR|after 3 attempts|DescribeServices|3|3"
  "5xx storm past the retry quota (60 calls)|gate_storm|running|{$R:[{\"operation\":\"BatchGetImage\",\"count\":-1,\"answer\":\"internalFailure\"}]}|1|AWS_ERROR|after 2 attempts (retry quota exhausted)|BatchGetImage|160|161"
  "connection cut mid-body, once|verify|running|{$R:[{\"operation\":\"DescribeTasks\",\"answer\":\"cut\"}]}|0|-|verified|DescribeTasks|2|BASE+1"
  "connection cut mid-body, persistent|verify|running|{$R:[{\"operation\":\"DescribeServices\",\"count\":-1,\"answer\":\"cut\"}]}|1|BAD_RESPONSE|transfer closed with|DescribeServices|3|3"
)

total_requests() { fake_aws_counters | jq '[.[]] | add // 0'; }

MATRIX=("fault|exit|finding|requests (operation)|requests (all)|result")
BASE=""
WAITBASE=""
for row in "${ROWS[@]}"; do
  IFS='|' read -r name command service faults want_exit want_finding want_text op want_op want_total <<<"$row"
  section "$name"
  fake_aws_merge_state '{"clusters": {"afu9": {"services": {"web": null}}}}' >/dev/null
  if [ "$service" = pending ]; then service_json="$SERVICE_PENDING"; else service_json="$SERVICE_RUNNING"; fi
  fake_aws_merge_state "{\"clusters\": {\"afu9\": {\"services\": {\"web\": $service_json}}}}" >/dev/null
  fake_aws_faults '{"rules":[],"clockOffsetSeconds":0,"skewErrorType":""}' >/dev/null
  fake_aws_faults "$faults" >/dev/null
  fake_aws_reset_counters >/dev/null
  failed_before=$E2E_FAILED
  got_exit=0
  "run_$command" >"$LAST_OUT" 2>"$LAST_ERR" || got_exit=$?
  expect_eq "$want_exit" "$got_exit" "$name: exit code"
  [ "$got_exit" = "$want_exit" ] || _e2e_show_output
  if [ "$want_finding" = - ]; then
    expect_eq 0 "$(grep -c '^error\[' "$LAST_OUT" || true)" "$name: no error finding"
  else
    expect_output_contains "error[$want_finding]"
  fi
  [ -z "$want_text" ] || expect_output_contains "$want_text"
  echo "requests: $(fake_aws_counters | jq -c .)"
  got_op="$(fake_aws_count "$op")"
  got_total="$(total_requests)"
  # The baseline rows fix what a clean run costs; the others add their retries to it.
  if [ "$want_total" = BASE ]; then
    BASE="$got_total"
    want_total="$got_total"
    expect_eq 7 "$BASE" "$name: a clean verify makes 7 requests"
  elif [ "$want_total" = WAITBASE ]; then
    WAITBASE="$got_total"
    want_total="$got_total"
    expect_eq 8 "$WAITBASE" "$name: a clean verify --wait makes 8 requests"
  elif [[ "$want_total" == BASE+* ]]; then
    want_total=$((BASE + ${want_total#BASE+}))
  elif [[ "$want_total" == WAITBASE+* ]]; then
    want_total=$((WAITBASE + ${want_total#WAITBASE+}))
  fi
  expect_eq "$want_op" "$got_op" "$name: $op requests"
  expect_eq "$want_total" "$got_total" "$name: requests in all"
  if [ "$command" = verify_wait_container ]; then
    expect_eq "$([ "$name" = "${name#ExpiredToken}" ] && echo 1 || echo 2)" \
      "$(fake_aws_count ContainerCredentials)" "$name: container credentials resolved (again after ExpiredToken)"
    requests="$(curl -sSf "$FAKE_AWS_URL/_fake/requests")"
    expect_eq "$([ "$name" = "${name#ExpiredToken}" ] && echo 0 || echo 1)" \
      "$(jq '[.[] | select(.operation == "DescribeTasks" and .status == 400)] | length' <<<"$requests")" \
      "$name: ExpiredTokenException answers"
    expect_eq "$CONTAINER_AKID" "$(jq -r '[.[] | select(.operation != null) | .accessKeyId // empty] | unique | join(",")' <<<"$requests")" \
      "$name: every call signed with the container credentials"
  fi
  if [ "$command" = gate_storm ]; then
    # 60 calls, 2 retries each would need 600 tokens of 500: round 1 retries all 60 (300 tokens),
    # round 2 the first 40 (200), the last 20 find it empty (one finding per tag, 3 tags each).
    expect_eq "20 60" "$(grep 'retry quota exhausted' "$LAST_OUT" | grep -o '^error\[AWS_ERROR\] img-[0-9]*' | sort -u | wc -l) $(grep -c 'retry quota exhausted' "$LAST_OUT")" \
      "$name: 20 images (60 tags) found the quota empty after 2 attempts"
    expect_eq "img-40 img-59" "$(grep 'retry quota exhausted' "$LAST_OUT" | grep -o 'img-[0-9]*' | sort -t- -k2 -n -u | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')" \
      "$name: the last 20 calls of the batch"
    expect_eq "40 120" "$(grep 'InternalFailure.* after 3 attempts' "$LAST_OUT" | grep -o '^error\[AWS_ERROR\] img-[0-9]*' | sort -u | wc -l) $(grep -c 'InternalFailure.* after 3 attempts' "$LAST_OUT")" \
      "$name: 40 images (120 tags) made their 3 attempts"
  fi
  expect_not_contains "$SECRET"
  expect_not_contains "$CONTAINER_SECRET"
  result=ok
  [ "$E2E_FAILED" = "$failed_before" ] || result=FAIL
  MATRIX+=("$name|$got_exit|${want_finding/-/none (recovered)}|$op $got_op|$got_total|$result")
done

echo
table_print "${MATRIX[@]}"
echo
finish
