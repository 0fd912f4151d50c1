#!/usr/bin/env bash
# Deployment truth end to end, against the fake AWS: verify reads ECS service deployments and
# revisions (a rollback the circuit breaker made while the service looks stable, a stopped
# deployment, a revision on another digest, denied APIs), waits for tasks still starting, judges
# several services in one run, and pin / verify --task-def compare the task definition's
# runtimePlatform with the platforms the gate recorded. Exact finding and exit code for each.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
require_cmd jq curl

EX=$SOURCE_DIR/examples/afu9
M=$EX/images-manifest.json
TD=$EX/task-definition.json
SHA=0123456789abcdef0123456789abcdef01234567
REG=123456789012.dkr.ecr.eu-central-1.amazonaws.com
AKID=AKIAFAKEDEPLOYMENTS1
SECRET=deploymentsSecretKey0123456789abcdefghijk
digest() { printf 'sha256:%s' "$(printf "$1%.0s" $(seq 64))"; }
ig() { "$IMAGEGATE" "$@" --no-color; }

# evidence OUT [PLATFORMS_JSON]: passed evidence of the example for production at $SHA, each image
# on its own digest (1..4) in ECR, with the platforms the gate recorded.
evidence() {
  jq -n --arg path "$M" --arg msha "$(sha256sum "$M" | cut -d' ' -f1)" --arg sha "$SHA" \
    --arg reg "$REG" --arg d1 "$(digest 1)" --arg d2 "$(digest 2)" --arg d3 "$(digest 3)" \
    --arg d4 "$(digest 4)" --argjson p "${2:-[]}" '
    def img($id; $d): {id: $id, repository: ("afu9/" + $id), repositoryUri: ($reg + "/afu9/" + $id),
      container: $id, required: true, status: "pass", digest: $d, pinnedReference: ($reg + "/afu9/" + $id + "@" + $d),
      tags: [], requiredPlatforms: $p, platforms: $p, findings: []};
    {schemaVersion: 1, tool: "imagegate test", manifest: {path: $path, sha256: $msha}, env: "production",
     sha: $sha, registry: "ecr", time: "2026-11-28T01:00:00Z", verdict: "pass",
     images: [img("control-center"; $d1), img("mcp-github"; $d2), img("mcp-deploy"; $d3),
              img("mcp-observability"; $d4)], findings: []}' >"$1"
}
evidence "$SCRATCH/evidence.json"
PIN=(ig pin -m "$M" --env production --sha "$SHA" --allow-unmanaged log-router)

section "runtimePlatform: an arm64 task definition for an amd64-only image"
evidence "$SCRATCH/amd64-evidence.json" '["linux/amd64"]'
jq '.runtimePlatform = {cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX"}' "$TD" >"$SCRATCH/arm64-td.json"
expect_exit 1 -- "${PIN[@]}" --evidence "$SCRATCH/amd64-evidence.json" --task-def "$SCRATCH/arm64-td.json" \
  -o "$SCRATCH/never.json"
expect_output_contains "error[PLATFORM_MISMATCH] control-center control-center: container 'control-center' would start on linux/arm64 (runtimePlatform LINUX/ARM64), a platform image 'afu9/control-center' does not have; the evidence recorded: linux/amd64"
expect_output_contains "error[PLATFORM_MISMATCH] mcp-observability mcp-observability:"
expect_exit 0 -- "${PIN[@]}" --evidence "$SCRATCH/amd64-evidence.json" --task-def "$TD" -o "$SCRATCH/pinned.json"
jq 'del(.runtimePlatform)' "$SCRATCH/pinned.json" >"$SCRATCH/pinned-default.json"
expect_exit 0 -- ig verify -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/amd64-evidence.json" \
  --allow-unmanaged log-router --task-def "$SCRATCH/pinned-default.json"
