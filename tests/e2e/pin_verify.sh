#!/usr/bin/env bash
# pin and verify end to end: pin the example task definition from evidence, verify the pinned file
# offline, every way evidence or task definition can be wrong (exit 1 or 2 with the exact finding),
# the chain from a real gate over OCI layouts,
# then, against the fake AWS, verify ECS services and register the pinned document with the real
# AWS CLI.
set -euo pipefail
: "${IMAGEGATE:?} ${SOURCE_DIR:?} ${FAKES_DIR:?}"
scratch=$(mktemp -d)
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$scratch" # before the first command: HOME, AWS_*, DOCKER_CONFIG, proxies
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

EX=$SOURCE_DIR/examples/afu9
M=$EX/images-manifest.json
TD=$EX/task-definition.json
SHA=0123456789abcdef0123456789abcdef01234567
OTHER_SHA=89abcdef0123456789abcdef0123456789abcdef
REG=123456789012.dkr.ecr.eu-central-1.amazonaws.com
digest() { fake_digest "$@"; }
ig() { "$IMAGEGATE" "$@" --no-color; }
stdout_to() { local file=$1; shift; "$@" >"$file"; } # stdout to FILE, stderr where run() sends it

# run NAME WANT_EXIT WANT_TEXT -- CMD...: exit code and stdout+stderr containing the text.
run() {
  local name=$1 want=$2 text=$3; shift 4
  set +e; "$@" >"$scratch/out" 2>&1; local rc=$?; set -e
  if [ "$rc" != "$want" ]; then bad "$name: exit $rc, expected $want"; sed 's/^/     /' "$scratch/out"; return; fi
  if ! grep -qF -- "$text" "$scratch/out"; then bad "$name: lacks '$text'"; sed 's/^/     /' "$scratch/out"; return; fi
  ok "$name"
}

# evidence OUT [jq filter] [manifest]: the passed ECR evidence of the example (lib/aws.sh).
# shellcheck source=lib/aws.sh
source "$E2E_LIB/aws.sh"
evidence() { ecr_pass_evidence "$@"; }

evidence "$scratch/evidence.json"

# --- pin -------------------------------------------------------------------------------------
run "pin the example" 0 "pinned 4 containers to verified digests -> $scratch/pinned.json" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" --allow-unmanaged log-router \
  -o "$scratch/pinned.json"
if jq -e --arg reg "$REG" --arg d1 "$(digest 1)" --arg d4 "$(digest 4)" '
    (.containerDefinitions | map({(.name): .image}) | add) as $i
    | $i["control-center"] == ($reg + "/afu9/control-center@" + $d1)
    and $i["mcp-observability"] == ($reg + "/afu9/mcp-observability@" + $d4)
    and $i["log-router"] == "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
    and .family == "afu9" and .networkMode == "awsvpc" and .cpu == "1024"
    and .containerDefinitions[0].logConfiguration.logDriver == "awsfirelens"' "$scratch/pinned.json" >/dev/null; then
  ok "pinned images are repositoryUri@digest, everything else kept"
else bad "pinned content"; cat "$scratch/pinned.json"; fi
grep -qF "log-router: not an image of the manifest; image 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable' kept as is (--allow-unmanaged)" "$scratch/out" \
  && ok "allowed unmanaged container reported as kept" || { bad "kept-as-is note"; cat "$scratch/out"; }

ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" --allow-unmanaged log-router \
  >"$scratch/stdout.json" 2>"$scratch/stderr"
if cmp -s "$scratch/stdout.json" "$scratch/pinned.json" && [ "$(tail -c1 "$scratch/stdout.json" | od -An -c | tr -d ' ')" = '\n' ] \
   && grep -qF "pinned 4 containers" "$scratch/stderr" && ! grep -q "pinned" "$scratch/stdout.json"; then
  ok "without -o: document on stdout (same bytes, trailing newline), report on stderr"
else bad "stdout/stderr split"; fi
[ "$(jq -S --indent 2 . "$scratch/pinned.json")" = "$(cat "$scratch/pinned.json")" ] \
  && ok "sorted keys, 2-space indent" || bad "key order / indent"

