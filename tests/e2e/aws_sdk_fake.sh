#!/usr/bin/env bash
# The fake AWS against a real client that knows the newest APIs: the AWS SDK for JavaScript v3
# (@aws-sdk/client-ecs, @aws-sdk/client-ecr, pinned by scripts/bootstrap) calls every ECR and ECS
# operation the fake serves, including ListServiceDeployments, DescribeServiceDeployments,
# DescribeServiceRevisions (newer than Debian's awscli) and DescribeImageScanFindings in both its
# basic and enhanced shapes, and must parse every answer (timestamps as Dates, enums as sent).
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
require_cmd jq curl node sha256sum
AWS_SDK_TOOLS="${AWS_SDK_TOOLS:-$SOURCE_DIR/build/tools/aws-sdk}"
export AWS_SDK_TOOLS
for pkg in client-ecs client-ecr; do
  [ -f "$AWS_SDK_TOOLS/node_modules/@aws-sdk/$pkg/package.json" ] || {
    echo "error: $AWS_SDK_TOOLS has no @aws-sdk/$pkg (scripts/bootstrap installs it)" >&2
    exit 1
  }
done

AKID=AKIAFAKESDKCHECK0001
SECRET=sdkCheckSecretKey0123456789abcdefghijklmn
CONFIG='{"architecture":"amd64","os":"linux"}'
CONFIG_DIGEST="sha256:$(printf '%s' "$CONFIG" | sha256sum | cut -d' ' -f1)"
export SDK_CONFIG_DIGEST="$CONFIG_DIGEST"
manifest() {  # CONTENT : a single-image manifest over $CONFIG, distinct per CONTENT
  jq -nc --arg d "$CONFIG_DIGEST" --argjson s "${#CONFIG}" --arg c "$1" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s},
      layers: [], annotations: {content: $c}}'
}
DEP=arn:aws:ecs:eu-central-1:123456789012:service-deployment/afu9/web
REV=arn:aws:ecs:eu-central-1:123456789012:service-revision/afu9/web
DIGEST_A="sha256:$(printf 'a%.0s' $(seq 64))"
jq -n --arg akid "$AKID" --arg secret "$SECRET" --arg cfg "$CONFIG" --arg m1 "$(manifest archived)" \
  --arg m2 "$(manifest basic)" --arg m3 "$(manifest enhanced)" --arg m4 "$(manifest paged)" \
  --arg dep "$DEP" --arg rev "$REV" \
  --arg da "$DIGEST_A" '{
  credentials: [{accessKeyId: $akid, secretAccessKey: $secret}],
  repositories: {
    "afu9/archived": {images: [{manifest: $m1, tags: ["prod"], imageStatus: "ARCHIVED"}], blobs: [$cfg]},
    "afu9/scanned": {images: [
      {manifest: $m2, tags: ["basic"], scan: {
        imageScanStatus: {status: "COMPLETE", description: "The scan was completed successfully."},
        imageScanFindings: {imageScanCompletedAt: 1764547200, vulnerabilitySourceUpdatedAt: 1764540000,
          findingSeverityCounts: {HIGH: 1, LOW: 2},
          findings: [{name: "CVE-2026-0001", uri: "https://security-tracker.debian.org/tracker/CVE-2026-0001",
            severity: "HIGH", attributes: [{key: "package_name", value: "openssl"}]}]}}},
      {manifest: $m3, tags: ["enhanced"], scan: {
        imageScanStatus: {status: "ACTIVE", description: "Continuous scan is selected."},
        imageScanFindings: {imageScanCompletedAt: 1764547200, vulnerabilitySourceUpdatedAt: 1764540000,
          findingSeverityCounts: {CRITICAL: 1},
          enhancedFindings: [{awsAccountId: "123456789012", findingArn: "arn:aws:inspector2:eu-central-1:123456789012:finding/f1",
            description: "a flaw", severity: "CRITICAL", status: "ACTIVE", type: "PACKAGE_VULNERABILITY",
            title: "CVE-2026-0002 - libfoo", firstObservedAt: 1764540000, lastObservedAt: 1764547200,
            updatedAt: 1764547200, score: 9.8, exploitAvailable: "NO", fixAvailable: "YES",
            packageVulnerabilityDetails: {vulnerabilityId: "CVE-2026-0002", source: "NVD",
              vulnerablePackages: [{name: "libfoo", version: "1.0"}]}}]}}},
      {manifest: $m4, tags: ["paged"], scan: {
        imageScanStatus: {status: "COMPLETE", description: "The scan was completed successfully."},
        imageScanFindings: {imageScanCompletedAt: 1764547200, findingSeverityCounts: {HIGH: 2, LOW: 1},
          findings: [{name: "CVE-2026-0003", severity: "HIGH"}, {name: "CVE-2026-0004", severity: "LOW"},
            {name: "CVE-2026-0005", severity: "HIGH"}]}}}]}},
  taskDefinitions: [{family: "web", containerDefinitions: [{name: "app", image: "x/app:v1"}]}],
  clusters: {afu9: {services: {web: {taskDefinition: "web:1", desiredCount: 1,
    serviceDeployments: [
      {serviceDeploymentArn: ($dep + "/old"), status: "SUCCESSFUL", createdAt: 1764400000,
       targetServiceRevision: {arn: ($rev + "/1"), requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0}},
      {serviceDeploymentArn: ($dep + "/new"), status: "ROLLBACK_SUCCESSFUL", statusReason: "rolled back",
       createdAt: 1764500000, startedAt: 1764500001, finishedAt: 1764500900, updatedAt: 1764500900,
       targetServiceRevision: {arn: ($rev + "/2"), requestedTaskCount: 1, runningTaskCount: 0, pendingTaskCount: 0},
       sourceServiceRevisions: [{arn: ($rev + "/1"), requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0}],
       rollback: {reason: "circuit breaker", startedAt: 1764500600, serviceRevisionArn: ($rev + "/1")},
       deploymentCircuitBreaker: {status: "TRIGGERED", failureCount: 3, threshold: 3},
       alarms: {status: "DISABLED"}, lifecycleStage: "CLEAN_UP"}],
    serviceRevisions: [
      {serviceRevisionArn: ($rev + "/2"), taskDefinition: "arn:aws:ecs:eu-central-1:123456789012:task-definition/web:1",
       launchType: "FARGATE", createdAt: 1764500000,
       containerImages: [{containerName: "app", image: "x/app:v1", imageDigest: $da}]}]}}}}
}' >"$SCRATCH/state.json"

fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
e2e_secret "$SECRET"

section "every operation the fake serves, through the SDK"
expect_exit 0 -- node "$E2E_LIB/aws_sdk.js" "$FAKE_AWS_URL"
cp "$LAST_OUT" "$SCRATCH/sdk.jsonl"
result() { jq -c --arg op "$1" 'select(.operation == $op)' "$SCRATCH/sdk.jsonl"; }
summary() { result "$1" | jq -r "if .ok then .summary | $2 else \"FAILED: \" + .error end"; }
ops=(CreateRepository PutImage DescribeRepositories BatchGetImage DescribeImages GetAuthorizationToken
  GetDownloadUrlForLayer "DescribeImageScanFindings(basic)" "DescribeImageScanFindings(enhanced)"
  "DescribeImageScanFindings(pages)"
  RegisterTaskDefinition DescribeTaskDefinition CreateService UpdateService DescribeServices ListTasks
  DescribeTasks ListServiceDeployments DescribeServiceDeployments DescribeServiceRevisions)
for op in "${ops[@]}"; do
  expect_eq true "$(result "$op" | jq -r .ok)" "the SDK parses $op: $(result "$op" | jq -r '.error // "ok"')"
done
expect_eq "${#ops[@]}" "$(grep -c . "$SCRATCH/sdk.jsonl")" "one line per operation"

section "what the SDK read"
expect_eq "ARCHIVED 20" "$(summary DescribeImages '"\(.status) \(.pushedAt[0:2])"')" \
  "DescribeImages: imageStatus and imagePushedAt (epoch seconds read as a Date)"
expect_eq "COMPLETE 2025-12-01T00:00:00.000Z HIGH=1,LOW=2 1" \
  "$(summary "DescribeImageScanFindings(basic)" '"\(.status) \(.completedAt) \(.counts | to_entries | map("\(.key)=\(.value)") | join(",")) \(.basic)"')" \
  "basic scan findings"
expect_eq "ACTIVE CRITICAL" "$(summary "DescribeImageScanFindings(enhanced)" '"\(.status) \(.enhanced | join(","))"')" \
  "enhanced scan findings"
expect_eq "2 HIGH,LOW,HIGH 2,2" \
  "$(summary "DescribeImageScanFindings(pages)" '"\(.pages) \(.severities | join(",")) \(.counts | join(","))"')" \
  "scan findings over two pages (maxResults 2): the SDK's paginator follows nextToken, the totals on every page"
expect_eq "2 ROLLBACK_SUCCESSFUL $REV/2" "$(summary ListServiceDeployments '"\(.count) \(.newest) \(.target)"')" \
  "ListServiceDeployments: newest first, with the target revision"
expect_eq "2025-11-30T10:53:20.000Z" "$(summary ListServiceDeployments .createdAt)" "createdAt as a Date"
expect_eq "ROLLBACK_SUCCESSFUL,SUCCESSFUL $REV/1 TRIGGERED MISSING" \
  "$(summary DescribeServiceDeployments '"\(.statuses | join(",")) \(.rolledBackTo) \(.breaker) \(.failure)"')" \
  "DescribeServiceDeployments: rollback, circuit breaker, a MISSING failure"
