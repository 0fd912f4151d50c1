#!/usr/bin/env bash
# AWS credentials as the SDKs resolve them: assume-role profiles (source_profile chains,
# credential_source), web identity in a profile, credential_process, SSO, container credentials,
# refresh during `verify --wait`, and a cross-account run with --registry-profile. Each source is
# given, with the same config files, to Debian's AWS CLI (the reference) and to imagegate, against
# the fake AWS (STS, SSO portal, ECR, ECS, container endpoint); both must arrive at the same access
# key id and account. imagegate's key id is read from the fake's request log (GET /_fake/requests:
# operation and access key id per request, never a secret).
#
# The CLI (2.9) takes --endpoint-url for the service it calls, but its credential providers create
# their own STS and SSO clients. Those are pointed at the fake through AWS_DATA_PATH, the CLI's
# documented search path for botocore models: an endpoint rule set for sts and sso that names the
# fake. The CLI's container provider of 2.9 reads AWS_CONTAINER_AUTHORIZATION_TOKEN only (the
# _TOKEN_FILE variant came later), so the CLI is given the token's value and imagegate the file.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
require_cmd jq curl sha256sum /usr/bin/aws
AWS=/usr/bin/aws

TOOLING=123456789012 # the registry's account (the fake's ECR)
PROD=210987654321    # where the services run
SSO_ACCOUNT=333333333333
SHA=0123456789abcdef0123456789abcdef01234567
SHORT=${SHA:0:7}
EXAMPLE=$SOURCE_DIR/examples/afu9
M=$EXAMPLE/images-manifest.json
REG=$TOOLING.dkr.ecr.eu-central-1.amazonaws.com

BASE_AKID=AKIABASEKEY000000001
BASE_SECRET=baseSecretKey0123456789abcdefghijklmnopq
ENV_AKID=AKIAENVKEY0000000001
ENV_SECRET=envSecretKey0123456789abcdefghijklmnopqr
PROC_AKID=AKIAPROCKEY000000001
PROC_SECRET=procSecretKey0123456789abcdefghijklmnop
PROD_AKID=AKIAPRODKEY000000001
PROD_SECRET=prodSecretKey0123456789abcdefghijklmnop
PROD2_AKID=AKIAPRODKEY000000002
PROD2_SECRET=prod2SecretKey0123456789abcdefghijklmno
EXPIRED_AKID=ASIAEXPIREDKEY000001
EXPIRED_SECRET=expiredSecretKey0123456789abcdefghijklm
EXPIRED_TOKEN=expired-session-token-secret
CONT_AKID=AKIACONTAINERKEY0001
CONT_SECRET=containerSecretKey0123456789abcdefghijk
CONT_TOKEN=container-authorization-token-secret
CONT_SESSION=container-session-token-secret
WEB_TOKEN=eyJ-web-identity-token-secret
SSO_TOKEN=sso-access-token-secret
EXTERNAL_ID=external-id-42
e2e_secret "$BASE_SECRET" "$ENV_SECRET" "$PROC_SECRET" "$PROD_SECRET" "$PROD2_SECRET" \
  "$EXPIRED_SECRET" "$EXPIRED_TOKEN" "$CONT_SECRET" "$CONT_TOKEN" "$CONT_SESSION" "$WEB_TOKEN" "$SSO_TOKEN"
SECRETS=("$BASE_SECRET" "$ENV_SECRET" "$PROC_SECRET" "$PROD_SECRET" "$PROD2_SECRET"
  "$EXPIRED_SECRET" "$EXPIRED_TOKEN" "$CONT_SECRET" "$CONT_TOKEN" "$CONT_SESSION" "$WEB_TOKEN"
  "$SSO_TOKEN")

sha256_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
config_of() {
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"repository":"%s"}}}' "$1"
}
manifest_of() {
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}' \
    "$(sha256_of "$1")" "${#1}"
}
repositories_json() {
  local repos='{}' r cfg man
  for r in afu9/control-center afu9/mcp-github afu9/mcp-deploy afu9/mcp-observability; do
    cfg="$(config_of "$r")"
    man="$(manifest_of "$cfg")"
    repos="$(jq -c --arg r "$r" --arg c "$cfg" --arg m "$man" --arg t1 "prod-$SHA" \
      --arg t2 "prod-$SHORT" '.[$r] = {imageTagMutability: "IMMUTABLE",
        images: [{manifest: $m, tags: [$t1, $t2, "prod-latest"]}], blobs: [$c]}' <<<"$repos")"
  done
  printf '%s\n' "$repos"
}