# describe-task-definition output: unwrapped, read-only fields dropped.
jq '{taskDefinition: (. + {taskDefinitionArn: "arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:7",
      revision: 7, status: "ACTIVE", requiresAttributes: [{name: "ecs.capability.execution-role-awslogs"}],
      compatibilities: ["EC2", "FARGATE"], registeredAt: "2026-11-27T10:00:00.000Z",
      registeredBy: "arn:aws:iam::123456789012:user/ci"})}' "$TD" >"$scratch/described.json"
ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$scratch/described.json" \
  --allow-unmanaged log-router -o "$scratch/pinned-described.json" >/dev/null
cmp -s "$scratch/pinned-described.json" "$scratch/pinned.json" \
  && ok "describe-task-definition output pins to the same document" || { bad "unwrap"; diff "$scratch/pinned-described.json" "$scratch/pinned.json" | head; }

run "unmanaged container without --allow-unmanaged" 1 \
  "error[UNMANAGED_CONTAINER] log-router: container 'log-router' (image 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable') is not the taskDefContainerName of any manifest image; add it to the manifest or pass --allow-unmanaged 'log-router'" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" -o "$scratch/never.json"
run "--allow-unmanaged naming a managed container" 2 \
  "--allow-unmanaged 'mcp-github' names the container of manifest image 'mcp-github'" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" --allow-unmanaged mcp-github

evidence "$scratch/other-sha.json" ".sha = \"$OTHER_SHA\""
run "evidence for another sha" 1 "error[EVIDENCE_MISMATCH] sha: the evidence is for commit '$OTHER_SHA', this deploy is '$SHA'" -- \
  ig pin -m "$M" --evidence "$scratch/other-sha.json" --task-def "$TD" --allow-unmanaged log-router --env production --sha $SHA -o "$scratch/never.json"
grep -qF "pin failed (1 error, 0 warnings); nothing written" "$scratch/out" \
  && ok "failure summary says nothing was written" || { bad "failure summary"; cat "$scratch/out"; }
run "evidence for another env" 1 "error[EVIDENCE_MISMATCH] env: the evidence is for environment 'production', this deploy is 'staging'" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" --allow-unmanaged log-router --env staging -o "$scratch/never.json"
evidence "$scratch/failed.json" '.verdict = "fail" | .images[1].status = "fail" | .images[1].digest = null'
run "evidence verdict fail" 1 "error[EVIDENCE_NOT_PASSED] verdict: the evidence's verdict is 'fail', not \"pass\"" -- \
  ig pin -m "$M" --evidence "$scratch/failed.json" --task-def "$TD" --allow-unmanaged log-router -o "$scratch/never.json"
grep -qF "error[IMAGE_NOT_VERIFIED] mcp-github mcp-github: the evidence's status for this image is 'fail'" "$scratch/out" \
  && ok "every finding listed, not just the first" || { bad "all findings"; cat "$scratch/out"; }
jq '.version = "1.0.1"' "$M" >"$scratch/other-manifest.json"
run "evidence for another manifest" 1 "error[EVIDENCE_MANIFEST_MISMATCH] manifest.sha256: the evidence is for manifest" -- \
  ig pin -m "$scratch/other-manifest.json" --root "$EX" --evidence "$scratch/evidence.json" --task-def "$TD" --allow-unmanaged log-router -o "$scratch/never.json"
[ ! -e "$scratch/never.json" ] && ok "no output file written on failure" || bad "never.json was written"
run "failed pin without -o" 1 "error[EVIDENCE_NOT_PASSED]" -- \
  stdout_to "$scratch/stdout" ig pin -m "$M" --evidence "$scratch/failed.json" --task-def "$TD"
[ ! -s "$scratch/stdout" ] && ok "nothing on stdout on failure" || bad "stdout not empty on failure"
echo '{"old": true}' >"$scratch/existing.json"
run "failed pin onto an existing -o file" 1 "error[EVIDENCE_NOT_PASSED]" -- \
  ig pin -m "$M" --evidence "$scratch/failed.json" --task-def "$TD" -o "$scratch/existing.json"
[ "$(cat "$scratch/existing.json")" = '{"old": true}' ] && ok "an existing -o file is left as it was" || bad "existing -o overwritten"