expect_eq "app=$DIGEST_A" "$(summary DescribeServiceRevisions '.images | join(" ")')" \
  "DescribeServiceRevisions: containerImages with digests"
expect_eq "ARM64" "$(summary DescribeTaskDefinition .arch)" "runtimePlatform round trip"

section "the SDK signs with lower-case header names: the fake verified every signature"
expect_eq "$((${#ops[@]} + 1))" "$(fake_aws_counters | jq '[.[]] | add')" \
  "one request per operation (two for the paginated scan findings), each accepted on its first attempt (maxAttempts 1)"
expect_not_contains "$SECRET" "$FAKE_AWS_LOG"

section "a call over the limit of 20 ARNs is refused as AWS does"
many="$(jq -nc --arg dep "$DEP" '[range(21) | "\($dep)/\(.)"]')"
cat >"$SCRATCH/many.js" <<JS
const path = require('path');
const ecs = require(path.join(process.env.AWS_SDK_TOOLS, 'node_modules', '@aws-sdk/client-ecs'));
const c = new ecs.ECSClient({endpoint: process.argv[2], region: process.env.AWS_REGION, maxAttempts: 1});
c.send(new ecs.DescribeServiceDeploymentsCommand({serviceDeploymentArns: $many}))
  .then(() => console.log('accepted'), (e) => console.log(e.name));
JS
expect_exit 0 -- node "$SCRATCH/many.js" "$FAKE_AWS_URL"
expect_output_contains "InvalidParameterException"
section "the SDK's standard retry mode against the fault rules aws_faults.sh injects"
# The same answers imagegate's fault matrix meets: a real client must recognise each as the fake
# means it (throttling and a proxy's 502 retried, a skewed clock corrected from Date, a
# truncated body not taken for an answer).
cat >"$SCRATCH/retry.js" <<'JS'
const path = require('path');
const ecs = require(path.join(process.env.AWS_SDK_TOOLS, 'node_modules', '@aws-sdk/client-ecs'));
const c = new ecs.ECSClient({endpoint: process.argv[2], region: process.env.AWS_REGION,
                             maxAttempts: 3, retryMode: 'standard'});
c.send(new ecs.DescribeServicesCommand({cluster: 'afu9', services: ['web']}))
  .then((r) => console.log('ok ' + r.services.length), (e) => console.log('error ' + e.name));
JS
sdk_fault() {  # FAULTS_JSON WANT_OUTPUT WANT_REQUESTS WHAT
  fake_aws_faults '{"rules":[],"clockOffsetSeconds":0,"skewErrorType":""}' >/dev/null
  fake_aws_faults "$1" >/dev/null
  fake_aws_reset_counters >/dev/null
  expect_exit 0 -- node "$SCRATCH/retry.js" "$FAKE_AWS_URL"
  expect_eq "$2" "$(cat "$LAST_OUT")" "$4: the SDK's outcome"
  expect_eq "$3" "$(fake_aws_count DescribeServices)" "$4: requests the SDK made"
}
sdk_fault '{"rules":[{"operation":"DescribeServices","answer":"throttle"}]}' "ok 1" 2 "throttled once"
sdk_fault '{"rules":[{"operation":"DescribeServices","answer":"html502"}]}' "ok 1" 2 "a proxy's HTML 502 once"
sdk_fault '{"rules":[{"operation":"DescribeServices","count":-1,"answer":"internalFailure"}]}' \
  "error InternalFailure" 3 "InternalFailure on every attempt"
sdk_fault '{"rules":[{"operation":"DescribeServices","answer":"truncatedJson"}]}' "error SyntaxError" 1 \
  "a truncated JSON answer"
sdk_fault '{"clockOffsetSeconds":1200}' "ok 1" 2 "the fake's clock 20 min ahead (InvalidSignatureException)"
sdk_fault '{"clockOffsetSeconds":-1200,"skewErrorType":"RequestTimeTooSkewed"}' "ok 1" 2 \
  "the fake's clock 20 min behind (RequestTimeTooSkewed)"
fake_aws_faults '{"rules":[],"clockOffsetSeconds":0,"skewErrorType":""}' >/dev/null
expect_exit 1 -- fake_aws_faults '{"rules":[{"answer":"explode"}]}'
expect_stderr_contains "faults.rules[].answer: unknown answer 'explode'"
expect_exit 1 -- fake_aws_faults '{"rules":[{"answer":"throttle","call":0}]}'
expect_stderr_contains "faults.rules[].call: calls count from 1"
finish