user() { printf 'arn:aws:iam::%s:user/%s' "$1" "$2"; }
STATE="$(jq -n --argjson repos "$(repositories_json)" --arg tooling "$TOOLING" --arg prod "$PROD" \
  --arg sso "$SSO_ACCOUNT" --arg ba "$BASE_AKID" --arg bs "$BASE_SECRET" --arg ea "$ENV_AKID" \
  --arg es "$ENV_SECRET" --arg pa "$PROC_AKID" --arg ps "$PROC_SECRET" --arg da "$PROD_AKID" \
  --arg ds "$PROD_SECRET" --arg d2a "$PROD2_AKID" --arg d2s "$PROD2_SECRET" \
  --arg xa "$EXPIRED_AKID" --arg xs "$EXPIRED_SECRET" --arg xt "$EXPIRED_TOKEN" \
  --arg ca "$CONT_AKID" --arg cs "$CONT_SECRET" --arg ct "$CONT_TOKEN" --arg cx "$CONT_SESSION" --arg web "$WEB_TOKEN" \
  --arg st "$SSO_TOKEN" --arg ext "$EXTERNAL_ID" --argjson td "$(cat "$EXAMPLE/task-definition.json")" '
  {account: $tooling, region: "eu-central-1", webIdentityToken: $web, repositories: $repos,
   credentials: [
     {accessKeyId: $ba, secretAccessKey: $bs, arn: ("arn:aws:iam::" + $tooling + ":user/base")},
     {accessKeyId: $ea, secretAccessKey: $es, arn: ("arn:aws:iam::" + $tooling + ":user/env")},
     {accessKeyId: $pa, secretAccessKey: $ps, arn: ("arn:aws:iam::" + $tooling + ":user/proc")},
     {accessKeyId: $ca, secretAccessKey: $cs, sessionToken: $cx,
      arn: ("arn:aws:iam::" + $tooling + ":role/task")},
     {accessKeyId: $da, secretAccessKey: $ds, account: $prod, services: ["ecs", "sts"],
      arn: ("arn:aws:iam::" + $prod + ":user/verify")},
     {accessKeyId: $d2a, secretAccessKey: $d2s, account: $prod, services: ["ecs", "sts"],
      arn: ("arn:aws:iam::" + $prod + ":user/verify")},
     {accessKeyId: $xa, secretAccessKey: $xs, sessionToken: $xt, expiration: "2020-01-01T00:00:00Z",
      account: $prod, services: ["ecs"], arn: ("arn:aws:iam::" + $prod + ":user/verify")}],
   roles: [
     {arn: ("arn:aws:iam::" + $tooling + ":role/gate"), trustedKeys: [$ba],
      services: ["ecr", "sts"], accessKeyId: "ASIAGATEROLE00000001"},
     {arn: ("arn:aws:iam::" + $tooling + ":role/hop"), trustedKeys: [$ba],
      accessKeyId: "ASIAHOPROLE000000001"},
     {arn: ("arn:aws:iam::" + $tooling + ":role/top"), accessKeyId: "ASIATOPROLE000000001"},
     {arn: ("arn:aws:iam::" + $tooling + ":role/from-env"), trustedKeys: [$ea],
      accessKeyId: "ASIAENVROLE000000001"},
     {arn: ("arn:aws:iam::" + $prod + ":role/deploy"), externalId: $ext,
      services: ["ecs", "sts"], accessKeyId: "ASIADEPLOYROLE000001"}],
   sso: {accessToken: $st, roles: [{accountId: $sso, roleName: "Deployer",
                                    accessKeyId: "ASIASSOROLE000000001"}]},
   container: {authorizationToken: $ct, accessKeyId: $ca},
   taskDefinitions: [$td],
   clusters: {afu9: {services: {web: {taskDefinition: "afu9:1", desiredCount: 1}}}}}')"
printf '%s' "$STATE" >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
export AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_ENDPOINT_URL