# Optional image absent from the evidence.
jq '.images[3].required = false' "$M" >"$scratch/optional-manifest.json"
evidence "$scratch/absent.json" '.images[3].status = "absent" | .images[3].required = false | .images[3].digest = null | del(.images[3].pinnedReference)' "$scratch/optional-manifest.json"
run "optional image absent: a finding without --keep-absent-optional" 1 \
  "error[OPTIONAL_IMAGE_ABSENT] mcp-observability mcp-observability: optional image is absent from the evidence, so container 'mcp-observability' cannot be pinned; pass --keep-absent-optional" -- \
  ig pin -m "$scratch/optional-manifest.json" --root "$EX" --evidence "$scratch/absent.json" --task-def "$TD" --allow-unmanaged log-router
run "optional image absent: kept with --keep-absent-optional" 0 \
  "warning[OPTIONAL_IMAGE_ABSENT] mcp-observability mcp-observability: optional image is absent from the evidence; image '$REG/afu9/mcp-observability:prod-latest' kept as is (--keep-absent-optional)" -- \
  ig pin -m "$scratch/optional-manifest.json" --root "$EX" --evidence "$scratch/absent.json" --task-def "$TD" --allow-unmanaged log-router --keep-absent-optional -o "$scratch/pinned-optional.json"
jq -e --arg reg "$REG" '.containerDefinitions[3].image == ($reg + "/afu9/mcp-observability:prod-latest")' "$scratch/pinned-optional.json" >/dev/null \
  && ok "absent optional image keeps its image" || bad "absent optional image changed"

run "verify: optional image absent needs --keep-absent-optional" 1 \
  "error[OPTIONAL_IMAGE_ABSENT] mcp-observability mcp-observability: optional image is absent from the evidence, so image '$REG/afu9/mcp-observability:prod-latest' is not verified; pass --keep-absent-optional to accept it" -- \
  ig verify -m "$scratch/optional-manifest.json" --root "$EX" --env production --sha $SHA --evidence "$scratch/absent.json" --task-def "$scratch/pinned-optional.json" --allow-unmanaged log-router
run "verify: optional image absent accepted with --keep-absent-optional" 0 \
  "warning[OPTIONAL_IMAGE_ABSENT] mcp-observability mcp-observability: optional image is absent from the evidence; image '$REG/afu9/mcp-observability:prod-latest' accepted unverified (--keep-absent-optional)" -- \
  ig verify -m "$scratch/optional-manifest.json" --root "$EX" --env production --sha $SHA --evidence "$scratch/absent.json" --task-def "$scratch/pinned-optional.json" --allow-unmanaged log-router --keep-absent-optional
grep -qF "  ! mcp-observability $REG/afu9/mcp-observability:prod-latest" "$scratch/out" && ok "verify: '!' line for the accepted optional image" || { bad "! line"; cat "$scratch/out"; }

jq 'del(.containerDefinitions[1])' "$TD" >"$scratch/no-github.json"
run "required image without container" 1 "error[CONTAINER_MISSING] mcp-github mcp-github: the task definition has no container 'mcp-github' for required image 'mcp-github'" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$scratch/no-github.json" --allow-unmanaged log-router

# Bad input files: exit 2, with position and without quoting the file's content.
printf '{\n  "family": "afu9",\n  "containerDefinitions": [\n    {"name": "x", "environment": [{"name": "TOKEN", "value": "s3cr3t-value"}]\n    oops\n' >"$scratch/invalid.json"
run "invalid task definition JSON" 2 "imagegate pin: TASKDEF_INVALID_JSON: task definition '$scratch/invalid.json' is not valid JSON at line 5, column 5" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$scratch/invalid.json"
! grep -q "s3cr3t-value" "$scratch/out" && ok "the file's content is not echoed" || bad "content echoed"
echo '{"family": "afu9", "containers": []}' >"$scratch/not-td.json"
run "not a task definition" 2 "TASKDEF_INVALID: task definition '$scratch/not-td.json' is not a task definition: containerDefinitions is missing" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$scratch/not-td.json"
echo '[{"name": "x"}]' >"$scratch/array.json"
run "an array is not a task definition" 2 "TASKDEF_INVALID: task definition '$scratch/array.json' is not a task definition: expected a JSON object, got array" -- \
  ig verify -m "$M" --env production --sha $SHA --task-def "$scratch/array.json"
