#!/usr/bin/env bash
# Proves the fake AWS behaves like AWS for a real client: Debian's AWS CLI signs every request
# with its own SigV4 code and parses every answer with botocore's service models, so a field the
# fake names wrongly, an error shape it gets wrong or a signature it checks wrongly fails here.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$work" # before the first command: HOME, AWS_*, DOCKER_CONFIG, proxies

AWS=/usr/bin/aws  # Debian's awscli; another `aws` may come first in PATH
FAKE="${FAKES_DIR:?FAKES_DIR must name the directory of the built fakes}/fake_aws"
[ -x "$AWS" ] || { echo "FAIL: $AWS is missing (scripts/bootstrap installs awscli)" >&2; exit 1; }
[ -x "$FAKE" ] || { echo "FAIL: $FAKE is not built" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing (scripts/bootstrap installs it)" >&2; exit 1; }

pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok: $1"; }
fail() {
  echo "FAIL: $1" >&2
  if [ -s "$work/fake.err" ]; then sed 's/^/  fake_aws: /' "$work/fake.err" | tail -5 >&2; fi
  exit 1
}
expect_eq() {  # description expected actual
  if [ "$2" == "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

ACCOUNT=123456789012
REGION=eu-central-1
AKID=AKIAFAKEAWSE2E000001
SECRET=fakeSecretKeyForTheAwsCliTest0123456789
REGISTRY="$ACCOUNT.dkr.ecr.$REGION.amazonaws.com"

cat >"$work/state.json" <<EOF
{
  "account": "$ACCOUNT",
  "region": "$REGION",
  "credentials": [{"accessKeyId": "$AKID", "secretAccessKey": "$SECRET"}],
  "webIdentityToken": "the-ci-oidc-token",
  "listTasksPageSize": 1,
  "clusters": {"prod": {"services": {}}}
}
EOF

echo '{"repositories": {"r1": {"images": [{"manifest": "{}", "digest": "sha256:00"}]}}}' \
  >"$work/bad-state.json"
set +e
"$FAKE" --state "$work/bad-state.json" >/dev/null 2>"$work/bad.err"
rc=$?
set -e
expect_eq "a bad --state file exits 2" "2" "$rc"
expect_eq "a bad --state file names the key" \
  "fake_aws: --state $work/bad-state.json: state.repositories.r1.images[].digest: the manifest's sha256 is sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" \
  "$(cat "$work/bad.err")"

"$FAKE" --state "$work/state.json" --port-file "$work/port" --verbose >"$work/fake.out" \
  2>"$work/fake.err" &
pid=$!
# Waits for the port file as long as the fake runs (how fast it starts is bench/'s business); the
# port file is written once the socket listens, so the first request must be answered.
until [ -s "$work/port" ]; do
  kill -0 "$pid" 2>/dev/null || fail "fake_aws exited at start"
  sleep 0.02
done
PORT=$(cat "$work/port")
ENDPOINT="http://127.0.0.1:$PORT"
curl -sf "$ENDPOINT/_fake/counters" >/dev/null || fail "control API does not answer"
ok "fake_aws serves on port $PORT"
expect_eq "port printed as the first stdout line" "$PORT" "$(head -1 "$work/fake.out")"

export HOME="$work" AWS_REGION="$REGION" AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE \
  AWS_SHARED_CREDENTIALS_FILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
awsf() { "$AWS" --endpoint-url "$ENDPOINT" --output json "$@"; }
# Runs a command that must fail; its stderr is left in $work/err.
expect_fail() {  # description needle command...
  local what=$1 needle=$2
  shift 2
  if "$@" >"$work/out" 2>"$work/err"; then fail "$what: succeeded, expected an error"; fi
  grep -qF -- "$needle" "$work/err" ||
    fail "$what: expected '$needle' in the error, got: $(cat "$work/err")"
  ok "$what"
}
control() { curl -sf -X POST --data "$2" "$ENDPOINT/_fake/$1" >/dev/null; }
counter() { curl -sf "$ENDPOINT/_fake/counters" | jq -r --arg op "$1" '.[$op] // 0'; }

# --- ECR -----------------------------------------------------------------------------------
out=$(awsf ecr create-repository --repository-name afu9/control-center)
expect_eq "create-repository repositoryUri" "$REGISTRY/afu9/control-center" \
  "$(jq -r .repository.repositoryUri <<<"$out")"
expect_fail "create-repository twice -> RepositoryAlreadyExistsException" \
  "RepositoryAlreadyExistsException" awsf ecr create-repository --repository-name afu9/control-center
awsf ecr create-repository --repository-name afu9/pinned --image-tag-mutability IMMUTABLE \
  >/dev/null

config_digest=sha256:$(printf 'config' | sha256sum | cut -d' ' -f1)
manifest() {  # layer size -> a docker schema 2 manifest, without a trailing newline
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":6,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%s,"digest":"%s"}]}' \
    "$config_digest" "$1" "$config_digest"
}
manifest 100 >"$work/m1.json"
manifest 200 >"$work/m2.json"
d1=sha256:$(sha256sum "$work/m1.json" | cut -d' ' -f1)
d2=sha256:$(sha256sum "$work/m2.json" | cut -d' ' -f1)

out=$(awsf ecr put-image --repository-name afu9/control-center --image-tag prod-abc \
  --image-manifest "file://$work/m1.json")
expect_eq "put-image digest is sha256 of the manifest bytes" "$d1" \
  "$(jq -r .image.imageId.imageDigest <<<"$out")"
expect_fail "put-image same tag and digest -> ImageAlreadyExistsException" \
  "ImageAlreadyExistsException" awsf ecr put-image --repository-name afu9/control-center \
  --image-tag prod-abc --image-manifest "file://$work/m1.json"
awsf ecr put-image --repository-name afu9/control-center --image-tag prod-latest \
  --image-manifest "file://$work/m1.json" >/dev/null
awsf ecr put-image --repository-name afu9/control-center --image-tag prod-latest \
  --image-manifest "file://$work/m2.json" --image-digest "$d2" >/dev/null
out=$(awsf ecr describe-images --repository-name afu9/control-center)
expect_eq "describe-images: a pushed tag moves on a MUTABLE repository" \
  "$d1=prod-abc $d2=prod-latest" \
  "$(jq -r '[.imageDetails[] | .imageDigest + "=" + (.imageTags | join(","))] | join(" ")' <<<"$out")"
expect_eq "describe-images imageManifestMediaType" \
  "application/vnd.docker.distribution.manifest.v2+json" \
  "$(jq -r '.imageDetails[0].imageManifestMediaType' <<<"$out")"
expect_eq "describe-images imageSizeInBytes (layers + config)" "106" \
  "$(jq -r '.imageDetails[0].imageSizeInBytes' <<<"$out")"

awsf ecr put-image --repository-name afu9/pinned --image-tag v1 \
  --image-manifest "file://$work/m1.json" >/dev/null
expect_fail "IMMUTABLE repository refuses to move a tag -> ImageTagAlreadyExistsException" \
  "ImageTagAlreadyExistsException" awsf ecr put-image --repository-name afu9/pinned \
  --image-tag v1 --image-manifest "file://$work/m2.json"
expect_fail "put-image with a digest that is not the manifest's" \
  "ImageDigestDoesNotMatchException" awsf ecr put-image --repository-name afu9/pinned \
  --image-tag v2 --image-manifest "file://$work/m2.json" --image-digest "$d1"

out=$(awsf ecr describe-repositories --repository-names afu9/control-center)
expect_eq "describe-repositories by name" "afu9/control-center IMMUTABLE=false" \
  "$(jq -r '.repositories[0] | .repositoryName + " IMMUTABLE=" + (.imageTagMutability == "IMMUTABLE" | tostring)' <<<"$out")"
expect_fail "describe-repositories missing -> RepositoryNotFoundException naming it" \
  "The repository with name 'afu9/missing' does not exist in the registry with id '$ACCOUNT'" \
  awsf ecr describe-repositories --repository-names afu9/control-center afu9/missing
control reset-counters '{}'
out=$(awsf ecr describe-repositories --page-size 1)
expect_eq "describe-repositories paginates (maxResults=1, nextToken)" \
  "afu9/control-center afu9/pinned" "$(jq -r '[.repositories[].repositoryName] | join(" ")' <<<"$out")"
expect_eq "describe-repositories took one call per page" "2" "$(counter DescribeRepositories)"

out=$(awsf ecr batch-get-image --repository-name afu9/control-center \
  --image-ids imageTag=prod-abc imageTag=missing "imageTag=prod-latest,imageDigest=$d1" \
  --accepted-media-types application/vnd.docker.distribution.manifest.v2+json \
  application/vnd.oci.image.manifest.v1+json)
expect_eq "batch-get-image finds the tag's digest" "$d1" \
  "$(jq -r '.images[0].imageId.imageDigest' <<<"$out")"
expect_eq "batch-get-image returns the exact manifest bytes" "$(cat "$work/m1.json")" \
  "$(jq -j '.images[0].imageManifest' <<<"$out")"
expect_eq "batch-get-image failures" "missing=ImageNotFound prod-latest=ImageTagDoesNotMatchDigest" \
  "$(jq -r '[.failures[] | .imageId.imageTag + "=" + .failureCode] | join(" ")' <<<"$out")"
out=$(awsf ecr batch-get-image --repository-name afu9/control-center --image-ids \
  imageTag=prod-abc --accepted-media-types application/vnd.oci.image.manifest.v1+json)
expect_eq "batch-get-image: a media type not accepted -> UnsupportedImageType" \
  "UnsupportedImageType" "$(jq -r '.failures[0].failureCode' <<<"$out")"
out=$(awsf ecr batch-get-image --repository-name afu9/control-center --image-ids \
  "imageDigest=$d2")
expect_eq "batch-get-image by digest" "$d2 no-tag" \
  "$(jq -r '.images[0].imageId | .imageDigest + " " + (.imageTag // "no-tag")' <<<"$out")"
expect_fail "batch-get-image on a missing repository -> RepositoryNotFoundException" \
  "RepositoryNotFoundException" awsf ecr batch-get-image --repository-name afu9/missing \
  --image-ids imageTag=x

out=$(awsf ecr get-authorization-token)
expect_eq "get-authorization-token is base64 AWS:<password>" "AWS:fake-ecr-password" \
  "$(jq -r '.authorizationData[0].authorizationToken' <<<"$out" | base64 -d)"
expect_eq "get-authorization-token proxyEndpoint" "https://$REGISTRY" \
  "$(jq -r '.authorizationData[0].proxyEndpoint' <<<"$out")"

# DescribeImageScanFindings in both shapes, paginated: the CLI's paginator (page size 2) follows
# nextToken and joins the findings of every page; findingSeverityCounts come with every page.
state=$(curl -sf "$ENDPOINT/_fake/state" | jq -c --arg d1 "$d1" --arg d2 "$d2" '
  .repositories["afu9/control-center"].images |= map(
    if .digest == $d1 then .scan = {
      imageScanStatus: {status: "COMPLETE", description: "The scan was completed successfully."},
      imageScanFindings: {imageScanCompletedAt: 1764547200, vulnerabilitySourceUpdatedAt: 1764540000,
        findingSeverityCounts: {HIGH: 2, MEDIUM: 1},
        findings: [{name: "CVE-2026-0001", severity: "HIGH", uri: "https://example.invalid/1",
                    attributes: [{key: "package_name", value: "openssl"}]},
                   {name: "CVE-2026-0002", severity: "MEDIUM"}, {name: "CVE-2026-0003", severity: "HIGH"}]}}
    elif .digest == $d2 then .scan = {
      imageScanStatus: {status: "ACTIVE", description: "Continuous scan is selected."},
      imageScanFindings: {imageScanCompletedAt: 1764547200, findingSeverityCounts: {CRITICAL: 1},
        enhancedFindings: [{awsAccountId: "123456789012", findingArn: "arn:aws:inspector2:eu-central-1:123456789012:finding/f1",
          severity: "CRITICAL", status: "ACTIVE", type: "PACKAGE_VULNERABILITY", title: "CVE-2026-0004",
          firstObservedAt: 1764540000, lastObservedAt: 1764547200, updatedAt: 1764547200, score: 9.8,
          packageVulnerabilityDetails: {vulnerabilityId: "CVE-2026-0004", source: "NVD"}}]}}
    else . end)')
printf '%s' "$state" | curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- \
  "$ENDPOINT/_fake/state" >/dev/null || fail "the scan state was refused"
control reset-counters '{}'
out=$(awsf ecr describe-image-scan-findings --repository-name afu9/control-center \
  --image-id "imageDigest=$d1" --page-size 2)
expect_eq "describe-image-scan-findings (basic): status, counts, every page's findings" \
  "COMPLETE HIGH=2,MEDIUM=1 HIGH,MEDIUM,HIGH" \
  "$(jq -r '"\(.imageScanStatus.status) \(.imageScanFindings.findingSeverityCounts | to_entries | map("\(.key)=\(.value)") | join(",")) \([.imageScanFindings.findings[].severity] | join(","))"' <<<"$out")"
expect_eq "describe-image-scan-findings took two calls for three findings at page size 2" "2" \
  "$(counter DescribeImageScanFindings)"
out=$(awsf ecr describe-image-scan-findings --repository-name afu9/control-center \
  --image-id "imageDigest=$d1" --page-size 2 --max-items 2)
expect_eq "two findings, and the CLI's NextToken to resume from the fake's nextToken" "2 true" \
  "$(jq -r '"\(.imageScanFindings.findings | length) \(.NextToken | type == "string")"' <<<"$out")"
out=$(awsf ecr describe-image-scan-findings --repository-name afu9/control-center \
  --image-id imageTag=prod-latest)
expect_eq "describe-image-scan-findings (enhanced): imageId with the tag, the Inspector finding" \
  "$d2 prod-latest ACTIVE CRITICAL CVE-2026-0004" \
  "$(jq -r '"\(.imageId.imageDigest) \(.imageId.imageTag) \(.imageScanStatus.status) \(.imageScanFindings.enhancedFindings[0].severity) \(.imageScanFindings.enhancedFindings[0].packageVulnerabilityDetails.vulnerabilityId)"' <<<"$out")"
expect_fail "describe-image-scan-findings of an image never scanned -> ScanNotFoundException" \
  "ScanNotFoundException" awsf ecr describe-image-scan-findings --repository-name afu9/pinned \
  --image-id imageTag=v1

# --- ECS -----------------------------------------------------------------------------------
containers="[{\"name\":\"control-center\",\"image\":\"$REGISTRY/afu9/control-center:prod-abc\",\"essential\":true,\"memory\":512}]"
awsf ecs register-task-definition --family web --container-definitions "$containers" >/dev/null
out=$(awsf ecs register-task-definition --family web --container-definitions "$containers")
expect_eq "register-task-definition twice -> revision 2" \
  "arn:aws:ecs:$REGION:$ACCOUNT:task-definition/web:2 2 ACTIVE" \
  "$(jq -r '.taskDefinition | .taskDefinitionArn + " " + (.revision | tostring) + " " + .status' <<<"$out")"
expect_eq "describe-task-definition by family is the latest revision" "2" \
  "$(awsf ecs describe-task-definition --task-definition web | jq -r .taskDefinition.revision)"
expect_eq "describe-task-definition by family:revision" "1" \
  "$(awsf ecs describe-task-definition --task-definition web:1 | jq -r .taskDefinition.revision)"
expect_fail "describe-task-definition missing -> ClientException" \
  "Unable to describe task definition." awsf ecs describe-task-definition --task-definition nope

out=$(awsf ecs create-service --cluster prod --service-name web --task-definition web:2 \
  --desired-count 3)
expect_eq "create-service: PRIMARY deployment COMPLETED with desiredCount running" \
  "PRIMARY COMPLETED 3" \
  "$(jq -r '.service.deployments[0] | .status + " " + .rolloutState + " " + (.runningCount | tostring)' <<<"$out")"
out=$(awsf ecs describe-services --cluster prod --services web nope)
expect_eq "describe-services finds the service" "web ACTIVE 3" \
  "$(jq -r '.services[0] | .serviceName + " " + .status + " " + (.runningCount | tostring)' <<<"$out")"
expect_eq "describe-services: a missing service is a MISSING failure" \
  "arn:aws:ecs:$REGION:$ACCOUNT:service/prod/nope MISSING" \
  "$(jq -r '.failures[0] | .arn + " " + .reason' <<<"$out")"
expect_fail "describe-services on a missing cluster -> ClusterNotFoundException" \
  "ClusterNotFoundException" awsf ecs describe-services --cluster nocluster --services web

control reset-counters '{}'
out=$(awsf ecs list-tasks --cluster prod --service-name web)
expect_eq "list-tasks follows nextToken across pages of 1" "3" "$(jq -r '.taskArns | length' <<<"$out")"
expect_eq "list-tasks took one call per page" "3" "$(counter ListTasks)"
mapfile -t tasks < <(jq -r '.taskArns[]' <<<"$out")
out=$(awsf ecs describe-tasks --cluster prod --tasks "${tasks[@]}" \
  "arn:aws:ecs:$REGION:$ACCOUNT:task/prod/0123456789abcdef0123456789abcdef")
expect_eq "describe-tasks: containers run the ECR tag's digest" "$d1 $d1 $d1" \
  "$(jq -r '[.tasks[].containers[0].imageDigest] | join(" ")' <<<"$out")"
expect_eq "describe-tasks: tasks run web:2" "arn:aws:ecs:$REGION:$ACCOUNT:task-definition/web:2" \
  "$(jq -r '[.tasks[].taskDefinitionArn] | unique | join(" ")' <<<"$out")"
expect_eq "describe-tasks: an unknown task is a MISSING failure" "MISSING" \
  "$(jq -r '.failures[0].reason' <<<"$out")"

out=$(awsf ecs update-service --cluster prod --service web --task-definition web:1)
expect_eq "update-service: new PRIMARY deployment, old one removed" "1 web:1 COMPLETED" \
  "$(jq -r '.service | (.deployments | length | tostring) + " " + (.taskDefinition | split("/")[1]) + " " + .deployments[0].rolloutState' <<<"$out")"
control "state?merge=1" '{"clusters":{"prod":{"services":{"web":{"onUpdate":{"rolloutState":"IN_PROGRESS","completeAfterDescribes":1}}}}}}'
awsf ecs update-service --cluster prod --service web --task-definition web:2 >/dev/null
states() {
  awsf ecs describe-services --cluster prod --services web |
    jq -r '[.services[0].deployments[] | .status + ":" + .rolloutState] | join(" ")'
}
expect_eq "scripted rollout: first describe sees IN_PROGRESS beside the old deployment" \
  "PRIMARY:IN_PROGRESS ACTIVE:COMPLETED" "$(states)"
expect_eq "scripted rollout: then it completes" "PRIMARY:COMPLETED" "$(states)"

# --- STS and signatures --------------------------------------------------------------------
expect_eq "sts get-caller-identity" "$ACCOUNT" "$(awsf sts get-caller-identity | jq -r .Account)"
out=$(awsf sts assume-role-with-web-identity --role-arn "arn:aws:iam::$ACCOUNT:role/deployer" \
  --role-session-name ci --web-identity-token the-ci-oidc-token)
expect_eq "assume-role-with-web-identity issues session credentials" "ASIA" \
  "$(jq -r '.Credentials.AccessKeyId[0:4]' <<<"$out")"
out=$(AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId <<<"$out") \
  AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey <<<"$out") \
  AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken <<<"$out") awsf sts get-caller-identity)
expect_eq "issued credentials sign requests" "arn:aws:sts::$ACCOUNT:assumed-role/deployer/ci" \
  "$(jq -r .Arn <<<"$out")"
expect_fail "assume-role-with-web-identity with another token -> InvalidIdentityToken" \
  "InvalidIdentityToken" awsf sts assume-role-with-web-identity \
  --role-arn "arn:aws:iam::$ACCOUNT:role/deployer" --role-session-name ci \
  --web-identity-token forged
expect_fail "wrong secret key (ECR) -> InvalidSignatureException" "InvalidSignatureException" \
  env AWS_SECRET_ACCESS_KEY=wrong "$AWS" --endpoint-url "$ENDPOINT" ecr describe-repositories
expect_fail "wrong secret key (STS) -> SignatureDoesNotMatch" "SignatureDoesNotMatch" \
  env AWS_SECRET_ACCESS_KEY=wrong "$AWS" --endpoint-url "$ENDPOINT" sts get-caller-identity
expect_fail "unknown access key -> UnrecognizedClientException" "UnrecognizedClientException" \
  env AWS_ACCESS_KEY_ID=AKIAUNKNOWN000000000 "$AWS" --endpoint-url "$ENDPOINT" ecs list-tasks \
  --cluster prod
grep -qF "$SECRET" "$work/fake.err" && fail "the fake's log contains the secret key"
grep -qiE "AWS4-HMAC|Signature=|Credential=|X-Amz-Security-Token" "$work/fake.err" &&
  fail "the fake's log contains authentication headers"
ok "the fake's log holds no secret or Authorization header"

# --- faults and counters -------------------------------------------------------------------
control reset-counters '{}'
control faults '{"throttle":{"count":1,"operation":"DescribeRepositories"}}'
awsf ecr describe-repositories --repository-names afu9/pinned >/dev/null ||
  fail "the CLI's retry did not get past one ThrottlingException"
expect_eq "throttled once: the CLI retried (2 calls)" "2" "$(counter DescribeRepositories)"
control faults '{"internalFailure":{"count":1}}'
awsf ecs describe-services --cluster prod --services web >/dev/null ||
  fail "the CLI's retry did not get past one InternalFailure"
expect_eq "one 500 InternalFailure: the CLI retried (2 calls)" "2" "$(counter DescribeServices)"
control reset-counters '{}'
awsf ecr describe-images --repository-name afu9/pinned >/dev/null
awsf ecr describe-images --repository-name afu9/pinned >/dev/null
awsf ecr batch-get-image --repository-name afu9/pinned --image-ids imageTag=v1 >/dev/null
expect_eq "counters count per operation" '{"BatchGetImage":1,"DescribeImages":2}' \
  "$(curl -sf "$ENDPOINT/_fake/counters" | jq -cS .)"

e2e_egress_check || fail "a connection left the machine"
echo "aws_cli_fake: all checks passed"