# The CLI's STS and SSO clients, pointed at the fake (see the top of this file).
for model in sts/2011-06-15 sso/2019-06-10; do
  mkdir -p "$SCRATCH/models/$model"
  jq -n --arg url "$FAKE_AWS_URL" '{version: "1.0", parameters: {Region: {builtIn: "AWS::Region",
    required: false, documentation: "region", type: "String"}}, rules: [{conditions: [],
    type: "endpoint", endpoint: {url: $url, properties: {}, headers: {}}}]}' \
    >"$SCRATCH/models/$model/endpoint-rule-set-1.json"
done
# The CLI caches assumed-role and SSO credentials in ~/.aws/cli/cache; the fake issues a fresh
# secret for a role's fixed key id on every call, so a cached one would be stale.
# The clients of the CLI's credential providers send even loopback requests to a proxy in the
# environment (NO_PROXY is not consulted for them), so the egress trap's proxy would answer them:
# the CLI runs without the proxy variables; every endpoint it is given is the fake's.
cli() {
  rm -rf "$HOME/.aws/cli/cache"
  env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
    AWS_DATA_PATH="$SCRATCH/models" "$AWS" "$@"
}

# imagegate's STS and SSO calls go to the fake through AWS_ENDPOINT_URL_STS / _SSO.
export AWS_ENDPOINT_URL_STS="$FAKE_AWS_URL" AWS_ENDPOINT_URL_SSO="$FAKE_AWS_URL"

mkdir -p "$HOME/.aws"
write_files() { # CREDENTIALS CONFIG
  printf '%s' "$1" >"$AWS_SHARED_CREDENTIALS_FILE"
  printf '%s' "$2" >"$AWS_CONFIG_FILE"
}