run "missing task definition file" 2 "TASKDEF_UNREADABLE: task definition '$scratch/nope.json' cannot be read" -- \
  ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$scratch/nope.json"
printf '{"schemaVersion": 1,\n "verdict": pass}\n' >"$scratch/bad-evidence.json"
run "invalid evidence JSON" 2 "EVIDENCE_INVALID_JSON: evidence '$scratch/bad-evidence.json' is not valid JSON at line 2, column 13" -- \
  ig pin -m "$M" --evidence "$scratch/bad-evidence.json" --task-def "$TD"
run "pin needs --evidence" 2 "--evidence is required" -- ig pin -m "$M" --task-def "$TD"
run "pin: bad --sha" 2 "--sha 'abc' is not a commit SHA" -- ig pin -m "$M" --evidence "$scratch/evidence.json" --task-def "$TD" --sha abc

# --- verify, offline -------------------------------------------------------------------------
V=(ig verify -m "$M" --env production --sha $SHA)
run "verify the pinned file" 0 "verified: the task definition runs exactly this deploy's images" -- \
  "${V[@]}" --evidence "$scratch/evidence.json" --task-def "$scratch/pinned.json" --allow-unmanaged log-router
grep -qF "  ✓ control-center $REG/afu9/control-center@$(digest 1)" "$scratch/out" && \
  grep -qF "  - log-router public.ecr.aws/aws-observability/aws-for-fluent-bit:stable (unmanaged, kept as is)" "$scratch/out" \
  && ok "one line per container" || { bad "container lines"; cat "$scratch/out"; }
"${V[@]}" --evidence "$scratch/evidence.json" --task-def "$scratch/pinned.json" --allow-unmanaged log-router --output json >"$scratch/verify.json"
jq -e '.verdict == "pass" and (.taskDefinition.containers | length == 5) and .taskDefinition.containers[4].status == "unmanaged" and .taskDefinition.containers[0].status == "ok"' "$scratch/verify.json" >/dev/null \
  && ok "verify --output json" || { bad "verify json"; cat "$scratch/verify.json"; }
run "verify the tag-based example without evidence (repository path rule)" 0 "verified" -- \
  "${V[@]}" --task-def "$TD" --allow-unmanaged log-router
# Without evidence the expected digests come from the registry, through the gate's own code: a
# registry that cannot be read leaves the pinned digests unverified, which fails.
run "verify a pinned file without evidence: digests resolved from the registry" 1 \
  "error[UNREACHABLE] control-center control-center:" -- \
  "${V[@]}" --task-def "$scratch/pinned.json" --allow-unmanaged log-router --registry "oci-layout:$scratch/no-such-dir"
no_region() { AWS_REGION='' AWS_DEFAULT_REGION='' "$@"; }
run "verify without evidence and without a region for the default ECR registry" 2 "no AWS region" -- \
  no_region "${V[@]}" --task-def "$scratch/pinned.json" --allow-unmanaged log-router

jq '.containerDefinitions[0].image = "'$REG'/afu9/control-center:prod-0000000"' "$scratch/pinned.json" >"$scratch/stale.json"
run "stale tag container" 1 "error[IMAGE_MISMATCH] control-center control-center: container 'control-center' runs '$REG/afu9/control-center:prod-0000000': tag 'prod-0000000' is not one of this deploy's; expected $REG/afu9/control-center@$(digest 1) or $REG/afu9/control-center:prod-$SHA or $REG/afu9/control-center:prod-0123456 or $REG/afu9/control-center:prod-latest" -- \
  "${V[@]}" --evidence "$scratch/evidence.json" --task-def "$scratch/stale.json" --allow-unmanaged log-router
grep -qF "  ✗ control-center $REG/afu9/control-center:prod-0000000" "$scratch/out" && ok "✗ line for the stale container" || bad "✗ line"
jq '.containerDefinitions[1].image = "'$REG'/afu9/mcp-github:prod-latest@'$(digest 9)'"' "$scratch/pinned.json" >"$scratch/wrong-digest.json"
run "tag@digest with another digest" 1 "error[IMAGE_MISMATCH] mcp-github mcp-github: container 'mcp-github' runs '$REG/afu9/mcp-github:prod-latest@$(digest 9)': digest is not $(digest 2)" -- \
  "${V[@]}" --evidence "$scratch/evidence.json" --task-def "$scratch/wrong-digest.json" --allow-unmanaged log-router
