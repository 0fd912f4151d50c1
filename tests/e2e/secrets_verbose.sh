#!/usr/bin/env bash
# Secrets at every verbosity: every command (validate, tags, matrix, gate against an OCI registry
# with Basic auth and against one behind a Bearer token server with identity tokens, gate against
# ECR, pin, verify against ECS) runs at -v (the CLI's most verbose level) with every kind of
# secret in play: a Basic password, the Bearer tokens the token server issues, identity (refresh)
# tokens from config.json and from a credential helper's output, AWS secret keys and session
# tokens from the environment, credential_process output, container credentials (with their
# authorization token) and instance metadata (with its IMDSv2 session token). stdout, stderr, every
# report format (text, JSON, JUnit, Markdown, HTML, annotations), the step outputs, the evidence
# and the pinned task definition are searched for each secret, its base64 form and the base64 of
# user:password: none may appear. Each run also proves its secret was used (exit 0, and the
# server saw that credential), so a secret that never came into play cannot pass for one kept
# out of the output.
# shellcheck disable=SC2119,SC2317 # optional-argument helpers; functions run via expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
source "$E2E_LIB/aws.sh"
require_cmd docker-registry umoci skopeo htpasswd jq curl openssl base64 sha256sum

SHA=0123456789abcdef0123456789abcdef01234567
# Distinctive values: a hit can only be a leak.
BASIC_USER=ci-secrets-user
BASIC_PASS=Sx1-basic-password-QJ7vR2xw
TOKEN_PASS=Sx2-token-server-password-W8kP1m
IDENTITY=Sx3-identity-refresh-token-Nf4Zq0yb
HELPER_IDENTITY=Sx4-helper-identity-token-Yt6Hc3ua
AWS_AKID=AKIASECRETSVERBOSE01
AWS_SECRET=Sx5-aws-secret-access-key-Lm3Vb8ko2Qr
AWS_SESSION=Sx6-aws-session-token-Pq9Dd4hj
CP_AKID=ASIASECRETSPROCESS01
CP_SECRET=Sx7-credential-process-secret-Zr2Kw5
CP_SESSION=Sx8-credential-process-session-Hb7Ux1
CONTAINER_AKID=ASIASECRETSCONTAINER
CONTAINER_SECRET=Sx9-container-secret-key-Ej5Ts8
CONTAINER_SESSION=Sx10-container-session-token-Vc3Ga6
CONTAINER_AUTH=Sx11-container-authorization-token-Wq8Fm2
IMDS_AKID=ASIASECRETSINSTANCE1
IMDS_SECRET=Sx12-instance-secret-key-Ko4Ry7
IMDS_SESSION=Sx13-instance-session-token-Ld9Xn3
IMDS_TOKEN=Sx14-imds-v2-session-token-Tu6Pb1
SECRETS=("$BASIC_PASS" "$TOKEN_PASS" "$IDENTITY" "$HELPER_IDENTITY" "$AWS_SECRET" "$AWS_SESSION"
  "$CP_SECRET" "$CP_SESSION" "$CONTAINER_SECRET" "$CONTAINER_SESSION" "$CONTAINER_AUTH"
  "$IMDS_SECRET" "$IMDS_SESSION" "$IMDS_TOKEN")
e2e_secret "${SECRETS[@]}"

OUT="$SCRATCH/outputs" # every file imagegate wrote or printed, searched at the end
mkdir -p "$OUT"
export GITHUB_ACTIONS=true GITHUB_OUTPUT="$OUT/github_output" GITHUB_STEP_SUMMARY="$OUT/step_summary.md"
: >"$GITHUB_OUTPUT"
RUNS=0