requests() { curl -sSf "$FAKE_AWS_URL/_fake/requests"; }
# The access key ids that signed OPERATION since the last reset, unique, in order of first use.
keys_of() { requests | jq -r --arg op "$1" '[.[] | select(.operation == $op) | .accessKeyId]
  | reduce .[] as $k ([]; if index($k) then . else . + [$k] end) | join(" ")'; }
account_of() { fake_aws_state | jq -r --arg k "$1" --arg d "$TOOLING" \
  '.credentials[] | select(.accessKeyId == $k) | .account // $d'; }

gate() {
  "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" --env production --sha "$SHA" --no-color \
    --registry ecr --endpoint-url "$FAKE_AWS_URL" "$@"
}

no_secret_anywhere() { # FILE...
  local s
  for s in "${SECRETS[@]}"; do expect_not_contains "$s" "$LAST_OUT" "$LAST_ERR" "$@"; done
}

# same_as_cli PROFILE WHAT: the CLI's access key id and account for PROFILE against imagegate's
# (the key that signed BatchGetImage in a gate run with AWS_PROFILE=PROFILE).
same_as_cli() {
  local profile="$1" what="$2" cli_key cli_account ig_key
  fake_aws_reset_counters >/dev/null
  cli configure export-credentials --profile "$profile" --format process >"$SCRATCH/cli.json" \
    2>"$SCRATCH/cli.err" || { fail "$what: aws configure export-credentials"; cat "$SCRATCH/cli.err"; }
  cli_key="$(jq -r .AccessKeyId "$SCRATCH/cli.json")"
  rm -f "$SCRATCH/cli.json"
  cli_account="$(cli sts get-caller-identity --profile "$profile" --endpoint-url "$FAKE_AWS_URL" \
    --query Account --output text 2>"$SCRATCH/cli.err")" || cat "$SCRATCH/cli.err"
  fake_aws_reset_counters >/dev/null
  expect_exit 0 -- env AWS_PROFILE="$profile" "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" \
    --env production --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" -v \
    --evidence-out "$SCRATCH/evidence.json"
  ig_key="$(keys_of BatchGetImage)"
  expect_eq "$cli_key" "$ig_key" "$what: imagegate signs with the CLI's access key id"
  expect_eq "$cli_account" "$(account_of "$ig_key")" "$what: the same account as the CLI's"
  no_secret_anywhere "$SCRATCH/evidence.json"
}

section "static keys (the baseline of the comparison)"
write_files "[default]
aws_access_key_id = $BASE_AKID
aws_secret_access_key = $BASE_SECRET
" ""
same_as_cli default "static keys"
expect_eq "$BASE_AKID" "$(keys_of BatchGetImage)" "the profile's own key"
expect_stderr_contains "AWS credentials for registry: profile default"

BASE_CREDENTIALS="[base]
aws_access_key_id = $BASE_AKID
aws_secret_access_key = $BASE_SECRET
"

section "assume-role with source_profile, external_id, role_session_name, duration_seconds"
write_files "$BASE_CREDENTIALS" "[profile deploy]
role_arn = arn:aws:iam::$PROD:role/deploy
source_profile = base
external_id = $EXTERNAL_ID
role_session_name = imagegate-ci
duration_seconds = 1800
[profile gate]
role_arn = arn:aws:iam::$TOOLING:role/gate
source_profile = base
role_session_name = gate-ci
"
same_as_cli gate "assume-role"
expect_stderr_contains "AWS credentials for registry: profile gate (role arn:aws:iam::$TOOLING:role/gate assumed with profile base)"
expect_eq "$BASE_AKID" "$(requests | jq -r '[.[] | select(.operation == "AssumeRole")][0].accessKeyId')" \
  "AssumeRole is signed by the source profile's key"
expect_eq "gate-ci" "$(requests | jq -r '[.[] | select(.operation == "AssumeRole")][0].roleSessionName')" \
  "role_session_name is sent"
fake_aws_reset_counters >/dev/null
cli configure export-credentials --profile deploy --format process >"$SCRATCH/cli.json" 2>/dev/null || true
expect_eq ASIADEPLOYROLE000001 "$(jq -r .AccessKeyId "$SCRATCH/cli.json")" "the CLI assumes the external-id role"
rm -f "$SCRATCH/cli.json"
expect_eq '{"roleArn":"arn:aws:iam::210987654321:role/deploy","roleSessionName":"imagegate-ci","externalIdSent":true,"durationSeconds":"1800"}' \
  "$(requests | jq -c '[.[] | select(.operation == "AssumeRole")][0] | {roleArn, roleSessionName, externalIdSent, durationSeconds}')" \
  "the CLI's AssumeRole parameters (the reference for imagegate's, checked in the cross-account run)"

section "assume-role chained through two profiles"
write_files "$BASE_CREDENTIALS" "[profile hop]
role_arn = arn:aws:iam::$TOOLING:role/hop
source_profile = base
[profile top]
role_arn = arn:aws:iam::$TOOLING:role/top
source_profile = hop
"
same_as_cli top "a two-role chain"
expect_eq "$BASE_AKID ASIAHOPROLE000000001" "$(keys_of AssumeRole)" "the first role signs the second AssumeRole"

section "assume-role with credential_source = Environment"
write_files "" "[profile ci]
role_arn = arn:aws:iam::$TOOLING:role/from-env
credential_source = Environment
"
export AWS_ACCESS_KEY_ID="$ENV_AKID" AWS_SECRET_ACCESS_KEY="$ENV_SECRET"
fake_aws_reset_counters >/dev/null
cli configure export-credentials --profile ci --format process >"$SCRATCH/cli.json" 2>"$SCRATCH/cli.err" || cat "$SCRATCH/cli.err"
cli_key="$(jq -r .AccessKeyId "$SCRATCH/cli.json")"
rm -f "$SCRATCH/cli.json"
fake_aws_reset_counters >/dev/null
# --registry-profile names the profile as the CLI's --profile does: the environment's keys are
# not used directly, only as the credential_source.
expect_exit 0 -- gate --registry-profile ci -v
expect_eq "$cli_key" "$(keys_of BatchGetImage)" "credential_source Environment: the CLI's key id"
expect_eq "$ENV_AKID" "$(keys_of AssumeRole)" "the environment's key signs AssumeRole"
expect_stderr_contains "AWS credentials for registry: profile ci (role arn:aws:iam::$TOOLING:role/from-env assumed with environment)"
no_secret_anywhere
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

section "web identity in a profile"
printf '%s' "$WEB_TOKEN" >"$SCRATCH/web-token"
write_files "" "[profile web]
role_arn = arn:aws:iam::$TOOLING:role/web
web_identity_token_file = $SCRATCH/web-token
role_session_name = web-ci
"
fake_aws_reset_counters >/dev/null
cli configure export-credentials --profile web --format process >"$SCRATCH/cli.json" 2>"$SCRATCH/cli.err" || cat "$SCRATCH/cli.err"
expect_eq 1 "$(fake_aws_count AssumeRoleWithWebIdentity)" "the CLI reached the fake STS"
rm -f "$SCRATCH/cli.json"
fake_aws_reset_counters >/dev/null
expect_exit 0 -- env AWS_PROFILE=web "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" --env production \
  --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" -v
expect_eq 1 "$(fake_aws_count AssumeRoleWithWebIdentity)" "imagegate exchanged the profile's token"
# Web identity keys are issued fresh per call: the account is what both must agree on.
expect_eq "$TOOLING" "$(account_of "$(keys_of BatchGetImage)")" "web identity: the role's account"
expect_stderr_contains "AWS credentials for registry: profile web web identity (role arn:aws:iam::$TOOLING:role/web)"
no_secret_anywhere

section "credential_process"
cat >"$SCRATCH/helper" <<EOF
#!/bin/sh
# Prints credentials for its first argument only; noise on stderr must never be shown.
[ "\$1" = "tooling account" ] || exit 7
echo "helper noise $PROC_SECRET" >&2
printf '{"Version": 1, "AccessKeyId": "$PROC_AKID", "SecretAccessKey": "$PROC_SECRET", "Expiration": "2099-01-01T00:00:00Z"}'
EOF
chmod +x "$SCRATCH/helper"
write_files "" "[profile proc]
credential_process = $SCRATCH/helper \"tooling account\"
"
same_as_cli proc "credential_process"
expect_eq "$PROC_AKID" "$(keys_of BatchGetImage)" "the process's key"
expect_stderr_contains "AWS credentials for registry: profile proc credential_process"

section "SSO: sso_session and the legacy sso_start_url"
mkdir -p "$HOME/.aws/sso/cache"
sso_cache() { # KEY EXPIRES_AT
  printf '{"startUrl": "https://corp.awsapps.com/start", "region": "eu-central-1", "accessToken": "%s", "expiresAt": "%s"}' \
    "$SSO_TOKEN" "$2" >"$HOME/.aws/sso/cache/$(printf '%s' "$1" | sha1sum | cut -d' ' -f1).json"
}
sso_cache corp 2099-01-01T00:00:00Z
sso_cache https://corp.awsapps.com/start 2099-01-01T00:00:00Z
write_files "" "[profile dev]
sso_session = corp
sso_account_id = $SSO_ACCOUNT
sso_role_name = Deployer
[profile legacy]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
sso_account_id = $SSO_ACCOUNT
sso_role_name = Deployer
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
"
same_as_cli dev "SSO session"
expect_eq '[{"operation":"GetRoleCredentials","accountId":"333333333333","roleName":"Deployer","status":200}]' \
  "$(requests | jq -c '[.[] | select(.operation == "GetRoleCredentials")]')" \
  "imagegate asked the portal for the profile's account and role"
expect_stderr_contains "AWS credentials for registry: profile dev sso (account $SSO_ACCOUNT, role Deployer)"
same_as_cli legacy "legacy SSO profile"

section "container credentials: FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
write_files "" ""
printf '%s\n' "$CONT_TOKEN" >"$SCRATCH/container-token"
fake_aws_reset_counters >/dev/null
AWS_CONTAINER_CREDENTIALS_FULL_URI="$FAKE_AWS_URL/_fake/container-credentials" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN="$CONT_TOKEN" \
  cli configure export-credentials --format process >"$SCRATCH/cli.json" 2>"$SCRATCH/cli.err" || cat "$SCRATCH/cli.err"
cli_key="$(jq -r .AccessKeyId "$SCRATCH/cli.json")"
rm -f "$SCRATCH/cli.json"
expect_eq "$CONT_AKID" "$cli_key" "the CLI's container credentials"
fake_aws_reset_counters >/dev/null
expect_exit 0 -- env AWS_CONTAINER_CREDENTIALS_FULL_URI="$FAKE_AWS_URL/_fake/container-credentials" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$SCRATCH/container-token" "$IMAGEGATE" gate -m "$M" \
  --root "$EXAMPLE" --env production --sha "$SHA" --no-color --registry ecr \
  --endpoint-url "$FAKE_AWS_URL" -v
expect_eq "$cli_key" "$(keys_of BatchGetImage)" "imagegate: the same container credentials"
expect_stderr_contains "AWS credentials for registry: container credentials"
no_secret_anywhere

# --- failures: each with its exact message, exit code, and no secret ---------------------------
# expect_failure PROFILE EXIT MESSAGE
expect_failure() {
  fake_aws_reset_counters >/dev/null
  expect_exit "$2" -- env AWS_PROFILE="$1" "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" \
    --env production --sha "$SHA" --no-color --registry ecr --endpoint-url "$FAKE_AWS_URL" \
    --evidence-out "$SCRATCH/failed-evidence.json" -v
  expect_output_contains "$3"
  no_secret_anywhere "$SCRATCH/failed-evidence.json"
  expect_eq 0 "$(fake_aws_count BatchGetImage)" "no ECR call without credentials"
}

section "failure: a source_profile cycle"
write_files "$BASE_CREDENTIALS" "[profile a]
role_arn = arn:aws:iam::$TOOLING:role/hop
source_profile = b
[profile b]
role_arn = arn:aws:iam::$TOOLING:role/top
source_profile = a
[profile lost]
role_arn = arn:aws:iam::$TOOLING:role/hop
source_profile = nowhere
[profile denied]
role_arn = arn:aws:iam::$TOOLING:role/not-trusted
source_profile = base
[profile mfa]
role_arn = arn:aws:iam::$TOOLING:role/hop
source_profile = base
mfa_serial = arn:aws:iam::$TOOLING:mfa/me
"
expect_failure a 1 "error[AUTH_FAILED] control-center: repository 'afu9/control-center': ecr DescribeRepositories: source_profile chain a -> b -> a is a cycle"
expect_exit 253 -- cli configure export-credentials --profile a
expect_stderr_contains "Infinite loop in credential configuration detected"

section "failure: a missing source profile"
expect_failure lost 1 "error[AUTH_FAILED] control-center: repository 'afu9/control-center': ecr DescribeRepositories: profile lost: source_profile nowhere is in neither $AWS_SHARED_CREDENTIALS_FILE nor $AWS_CONFIG_FILE"
expect_exit 253 -- cli configure export-credentials --profile lost
expect_stderr_contains "nowhere"

section "failure: STS AccessDenied"
expect_failure denied 1 "profile denied: STS AssumeRole at $FAKE_AWS_URL for role arn:aws:iam::$TOOLING:role/not-trusted failed: HTTP 403 AccessDenied: User: arn:aws:iam::$TOOLING:user/base is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::$TOOLING:role/not-trusted (request id"
expect_exit 254 -- cli configure export-credentials --profile denied
expect_stderr_contains "AccessDenied"

section "failure: mfa_serial"
expect_failure mfa 1 "profile mfa: role arn:aws:iam::$TOOLING:role/hop requires an MFA code (mfa_serial), and imagegate does not prompt"

section "failure: bad credential_process output, a failing and a hanging process"
cat >"$SCRATCH/bad-helper" <<EOF
#!/bin/sh
printf '{"Version": 2, "AccessKeyId": "$PROC_AKID", "SecretAccessKey": "$PROC_SECRET"}'
EOF
cat >"$SCRATCH/failing-helper" <<EOF
#!/bin/sh
echo "cannot reach the vault: $PROC_SECRET"
echo "token $PROC_SECRET" >&2
exit 3
EOF
cat >"$SCRATCH/hanging-helper" <<'EOF'
#!/bin/sh
exec sleep 30
EOF
chmod +x "$SCRATCH/bad-helper" "$SCRATCH/failing-helper" "$SCRATCH/hanging-helper"
write_files "" "[profile bad]
credential_process = $SCRATCH/bad-helper
[profile failing]
credential_process = $SCRATCH/failing-helper --vault prod
[profile hanging]
credential_process = $SCRATCH/hanging-helper
"
expect_failure bad 1 "profile bad: credential_process $SCRATCH/bad-helper: output has Version 2; only Version 1 is supported"
expect_exit 253 -- cli configure export-credentials --profile bad
expect_failure failing 1 "profile failing: credential_process $SCRATCH/failing-helper failed (exit status 3); its output is not shown"
expect_exit 253 -- cli configure export-credentials --profile failing
export IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT=1s
expect_failure hanging 1 "profile hanging: credential_process $SCRATCH/hanging-helper did not finish within 1 s and was stopped (IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT)"
unset IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT
expect_exit 2 -- env IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT=soon AWS_PROFILE=hanging "$IMAGEGATE" \
  gate -m "$M" --root "$EXAMPLE" --env production --sha "$SHA" --registry ecr \
  --endpoint-url "$FAKE_AWS_URL"
expect_stderr_contains "IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT"

section "failure: an expired SSO token"
sso_cache corp 2020-01-01T00:00:00Z
write_files "" "[profile dev]
sso_session = corp
sso_account_id = $SSO_ACCOUNT
sso_role_name = Deployer
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
"
expect_failure dev 1 "profile dev: the SSO token for sso-session corp expired at 2020-01-01T00:00:00Z; run \`aws sso login --profile dev\`"
expect_eq 0 "$(fake_aws_count GetRoleCredentials)" "no portal call with an expired token"
expect_exit 255 -- cli configure export-credentials --profile dev
expect_stderr_contains "Token has expired and refresh failed"

# --- two accounts in one run ---------------------------------------------------------------------
section "cross-account: ECR with --registry-profile, ECS with the default profile"
cat >"$SCRATCH/prod-helper" <<EOF
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "$PROD_AKID", "SecretAccessKey": "$PROD_SECRET"}'
EOF
chmod +x "$SCRATCH/prod-helper"
write_files "$BASE_CREDENTIALS" "[default]
credential_process = $SCRATCH/prod-helper
[profile gate]
role_arn = arn:aws:iam::$TOOLING:role/gate
source_profile = base
"
VERIFY=("$IMAGEGATE" verify -m "$M" --env production --sha "$SHA" --no-color --cluster afu9
  --service web --allow-unmanaged log-router --registry "ecr://$REG" --endpoint-url "$FAKE_AWS_URL")