jq '.containerDefinitions[2].image = "ghcr.io/someone/mcp-deploy@'$(digest 3)'"' "$scratch/pinned.json" >"$scratch/other-repo.json"
run "another repository" 1 "error[IMAGE_MISMATCH] mcp-deploy mcp-deploy: container 'mcp-deploy' runs 'ghcr.io/someone/mcp-deploy@$(digest 3)': another repository" -- \
  "${V[@]}" --evidence "$scratch/evidence.json" --task-def "$scratch/other-repo.json" --allow-unmanaged log-router
run "verify with evidence of another sha" 1 "error[EVIDENCE_MISMATCH] sha" -- \
  "${V[@]}" --evidence "$scratch/other-sha.json" --task-def "$scratch/pinned.json" --allow-unmanaged log-router
run "verify with failed evidence" 1 "error[EVIDENCE_NOT_PASSED]" -- \
  "${V[@]}" --evidence "$scratch/failed.json" --task-def "$scratch/pinned.json" --allow-unmanaged log-router
run "verify: invalid JSON" 2 "TASKDEF_INVALID_JSON: task definition '$scratch/invalid.json' is not valid JSON at line 5, column 5" -- "${V[@]}" --task-def "$scratch/invalid.json"
run "verify: --task-def and --cluster" 2 "--task-def checks a file; it cannot be combined with --cluster/--service" -- \
  "${V[@]}" --task-def "$TD" --cluster c --service s
run "verify: neither" 2 "give --task-def FILE, or --cluster (or ECS_CLUSTER) and --service (or ECS_SERVICE)" -- \
  env -u ECS_CLUSTER -u ECS_SERVICE "$IMAGEGATE" verify -m "$M" --env production --sha $SHA
run "verify: bad --wait" 2 "--wait '10 minutes' is not a duration" -- "${V[@]}" --cluster c --service s --wait "10 minutes"
run "verify: --wait with --task-def" 2 "--wait applies to ECS services, not to --task-def" -- "${V[@]}" --task-def "$TD" --wait 1m
run "verify: missing --sha" 2 "--sha (or GIT_SHA) is required" -- env -u GIT_SHA "$IMAGEGATE" verify -m "$M" --env production --task-def "$TD"

# --- the chain with the real gate: images in on-disk OCI layouts -> gate -> pin -> verify -------
command -v umoci >/dev/null || { bad "umoci missing (scripts/bootstrap installs it)"; echo "$passed passed, $failed failed"; exit 1; }
for id in control-center mcp-github mcp-deploy mcp-observability; do
  dir=$scratch/layouts/afu9/$id
  mkdir -p "$(dirname "$dir")"
  umoci init --layout "$dir" >/dev/null
  umoci new --image "$dir:build" >/dev/null 2>&1
  umoci config --image "$dir:build" --config.label "org.afu9.service=$id" --tag "prod-$SHA" 2>/dev/null
  umoci rm --image "$dir:build"
  umoci tag --image "$dir:prod-$SHA" "prod-${SHA:0:7}"
  umoci tag --image "$dir:prod-$SHA" prod-latest
done
run "chain: gate passes" 0 "" -- ig gate -m "$M" --env production --sha $SHA --registry "oci-layout:$scratch/layouts" --evidence-out "$scratch/gate-evidence.json"
GATE_DIGEST=$(jq -r '.images[] | select(.id == "mcp-deploy") | .digest' "$scratch/gate-evidence.json")
run "chain: pin from the gate's evidence" 0 "pinned 4 containers" -- ig pin -m "$M" --env production --sha $SHA \
  --evidence "$scratch/gate-evidence.json" --task-def "$TD" --allow-unmanaged log-router -o "$scratch/gate-pinned.json"
jq -e --arg d "$GATE_DIGEST" '.containerDefinitions[2].image == ("afu9/mcp-deploy@" + $d)' "$scratch/gate-pinned.json" >/dev/null \
  && ok "chain: the pinned digest is the one the gate verified" || { bad "chain digest"; jq '.containerDefinitions[2].image' "$scratch/gate-pinned.json"; }