expect_output_contains "verified: the task definition runs exactly this deploy's images"
jq '.runtimePlatform.cpuArchitecture = "ARM64"' "$SCRATCH/pinned.json" >"$SCRATCH/pinned-arm64.json"
expect_exit 1 -- ig verify -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/amd64-evidence.json" \
  --allow-unmanaged log-router --task-def "$SCRATCH/pinned-arm64.json"
expect_output_contains "error[PLATFORM_MISMATCH] mcp-deploy mcp-deploy: container 'mcp-deploy' would start on linux/arm64 (runtimePlatform LINUX/ARM64), a platform image 'afu9/mcp-deploy' does not have; the evidence recorded: linux/amd64"
evidence "$SCRATCH/multi-evidence.json" '["linux/amd64", "linux/arm64"]'
expect_exit 0 -- ig verify -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/multi-evidence.json" \
  --allow-unmanaged log-router --task-def "$SCRATCH/pinned-arm64.json"

# --- against ECS -----------------------------------------------------------------------------
"${PIN[@]}" --evidence "$SCRATCH/evidence.json" --task-def "$TD" -o "$SCRATCH/pinned.json" 2>/dev/null
DEP=arn:aws:ecs:eu-central-1:123456789012:service-deployment/afu9
REV=arn:aws:ecs:eu-central-1:123456789012:service-revision/afu9
TD1=arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:1
TD2=arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:2
jq -n --arg akid "$AKID" --arg secret "$SECRET" --slurpfile old "$TD" --slurpfile new "$SCRATCH/pinned.json" '{
  credentials: [{accessKeyId: $akid, secretAccessKey: $secret}],
  taskDefinitions: [($old[0] + {revision: 1}), ($new[0] + {revision: 2})],
  clusters: {afu9: {services: {}}, other: {services: {}}}}' >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
unset AWS_ENDPOINT_URL
V=(ig verify -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/evidence.json"
  --allow-unmanaged log-router --endpoint-url "$FAKE_AWS_URL")