fake_aws_reset_counters >/dev/null
expect_exit 0 -- "${VERIFY[@]}" --registry-profile gate -v
expect_output_contains "verified: every service runs exactly this deploy's images"
expect_eq "ASIAGATEROLE00000001" "$(keys_of DescribeRepositories)" "ECR was asked with the registry profile's role"
expect_eq "$PROD_AKID" "$(keys_of DescribeServices)" "ECS was asked with the default profile's key"
expect_eq "" "$(requests | jq -r '.[] | select(.status != 200) | .operation')" "no request was refused"
expect_stderr_contains "AWS credentials for registry: profile gate (role arn:aws:iam::$TOOLING:role/gate assumed with profile base)"
expect_stderr_contains "AWS credentials for ECS: profile default credential_process"
no_secret_anywhere
cli sts get-caller-identity --profile gate --endpoint-url "$FAKE_AWS_URL" --query Account --output text >"$SCRATCH/acct" 2>/dev/null || true
expect_eq "$TOOLING" "$(cat "$SCRATCH/acct")" "the CLI: profile gate is in the tooling account"
cli sts get-caller-identity --endpoint-url "$FAKE_AWS_URL" --query Account --output text >"$SCRATCH/acct" 2>/dev/null || true
expect_eq "$PROD" "$(cat "$SCRATCH/acct")" "the CLI: the default profile is in the production account"