run "chain: verify the pinned file against the gate's evidence" 0 "verified" -- ig verify -m "$M" --env production --sha $SHA \
  --evidence "$scratch/gate-evidence.json" --task-def "$scratch/gate-pinned.json" --allow-unmanaged log-router
umoci rm --image "$scratch/layouts/afu9/mcp-github:prod-${SHA:0:7}"
run "chain: the gate fails without the short-sha tag" 1 "error[" -- \
  ig gate -m "$M" --env production --sha $SHA --registry "oci-layout:$scratch/layouts" --evidence-out "$scratch/gate-failed.json"
run "chain: pin refuses the evidence of a failed gate" 1 "error[EVIDENCE_NOT_PASSED]" -- ig pin -m "$M" --env production --sha $SHA \
  --evidence "$scratch/gate-failed.json" --task-def "$TD" --allow-unmanaged log-router -o "$scratch/never.json"

# --- verify against ECS (the fake AWS), and the real AWS CLI registering pin's output ----------
AWS=/usr/bin/aws
FAKE=$FAKES_DIR/fake_aws
[ -x "$FAKE" ] || { bad "fake AWS not built at $FAKE"; echo "$passed passed, $failed failed"; exit 1; }
[ -x "$AWS" ] || { bad "$AWS missing (scripts/bootstrap installs awscli)"; echo "$passed passed, $failed failed"; exit 1; }
AKID=AKIAPINVERIFYE2E0001
SECRET=pinVerifySecretKeyThatMustNeverBePrinted01
cat >"$scratch/state.json" <<JSON
{"account": "123456789012", "region": "eu-central-1", "listTasksPageSize": 1,
 "credentials": [{"accessKeyId": "$AKID", "secretAccessKey": "$SECRET"}],
 "clusters": {"afu9": {"services": {}}}}
JSON
"$FAKE" --state "$scratch/state.json" --port-file "$scratch/port" 2>"$scratch/fake.err" >/dev/null &
fake_pid=$!
until [ -s "$scratch/port" ]; do kill -0 "$fake_pid" 2>/dev/null || { bad "fake AWS exited at start"; cat "$scratch/fake.err"; exit 1; }; sleep 0.02; done
PORT=$(cat "$scratch/port")
URL=http://127.0.0.1:$PORT
# No stray configuration of the machine: credentials and region come from here only.
export HOME=$scratch/home AWS_CONFIG_FILE=$scratch/home/config AWS_SHARED_CREDENTIALS_FILE=$scratch/home/credentials
export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ECS ECS_CLUSTER ECS_SERVICE
mkdir -p "$HOME"

# The previous release (tags) is revision 1; pin's output, registered by AWS's own CLI, is 2.
if "$AWS" ecs register-task-definition --cli-input-json "file://$TD" --endpoint-url "$URL" >"$scratch/r1.json" 2>"$scratch/aws.err" \
   && "$AWS" ecs register-task-definition --cli-input-json "file://$scratch/pinned.json" --endpoint-url "$URL" >"$scratch/r2.json" 2>>"$scratch/aws.err" \
   && jq -e --arg reg "$REG" --arg d1 "$(digest 1)" '.taskDefinition.revision == 2 and .taskDefinition.status == "ACTIVE"
        and (.taskDefinition.containerDefinitions[] | select(.name == "control-center") | .image) == ($reg + "/afu9/control-center@" + $d1)' "$scratch/r2.json" >/dev/null; then
  ok "the AWS CLI registers pin's output (botocore's model accepts it)"
else bad "aws ecs register-task-definition"; cat "$scratch/aws.err"; fi
TD2=$(jq -r .taskDefinition.taskDefinitionArn "$scratch/r2.json")
TD1=$(jq -r .taskDefinition.taskDefinitionArn "$scratch/r1.json")