# revision_json SERVICE N [DIGEST_OF_CONTROL_CENTER] : service revision N of SERVICE running the
# evidence digests (control-center's replaced when given).
revision_json() {
  jq -nc --arg arn "$REV/$1/$2" --arg td "arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:$2" \
    --arg reg "$REG" --arg d1 "${3:-$(digest 1)}" --arg d2 "$(digest 2)" --arg d3 "$(digest 3)" --arg d4 "$(digest 4)" '
    {serviceRevisionArn: $arn, taskDefinition: $td, createdAt: 1764500000, containerImages: [
      {containerName: "control-center", image: ($reg + "/afu9/control-center@" + $d1), imageDigest: $d1},
      {containerName: "mcp-github", image: "x", imageDigest: $d2},
      {containerName: "mcp-deploy", image: "x", imageDigest: $d3},
      {containerName: "mcp-observability", image: "x", imageDigest: $d4},
      {containerName: "log-router", image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
       imageDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}'
}
# deployment_json SERVICE ID STATUS REVISION [EXTRA_JSON]
deployment_json() {
  local extra="${5:-}"
  [ -n "$extra" ] || extra='{}'
  jq -nc --arg arn "$DEP/$1/$2" --arg status "$3" --arg rev "$REV/$1/$4" --argjson extra "$extra" \
    '{serviceDeploymentArn: $arn, status: $status, createdAt: 1764500000, startedAt: 1764500001,
      targetServiceRevision: {arn: $rev, requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0}} + $extra'
}
# scenario SERVICE SERVICE_JSON : service SERVICE of cluster afu9 becomes SERVICE_JSON.
scenario() {
  fake_aws_merge_state "{\"clusters\": {\"afu9\": {\"services\": {\"$1\": null}}}}" >/dev/null
  fake_aws_merge_state "{\"clusters\": {\"afu9\": {\"services\": {\"$1\": $2}}}}" >/dev/null
  fake_aws_reset_counters >/dev/null
}
healthy() {  # SERVICE : on afu9:2, its newest deployment SUCCESSFUL on revision 2 with the digests
  jq -nc --argjson d "$(deployment_json "$1" new SUCCESSFUL 2)" --argjson r "$(revision_json "$1" 2)" \
    '{taskDefinition: "afu9:2", desiredCount: 2, serviceDeployments: [$d], serviceRevisions: [$r]}'
}

section "ECS: the newest deployment SUCCESSFUL on the evidence digests: exit 0"
scenario web "$(healthy web)"
expect_exit 0 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "service 'afu9/web': rollout COMPLETED, task definition $TD2"
expect_output_contains "  deployment $DEP/web/new SUCCESSFUL, revision $REV/web/2"
expect_eq "1 1 1" "$(fake_aws_counters | jq -r '"\(.ListServiceDeployments) \(.DescribeServiceDeployments) \(.DescribeServiceRevisions)"')" \
  "one call each: list, describe (up to 20 ARNs), revisions"

section "ECS: rolled back by the circuit breaker while the service looks stable: ROLLOUT_ROLLED_BACK"
rolled="$(deployment_json web new ROLLBACK_SUCCESSFUL 2 "$(jq -nc --arg rev "$REV/web/1" '{
  statusReason: "Service deployment rolled back because the circuit breaker threshold was exceeded.",
  rollback: {reason: "Service deployment rolled back because the circuit breaker threshold was exceeded.",
             startedAt: 1764500600, serviceRevisionArn: $rev},
  deploymentCircuitBreaker: {status: "TRIGGERED", failureCount: 3, threshold: 3}}')")"
scenario web "$(jq -nc --argjson d "$rolled" --argjson old "$(deployment_json web old SUCCESSFUL 1 '{"createdAt": 1764400000}')" \
  --argjson r1 "$(revision_json web 1)" --argjson r2 "$(revision_json web 2)" \
  '{taskDefinition: "afu9:1", desiredCount: 1, serviceDeployments: [$old, $d], serviceRevisions: [$r1, $r2]}')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "service 'afu9/web': rollout COMPLETED, task definition $TD1"
expect_output_contains "error[ROLLOUT_ROLLED_BACK] web: deployment $DEP/web/new of revision $REV/web/2 was rolled back (ROLLBACK_SUCCESSFUL) to revision $REV/web/1: Service deployment rolled back because the circuit breaker threshold was exceeded.; circuit breaker TRIGGERED (3 failed tasks, threshold 3)"

section "ECS: a stopped deployment: DEPLOYMENT_STOPPED"
scenario web "$(jq -nc --argjson d "$(deployment_json web new STOPPED 2 '{"statusReason": "Deployment stopped by a new UpdateService call."}')" \
  '{taskDefinition: "afu9:2", desiredCount: 1, serviceDeployments: [$d]}')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "error[DEPLOYMENT_STOPPED] web: deployment $DEP/web/new of revision $REV/web/2 is STOPPED: Deployment stopped by a new UpdateService call."

section "ECS: the current revision's digest differs from the evidence: REVISION_DIGEST_MISMATCH"
scenario web "$(jq -nc --argjson d "$(deployment_json web new SUCCESSFUL 2)" --argjson r "$(revision_json web 2 "$(digest 9)")" \
  '{taskDefinition: "afu9:2", desiredCount: 1, serviceDeployments: [$d], serviceRevisions: [$r]}')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "error[REVISION_DIGEST_MISMATCH] control-center control-center: container 'control-center' of service revision $REV/web/2 (the current deployment's target) is $(digest 9) ('$REG/afu9/control-center@$(digest 9)'), expected $(digest 1) (service 'afu9/web')"

section "ECS: a revision without imageDigest: DIGEST_UNVERIFIED"
scenario web "$(jq -nc --argjson d "$(deployment_json web new SUCCESSFUL 2)" --argjson r "$(revision_json web 2)" \
  '{taskDefinition: "afu9:2", desiredCount: 1, serviceDeployments: [$d],
    serviceRevisions: [$r | .containerImages[1] |= del(.imageDigest)]}')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "error[DIGEST_UNVERIFIED] mcp-github mcp-github: container 'mcp-github' of service revision $REV/web/2 has no imageDigest (service 'afu9/web')"

section "ECS: deployments APIs denied (or absent): one warning, today's checks decide"
fake_aws_merge_state '{"unavailableOperations": {"ListServiceDeployments": "AccessDeniedException"}}' >/dev/null
scenario web "$(healthy web)"
expect_exit 0 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "warning[DEPLOYMENTS_UNAVAILABLE] web: ListServiceDeployments is not available here (AccessDeniedException): the service's deployments and revisions are not judged, only DescribeServices and the running tasks"
fake_aws_merge_state '{"unavailableOperations": {"ListServiceDeployments": null, "DescribeServiceRevisions": "UnknownOperationException"}}' >/dev/null
expect_exit 0 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "warning[DEPLOYMENTS_UNAVAILABLE] web: DescribeServiceRevisions is not available here (UnknownOperationException)"
fake_aws_merge_state '{"unavailableOperations": {"DescribeServiceRevisions": "ServerException"}}' >/dev/null
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "error[AWS_ERROR] web: DescribeServiceRevisions failed:"
fake_aws_merge_state '{"unavailableOperations": null}' >/dev/null

section "ECS: a task still PENDING: a finding without --wait, waited for with it"
pending="$(healthy web | jq -c --arg td "$TD2" '. + {desiredCount: 1, tasks: [{taskDefinitionArn: $td, lastStatus: "PENDING", runningAfterDescribes: 1}]}')"
scenario web "$pending"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web
expect_output_contains "error[TASK_PENDING] arn:aws:ecs:eu-central-1:123456789012:task/afu9/"
expect_output_contains "is PENDING: it has not started, so what it will run is not known yet (verify --wait DURATION waits for it) (service 'afu9/web')"
scenario web "$pending"
expect_exit 0 -- "${V[@]}" --cluster afu9 --service web --wait 1m
expect_output_contains "verified: every service runs exactly this deploy's images"
expect_eq 2 "$(fake_aws_count DescribeTasks)" "described again once it had started"

section "several services in one run: per-service reports, each finding names its service"
scenario web "$(healthy web)"
scenario api "$(healthy api | jq -c --arg td "$TD1" '. + {desiredCount: 1, tasks: [{taskDefinitionArn: $td}]}')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web --service api
expect_output_contains "service 'afu9/web': rollout COMPLETED, task definition $TD2"
expect_output_contains "service 'afu9/api': rollout COMPLETED, task definition $TD2"
expect_output_contains "runs task definition '$TD1', not the primary '$TD2' (service 'afu9/api')"
expect_output_contains "kept as is (--allow-unmanaged) (service 'afu9/web')"
expect_exit 1 -- "${V[@]}" --cluster afu9 --service web --service api --output json
expect_eq "web api" "$(jq -r '[.services[].service] | join(" ")' "$LAST_OUT")" "--output json: one report per service"
expect_eq "STALE_TASK" "$(jq -r '[.findings[] | select(.code == "STALE_TASK") | .code] | unique | join(",")' "$LAST_OUT")" \
  "the stale service has its STALE_TASK"
expect_eq "5 0" "$(jq -r --arg s "(service 'afu9/api')" '[.findings[] | select(.severity == "error")]
  | "\(length) \([.[] | select(.message | contains($s) | not)] | length)"' "$LAST_OUT")" \
  "five errors, every one naming the stale service"

section "repeated --cluster: the Nth cluster is the Nth service's"
fake_aws_merge_state "$(jq -nc --argjson s "$(healthy api)" '{clusters: {other: {services: {api: $s}}}}')" >/dev/null
expect_exit 0 -- "${V[@]}" --cluster afu9 --service web --cluster other --service api
expect_output_contains "service 'other/api': rollout COMPLETED"
expect_exit 2 -- "${V[@]}" --cluster afu9 --cluster other --cluster third --service web --service api
expect_stderr_contains "3 --cluster for 2 --service: give one cluster for all services, or one per service"
finish