# run NAME EXIT CMD... : runs CMD at -v with every report format, keeps stdout and stderr in
# $OUT, and checks the exit code.
run() {
  local name="$1" want="$2"
  shift 2
  RUNS=$((RUNS + 1))
  expect_exit "$want" -- "$@" -v --no-color --report text="$OUT/$name.report.txt" \
    --report json="$OUT/$name.report.json" --report junit="$OUT/$name.junit.xml" \
    --report markdown="$OUT/$name.summary.md" --report html="$OUT/$name.report.html" \
    --report github="$OUT/$name.annotations"
  cp "$LAST_OUT" "$OUT/$name.stdout"
  cp "$LAST_ERR" "$OUT/$name.stderr"
}

# --- the images manifest commands, with every secret in the environment ------------------------
M="$SOURCE_DIR/examples/afu9/images-manifest.json"
export AWS_ACCESS_KEY_ID="$AWS_AKID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET" AWS_SESSION_TOKEN="$AWS_SESSION"
export AWS_CONTAINER_AUTHORIZATION_TOKEN="$CONTAINER_AUTH"
section "validate, tags, matrix"
run validate 0 "$IMAGEGATE" validate -m "$M"
run tags 0 "$IMAGEGATE" tags -m "$M" --env production --sha "$SHA" --format json
run tags-github 0 "$IMAGEGATE" tags -m "$M" --env production --sha "$SHA" --format github
run matrix 0 "$IMAGEGATE" matrix -m "$M" --env production --sha "$SHA" --github-output

# --- gate: OCI registry with Basic auth (config.json auth) -------------------------------------
section "gate: OCI registry, Basic auth from config.json"
gate_project "$TEST_DATA/e2e/images-manifest.json"
registry_start htpasswd "$BASIC_USER" "$BASIC_PASS"
push_manifest_images "$GATE_MANIFEST" production "$SHA"
registry_docker_config
expect_eq 1 "$(grep -c "\"auth\": \"$(printf '%s' "$BASIC_USER:$BASIC_PASS" | base64 -w0)\"" "$DOCKER_CONFIG/config.json")" \
  "config.json holds the Basic credentials as docker writes them"
mark="$(registry_log_mark)"
run gate-basic 0 "$IMAGEGATE" gate -m "$GATE_MANIFEST" --env production --sha "$SHA" \
  --registry "$REGISTRY_URL" --evidence-out "$OUT/gate-basic.evidence.json" --github-output
expect_stderr_contains "HEAD $REGISTRY_URL/v2/afu9/mcp-deploy/manifests/prod-latest -> 200 ("
expect_ne 0 "$(registry_requests_since "$mark" | grep -c '" 200$')" "gate-basic: the registry answered with the credentials"


# --- gate: Bearer token server, identity tokens (config.json and a credential helper) ----------
section "gate: Bearer token server, identity token from config.json"
token_server_start ci-token "$TOKEN_PASS" --refresh-token "$IDENTITY" --refresh-token "$HELPER_IDENTITY"
registry_start token
push_manifest_images "$GATE_MANIFEST" production "$SHA"
jq -n --arg host "$REGISTRY_HOST" --arg t "$IDENTITY" '{auths: {($host): {identitytoken: $t}}}' \
  >"$DOCKER_CONFIG/config.json"
token_reset
run gate-identity 0 "$IMAGEGATE" gate -m "$GATE_MANIFEST" --env production --sha "$SHA" \
  --registry "$REGISTRY_URL" --evidence-out "$OUT/gate-identity.evidence.json"
expect_eq 4 "$(token_counters | jq .refresh_grants)" "gate-identity: one refresh-token grant per repository"
token_issued | jq -r '.[]' >>"$SCRATCH/bearer-tokens"

section "gate: Bearer token server, identity token from a credential helper's output"
mkdir -p "$SCRATCH/bin"
cat >"$SCRATCH/bin/docker-credential-secrets" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
printf '{"ServerURL":"%s","Username":"<token>","Secret":"%s"}\n' "\$server" "$HELPER_IDENTITY"
EOF
chmod +x "$SCRATCH/bin/docker-credential-secrets"
jq -n --arg host "$REGISTRY_HOST" '{credHelpers: {($host): "secrets"}}' >"$DOCKER_CONFIG/config.json"
token_reset
PATH="$SCRATCH/bin:$PATH" run gate-helper 0 "$IMAGEGATE" gate -m "$GATE_MANIFEST" --env production \
  --sha "$SHA" --registry "$REGISTRY_URL" --evidence-out "$OUT/gate-helper.evidence.json"