# scenario JSON_SERVICE: service "web" of cluster afu9 becomes JSON_SERVICE.
scenario() {
  # Merge patches: null removes the previous scenario's service, then the new one is added.
  curl -sf -X POST --data-binary '{"clusters": {"afu9": {"services": {"web": null}}}}' "$URL/_fake/state?merge=1" >/dev/null
  curl -sf -X POST --data-binary "{\"clusters\": {\"afu9\": {\"services\": {\"web\": $1}}}}" "$URL/_fake/state?merge=1" >/dev/null
  curl -sf -X POST -d "" "$URL/_fake/reset-counters" >/dev/null
}
E=(ig verify -m "$M" --env production --sha $SHA --evidence "$scratch/evidence.json" --allow-unmanaged log-router --cluster afu9 --endpoint-url "$URL")

scenario '{"taskDefinition": "afu9:2", "desiredCount": 3}'
run "ECS: healthy service" 0 "verified: every service runs exactly this deploy's images" -- "${E[@]}" --service web
grep -qF "service 'afu9/web': rollout COMPLETED, task definition $TD2" "$scratch/out" && grep -qF "  3 running tasks checked" "$scratch/out" \
  && grep -qF "  ✓ mcp-deploy $REG/afu9/mcp-deploy@$(digest 3)" "$scratch/out" \
  && ok "ECS: report names rollout, task definition, containers and tasks" || { bad "ECS report"; cat "$scratch/out"; }
[ "$(curl -sf "$URL/_fake/counters" | jq '.ListTasks')" = 3 ] && ok "ECS: ListTasks paginated (page size 1)" || bad "ListTasks pagination"
run "ECS: ECS_CLUSTER and ECS_SERVICE" 0 "verified" -- env ECS_CLUSTER=afu9 ECS_SERVICE=web "$IMAGEGATE" verify -m "$M" --env production --sha $SHA \
  --evidence "$scratch/evidence.json" --allow-unmanaged log-router --endpoint-url "$URL" --no-color
rc=0; "${E[@]}" --service web --output json >"$scratch/ecs.json" 2>"$scratch/ecs.err" || rc=$?
[ "$rc" = 0 ] && ok "ECS: --output json exits 0" || { bad "ECS: --output json exit $rc"; cat "$scratch/ecs.err"; }
jq -e --arg td "$TD2" '.verdict == "pass" and .services[0].rollout == "COMPLETED" and .services[0].taskDefinition == $td and .services[0].tasksChecked == 3' "$scratch/ecs.json" >/dev/null \
  && ok "ECS: --output json" || { bad "ECS json"; cat "$scratch/ecs.json"; }

scenario "{\"taskDefinition\": \"afu9:2\", \"desiredCount\": 2, \"tasks\": [{\"taskDefinitionArn\": \"$TD1\"}, {\"taskDefinitionArn\": \"$TD2\"}]}"
run "ECS: mixed deploy, one task on the previous task definition" 1 "runs task definition '$TD1', not the primary '$TD2'" -- "${E[@]}" --service web
grep -qF "error[STALE_TASK]" "$scratch/out" && ok "ECS: STALE_TASK code" || bad "STALE_TASK code"