fake_aws_reset_counters >/dev/null
expect_exit 0 -- env IMAGEGATE_REGISTRY_PROFILE=gate "${VERIFY[@]}"
expect_eq "ASIAGATEROLE00000001" "$(keys_of BatchGetImage)" "IMAGEGATE_REGISTRY_PROFILE picks the registry profile"

fake_aws_reset_counters >/dev/null
expect_exit 1 -- "${VERIFY[@]}"
expect_output_contains "AccessDeniedException"
expect_eq "$PROD_AKID" "$(keys_of DescribeRepositories)" "without --registry-profile ECR gets the production key, and refuses it"

expect_exit 2 -- "${VERIFY[@]}" --registry-profile nope
expect_stderr_contains "--registry-profile names profile 'nope', which is in neither"
expect_exit 2 -- "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" --env production --sha "$SHA" \
  --registry-profile gate --registry https://127.0.0.1:1
expect_stderr_contains "--registry-profile 'gate' applies only to ECR registries"

fake_aws_reset_counters >/dev/null
expect_exit 0 -- "$IMAGEGATE" gate -m "$M" --root "$EXAMPLE" --env production --sha "$SHA" \
  --no-color --registry "ecr://$REG" --endpoint-url "$FAKE_AWS_URL" --registry-profile gate \
  --evidence-out "$SCRATCH/evidence.json"