expect_eq 4 "$(token_counters | jq .refresh_grants)" "gate-helper: the helper's identity token was exchanged"
token_issued | jq -r '.[]' >>"$SCRATCH/bearer-tokens"
expect_eq 8 "$(sort -u "$SCRATCH/bearer-tokens" | grep -c .)" "eight distinct Bearer tokens issued and searched for"

# --- gate against ECR, pin, verify against ECS: every AWS credential source --------------------
section "the fake AWS: ECR images, ECS service, every credential source"
"$E2E_PYTHON" "$SOURCE_DIR/bench/lib/gen.py" "$SCRATCH/gen" 2 "$SHA" "http://127.0.0.1:1" "$AWS_AKID" "$AWS_SECRET"
GEN_M="$SCRATCH/gen/root/images-manifest.json" # no config blobs in the fake: --revision off
REG=123456789012.dkr.ecr.eu-central-1.amazonaws.com
digest() { printf 'sha256:%s' "$(printf "$1%.0s" $(seq 64))"; }
ecr_pass_evidence "$SCRATCH/evidence.json"
run pin 0 "$IMAGEGATE" pin -m "$M" --env production --sha "$SHA" --allow-unmanaged log-router \
  --evidence "$SCRATCH/evidence.json" --task-def "$SOURCE_DIR/examples/afu9/task-definition.json" \
  -o "$OUT/pinned.json"
run verify-offline 0 "$IMAGEGATE" verify -m "$M" --env production --sha "$SHA" \
  --evidence "$SCRATCH/evidence.json" --allow-unmanaged log-router --task-def "$OUT/pinned.json"

jq -n --slurpfile gen "$SCRATCH/gen/fake-aws-state.json" --slurpfile old "$SOURCE_DIR/examples/afu9/task-definition.json" \
  --slurpfile new "$OUT/pinned.json" \
  --arg a "$AWS_AKID" --arg s "$AWS_SECRET" --arg t "$AWS_SESSION" \
  --arg pa "$CP_AKID" --arg ps "$CP_SECRET" --arg pt "$CP_SESSION" \
  --arg ca "$CONTAINER_AKID" --arg cs "$CONTAINER_SECRET" --arg ct "$CONTAINER_SESSION" --arg cauth "$CONTAINER_AUTH" \
  --arg ia "$IMDS_AKID" --arg is "$IMDS_SECRET" --arg it "$IMDS_SESSION" --arg itoken "$IMDS_TOKEN" '{
  credentials: [{accessKeyId: $a, secretAccessKey: $s, sessionToken: $t},
                {accessKeyId: $pa, secretAccessKey: $ps, sessionToken: $pt},
                {accessKeyId: $ca, secretAccessKey: $cs, sessionToken: $ct},
                {accessKeyId: $ia, secretAccessKey: $is, sessionToken: $it}],
  container: {authorizationToken: $cauth, accessKeyId: $ca},
  instanceMetadata: {token: $itoken, roleName: "deploy-role", accessKeyId: $ia},
  repositories: $gen[0].repositories,
  taskDefinitions: [($old[0] + {revision: 1}), ($new[0] + {revision: 2})],
  clusters: {afu9: {services: {web: {taskDefinition: "afu9:2", desiredCount: 2}}}}}' >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
unset AWS_ENDPOINT_URL

cat >"$SCRATCH/credential-process" <<EOF
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s"}\n' \
  "$CP_AKID" "$CP_SECRET" "$CP_SESSION"
EOF
chmod +x "$SCRATCH/credential-process"
printf '[default]\nregion = eu-central-1\ncredential_process = %s\n' "$SCRATCH/credential-process" \
  >"$SCRATCH/aws-config-process"