scenario "{\"taskDefinition\": \"afu9:2\", \"desiredCount\": 1, \"tasks\": [{\"taskDefinitionArn\": \"$TD2\", \"containers\": [
  {\"name\": \"control-center\", \"image\": \"$REG/afu9/control-center@$(digest 1)\", \"imageDigest\": \"$(digest 9)\"},
  {\"name\": \"mcp-github\", \"image\": \"x\", \"imageDigest\": \"$(digest 2)\"}]}]}"
run "ECS: a task running another digest" 1 "error[DIGEST_MISMATCH] control-center control-center: container 'control-center' of task" -- "${E[@]}" --service web
grep -qF "runs '$(digest 9)'" "$scratch/out" && ok "ECS: mismatch names the running digest" || bad "mismatch message"

scenario "{\"taskDefinition\": \"afu9:2\", \"desiredCount\": 2, \"deployments\": [
  {\"status\": \"PRIMARY\", \"taskDefinition\": \"afu9:2\", \"desiredCount\": 2, \"runningCount\": 0, \"rolloutState\": \"FAILED\",
   \"rolloutStateReason\": \"ECS deployment circuit breaker: tasks failed to start.\"},
  {\"status\": \"ACTIVE\", \"taskDefinition\": \"afu9:1\", \"desiredCount\": 2, \"runningCount\": 2, \"rolloutState\": \"COMPLETED\"}]}"
run "ECS: rollout FAILED" 1 "error[ROLLOUT_FAILED] web: the rollout of $TD2 failed: ECS deployment circuit breaker: tasks failed to start." -- "${E[@]}" --service web

IN_PROGRESS="{\"taskDefinition\": \"afu9:2\", \"desiredCount\": 2, \"deployments\": [
  {\"status\": \"PRIMARY\", \"taskDefinition\": \"afu9:2\", \"desiredCount\": 2, \"runningCount\": 1, \"rolloutState\": \"IN_PROGRESS\", \"completeAfterDescribes\": 2},
  {\"status\": \"ACTIVE\", \"taskDefinition\": \"afu9:1\", \"desiredCount\": 2, \"runningCount\": 2, \"rolloutState\": \"COMPLETED\"}]}"
scenario "$IN_PROGRESS"
run "ECS: rollout IN_PROGRESS without --wait" 1 "error[ROLLOUT_IN_PROGRESS] web: the rollout of $TD2 is still in progress; pass --wait DURATION to wait for it" -- "${E[@]}" --service web
scenario "$IN_PROGRESS"
run "ECS: rollout IN_PROGRESS then COMPLETED with --wait" 0 "verified" -- "${E[@]}" --service web --wait 2m
[ "$(curl -sf "$URL/_fake/counters" | jq '.DescribeServices')" = 3 ] && ok "ECS: polled until completed" || bad "poll count"
scenario "$(echo "$IN_PROGRESS" | sed 's/"completeAfterDescribes": 2/"completeAfterDescribes": 100/')"
run "ECS: --wait gives up at its deadline" 1 "error[ROLLOUT_IN_PROGRESS] web: the rollout of $TD2 is still in progress after --wait" -- "${E[@]}" --service web --wait 3s

scenario '{"taskDefinition": "afu9:2", "desiredCount": 1}'
run "ECS: service missing" 1 "error[SERVICE_MISSING] nope: service 'nope' does not exist in cluster 'afu9'" -- "${E[@]}" --service nope
run "ECS: one of two services missing" 1 "error[SERVICE_MISSING] nope" -- "${E[@]}" --service web --service nope
run "ECS: cluster missing" 1 "error[CLUSTER_MISSING]" -- ig verify -m "$M" --env production --sha $SHA --evidence "$scratch/evidence.json" \
  --allow-unmanaged log-router --cluster elsewhere --service web --endpoint-url "$URL"

curl -sf -X POST --data-binary '{"throttle": {"count": 2, "operation": "DescribeServices"}}' "$URL/_fake/faults" >/dev/null
run "ECS: throttling recovered by retries" 0 "verified" -- "${E[@]}" --service web
curl -sf -X POST --data-binary '{"throttle": {"count": 50}}' "$URL/_fake/faults" >/dev/null
run "ECS: throttled past every retry" 1 "error[THROTTLED]" -- "${E[@]}" --service web
curl -sf -X POST --data-binary '{"throttle": {"count": 0}}' "$URL/_fake/faults" >/dev/null
wrong_secret() { AWS_SECRET_ACCESS_KEY=wrongSecretThatMustNotBePrinted "$@"; }
run "ECS: wrong secret" 1 "error[AUTH_FAILED]" -- wrong_secret "${E[@]}" --service web -vv
grep -qE "^POST $URL/? -> 403 " "$scratch/out" && ok "ECS: -v logs each attempt" || { bad "-v attempts"; cat "$scratch/out"; }
! grep -qE "wrongSecretThatMustNotBePrinted|$SECRET|Signature=|Authorization" "$scratch/out" && ok "ECS: no secret, signature or header in the output, even with -vv" || bad "secret printed"
run "ECS: unreachable endpoint" 1 "error[UNREACHABLE]" -- ig verify -m "$M" --env production --sha $SHA --evidence "$scratch/evidence.json" \
  --allow-unmanaged log-router --cluster afu9 --service web --endpoint-url "http://127.0.0.1:1"
run "ECS: without evidence, digests are resolved from ECR (here: repositories missing)" 1 "error[REPOSITORY_MISSING] control-center" -- ig verify -m "$M" --env production --sha $SHA \
  --allow-unmanaged log-router --cluster afu9 --service web --endpoint-url "$URL"

e2e_egress_check || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