expect_eq "$REG/afu9/mcp-deploy" \
  "$(jq -r '.images[] | select(.repository == "afu9/mcp-deploy") | .repositoryUri' "$SCRATCH/evidence.json")" \
  "the evidence's repository URI carries the registry's account host"
expect_exit 0 -- "$IMAGEGATE" pin -m "$M" --env production --sha "$SHA" --evidence "$SCRATCH/evidence.json" \
  --task-def "$EXAMPLE/task-definition.json" --allow-unmanaged log-router --out "$SCRATCH/pinned.json"
expect_eq "$REG/afu9/mcp-deploy@" \
  "$(jq -r '.containerDefinitions[] | select(.name == "mcp-deploy") | .image' "$SCRATCH/pinned.json" | cut -d@ -f1)@" \
  "pinned references carry the registry's account host"
no_secret_anywhere "$SCRATCH/evidence.json" "$SCRATCH/pinned.json"

# --- refresh -------------------------------------------------------------------------------------
section "refresh: credentials expiring during verify --wait, and a retry after ExpiredToken"
# Each run of the helper hands out the next key: the first one expired (though it claims 2099),
# then keys that expire within the refresh margin, so every poll resolves again.
cat >"$SCRATCH/rotating-helper" <<EOF
#!/bin/sh
n=\$(cat "$SCRATCH/runs" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$SCRATCH/runs"
soon=\$(date -u -d '+4 minutes' +%Y-%m-%dT%H:%M:%SZ)
case \$n in
  1) printf '{"Version": 1, "AccessKeyId": "$EXPIRED_AKID", "SecretAccessKey": "$EXPIRED_SECRET", "SessionToken": "$EXPIRED_TOKEN", "Expiration": "2099-01-01T00:00:00Z"}' ;;
  2) printf '{"Version": 1, "AccessKeyId": "$PROD_AKID", "SecretAccessKey": "$PROD_SECRET", "Expiration": "%s"}' "\$soon" ;;
  *) printf '{"Version": 1, "AccessKeyId": "$PROD2_AKID", "SecretAccessKey": "$PROD2_SECRET", "Expiration": "%s"}' "\$soon" ;;