# with_source SOURCE CMD... : CMD with only that AWS credential source configured.
with_source() {
  local source="$1"
  shift
  local base=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN
    -u AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true)
  case "$source" in
    static) "${base[@]}" AWS_ACCESS_KEY_ID="$AWS_AKID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET" \
      AWS_SESSION_TOKEN="$AWS_SESSION" "$@" ;;
    process) "${base[@]}" AWS_CONFIG_FILE="$SCRATCH/aws-config-process" "$@" ;;
    container) "${base[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="$FAKE_AWS_URL/_fake/container-credentials" \
      AWS_CONTAINER_AUTHORIZATION_TOKEN="$CONTAINER_AUTH" "$@" ;;
    imds) "${base[@]}" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$FAKE_AWS_URL" "$@" ;;
  esac
}
declare -A SOURCE_AKID=([static]="$AWS_AKID" [process]="$CP_AKID" [container]="$CONTAINER_AKID" [imds]="$IMDS_AKID")
for source in static process container imds; do
  section "gate against ECR and verify against ECS: $source credentials"
  fake_aws_reset_counters >/dev/null
  run "gate-ecr-$source" 0 with_source "$source" "$IMAGEGATE" gate -m "$GEN_M" --env production \
    --sha "$SHA" --registry ecr --endpoint-url "$FAKE_AWS_URL" --revision off \
    --evidence-out "$OUT/gate-ecr-$source.evidence.json" --github-output
  expect_stderr_contains "POST $FAKE_AWS_URL"
  run "verify-ecs-$source" 0 with_source "$source" "$IMAGEGATE" verify -m "$M" --env production \
    --sha "$SHA" --evidence "$SCRATCH/evidence.json" --allow-unmanaged log-router \
    --endpoint-url "$FAKE_AWS_URL" --cluster afu9 --service web
  expect_stderr_contains "POST $FAKE_AWS_URL"
  expect_eq "${SOURCE_AKID[$source]}" \
    "$(curl -sSf "$FAKE_AWS_URL/_fake/requests" | jq -r '[.[].accessKeyId // empty] | unique | join(",")')" \
    "$source: every AWS call signed with that source's credentials"
done

# --- the search -------------------------------------------------------------------------------
section "no secret, nor its base64 form, in any output"
ls "$OUT" >"$SCRATCH/outputs.list"
expect_eq 1 "$(($(grep -c . "$SCRATCH/outputs.list") >= 8 * RUNS))" "every run left its outputs ($(grep -c . "$SCRATCH/outputs.list") files, $RUNS runs)"
for kind in report.txt report.json junit.xml summary.md report.html annotations stdout stderr; do
  expect_eq "$RUNS" "$(grep -c "\.$kind\$" "$SCRATCH/outputs.list")" "one $kind per run"
done
expect_ne 0 "$(wc -c <"$GITHUB_OUTPUT" | tr -d ' ')" "the step outputs were written"
mapfile -t FILES < <(find "$OUT" -type f | sort)
needles=()
while IFS= read -r token; do needles+=("$token"); done < <(sort -u "$SCRATCH/bearer-tokens")
needles+=("${SECRETS[@]}")
for s in "${SECRETS[@]}"; do needles+=("$(printf '%s' "$s" | base64 -w0)"); done
needles+=("$(printf '%s' "$BASIC_USER:$BASIC_PASS" | base64 -w0)")
needles+=("$(printf '%s' "ci-token:$TOKEN_PASS" | base64 -w0)")
for s in "${needles[@]}"; do
  e2e_secret "$s"
  expect_not_contains "$s" "${FILES[@]}"
done
for s in "Authorization:" "X-Amz-Security-Token" "Signature=" "X-aws-ec2-metadata-token:"; do
  expect_not_contains "$s" "${FILES[@]}"
done
echo "searched ${#FILES[@]} files for ${#needles[@]} secrets and encodings"
finish