esac
EOF
chmod +x "$SCRATCH/rotating-helper"
write_files "$BASE_CREDENTIALS" "[default]
credential_process = $SCRATCH/rotating-helper
[profile gate]
role_arn = arn:aws:iam::$TOOLING:role/gate
source_profile = base
"
fake_aws_merge_state "{\"clusters\": {\"afu9\": {\"services\": {\"web\": {\"taskDefinition\": \"afu9:1\", \"desiredCount\": 1,
  \"deployments\": [{\"status\": \"PRIMARY\", \"taskDefinition\": \"afu9:1\", \"desiredCount\": 1, \"runningCount\": 1,
  \"rolloutState\": \"IN_PROGRESS\", \"completeAfterDescribes\": 2}]}}}}}" >/dev/null
fake_aws_reset_counters >/dev/null
rm -f "$SCRATCH/runs"
expect_exit 0 -- "${VERIFY[@]}" --registry-profile gate --wait 2m -v
expect_output_contains "verified"
# The fake logs no key for a request it refuses as expired (the key is only known to be valid
# after the signature check); the helper's first answer was the expired key.
expect_eq "400 200" "$(requests | jq -r '[.[] | select(.operation == "DescribeServices") | .status]
  | .[0:2] | map(tostring) | join(" ")')" "the first DescribeServices was refused (expired), the retry passed"
expect_eq "$PROD_AKID $PROD2_AKID" "$(requests | jq -r '[.[] | select(.operation == "DescribeServices"
  and .status == 200) | .accessKeyId] | reduce .[] as $k ([]; if index($k) then . else . + [$k] end)
  | join(" ")')" "ECS saw the refreshed keys after the expired one"
expect_stderr_contains "AWS credentials for ECS refreshed: profile default credential_process"
runs="$(cat "$SCRATCH/runs")"
[ "$runs" -ge 3 ] && pass "the helper ran again before its credentials expired ($runs runs)" ||
  fail "the helper ran $runs times"
no_secret_anywhere
expect_not_contains "$EXPIRED_SECRET" "$FAKE_AWS_LOG"
expect_not_contains "$SSO_TOKEN" "$FAKE_AWS_LOG"

finish
