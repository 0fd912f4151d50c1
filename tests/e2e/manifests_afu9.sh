#!/usr/bin/env bash
# The afu9 project's own manifest (tests/data/afu9-repo, laid out like that team's repository):
# validate and the checks of the original TypeScript pipeline's 19 tests, tags, environment
# aliases, unknown and duplicate keys, build args (matrix, bake, docker), conditionalOn through
# tags/matrix/gate/pin/verify, semantic versions, a deploy folder holding only the manifest, and
# the SKIP_IMAGE_GATE break-glass. Each bad input with its exact finding code, message and exit.
source "${E2E_LIB:?}/common.sh"
require_cmd jq
require_cmd umoci

REPO=$TEST_DATA/afu9-repo
M=$REPO/images-manifest.json
SHA=0123456789abcdef0123456789abcdef01234567
SHORT=${SHA:0:7}
ig() { "$IMAGEGATE" "$@" --no-color; }

# run CODE TEXT -- CMD... : exit code exactly, and TEXT in stdout or stderr.
run() {
  local want=$1 text=$2
  shift 3
  expect_exit "$want" -- "$@"
  if ! grep -qF -- "$text" "$LAST_OUT" "$LAST_ERR"; then
    fail "output of '$*' lacks '$text'"
    _e2e_show_output
  fi
}

# variant NAME JQ_FILTER [jq args] : a derived manifest inside a copy of the repository.
WORK=$SCRATCH/repo
cp -r "$REPO" "$WORK"
variant() {
  local name=$1 filter=$2
  shift 2
  jq "$@" "$filter" "$M" >"$WORK/$name.json"
  printf '%s\n' "$WORK/$name.json"
}

section "the afu9 project's manifest validates, with the checks of its 19 tests"
run 0 "✓ valid" -- ig validate -m "$M"
expect_not_contains "UNKNOWN_FIELD"
expect_exit 0 -- ig validate -m "$M" --output json
expect_eq "true 0" "$(jq -r '"\(.valid) \(.findings | length)"' "$LAST_OUT")" "valid, no finding at all"
expect_eq 4 "$(jq '.images | length' "$M")" "4 images"
expect_eq "control-center=afu9/control-center mcp-github=afu9/mcp-github mcp-deploy=afu9/mcp-deploy mcp-observability=afu9/mcp-observability" \
  "$(jq -r '[.images[] | "\(.id)=\(.name)"] | join(" ")' "$M")" "ids and names"
expect_eq true "$(jq '[.images[].required] | all' "$M")" "every image required"
expect_eq git-sha "$(jq -r .tagging.strategy "$M")" "git-sha strategy"
expect_eq "prod stage" "$(jq -r '"\(.tagging.prefixes.production) \(.tagging.prefixes.staging)"' "$M")" "prod/stage prefixes"
expect_eq "mcp-servers mcp-servers/github/Dockerfile" "$(jq -r '.images[1] | "\(.context) \(.dockerfile)"' "$M")" "context is not the Dockerfile's folder"
# Every Dockerfile and context exists: remove one of each and validate names it.
cp -r "$REPO" "$SCRATCH/broken"
rm "$SCRATCH/broken/mcp-servers/deploy/Dockerfile"
run 1 "error[DOCKERFILE_MISSING] mcp-deploy /images/2/dockerfile: dockerfile 'mcp-servers/deploy/Dockerfile' does not exist" -- \
  ig validate -m "$SCRATCH/broken/images-manifest.json"
jq '.images[1].context = "mcp-server"' "$M" >"$SCRATCH/broken/ctx.json"
run 1 "error[CONTEXT_MISSING] mcp-github /images/1/context: context 'mcp-server' does not exist" -- \
  ig validate -m "$SCRATCH/broken/ctx.json"
# Repositories match images, both ways.
run 1 "error[REPOSITORY_UNLISTED] mcp-deploy /images/2/name: image name 'afu9/mcp-deploy' is not listed in ecrRepositories" -- \
  ig validate -m "$(variant no-repo 'del(.ecrRepositories[2])')"
run 1 "error[REPOSITORY_UNUSED] /ecrRepositories/4: repository 'afu9/runner' in ecrRepositories belongs to no image" -- \
  ig validate -m "$(variant extra-repo '.ecrRepositories += ["afu9/runner"]')"

section "tags: prod-<sha>, prod-<sha7>, prod-latest in template order"
expect_exit 0 -- ig tags -m "$M" --env production --sha $SHA --image control-center
expect_eq "afu9/control-center:prod-$SHA
afu9/control-center:prod-$SHORT
afu9/control-center:prod-latest" "$(cat "$LAST_OUT")" "control-center tags in template order"
expect_exit 0 -- ig tags -m "$M" --env production --sha $SHA
expect_eq 12 "$(wc -l <"$LAST_OUT" | tr -d ' ')" "3 tags for each of the 4 images"

section "environment aliases: key or prefix, trimmed, any case; the canonical key everywhere"
for alias in production prod PRODUCTION Prod " prod " $'\tPRODUCTION\n'; do
  expect_exit 0 -- ig tags -m "$M" --env "$alias" --sha $SHA --image mcp-github
  expect_eq "afu9/mcp-github:prod-$SHA" "$(head -1 "$LAST_OUT")" "--env '$alias' is production"
done
for alias in staging stage STAGE " stage " Staging; do
  expect_exit 0 -- env DEPLOY_ENV="$alias" "$IMAGEGATE" tags -m "$M" --sha $SHA --image mcp-github
  expect_eq "afu9/mcp-github:stage-latest" "$(tail -1 "$LAST_OUT")" "DEPLOY_ENV='$alias' is staging"
done
run 2 "imagegate tags: --env 'qa' is not an environment of tagging.prefixes; known: 'production', 'staging' (or their prefixes 'prod', 'stage', in any case)" -- \
  ig tags -m "$M" --env qa --sha $SHA
run 2 "--env 'productionn' is not an environment" -- ig tags -m "$M" --env productionn --sha $SHA
run 2 "--env (or DEPLOY_ENV) is required" -- ig tags -m "$M" --env "  " --sha $SHA
AMB=$(variant ambiguous '.tagging.prefixes.qa = "stage"')
run 2 "imagegate tags: --env 'STAGE' is ambiguous: it names the environments 'qa' and 'staging'; give the environment's exact key" -- \
  ig tags -m "$AMB" --env STAGE --sha $SHA
run 0 "afu9/mcp-github:stage-latest" -- ig tags -m "$AMB" --env staging --sha $SHA

section "unknown keys warn, near misses and --strict are errors, duplicate keys are errors"
UNK=$(variant unknown '.owner = "platform-team" | .images[0].team = "cc"')
run 0 "warning[UNKNOWN_FIELD] /owner: key 'owner' is not a known field; it is ignored (--strict makes it an error)" -- ig validate -m "$UNK"
expect_output_contains "warning[UNKNOWN_FIELD] control-center /images/0/team: key 'team' is not a known field"
run 1 "error[UNKNOWN_FIELD] /owner: key 'owner' is not a known field (--strict)" -- ig validate -m "$UNK" --strict
run 1 "error[UNKNOWN_FIELD] mcp-github /images/1/requried: key 'requried' is not a known field; did you mean 'required'?" -- \
  ig validate -m "$(variant requried '.images[1].requried = false')"
run 1 "error[UNKNOWN_FIELD] /platfroms: key 'platfroms' is not a known field; did you mean 'platforms'?" -- \
  ig validate -m "$(variant platfroms '.platfroms = ["linux/amd64"]')"
run 1 "error[UNKNOWN_FIELD] /tagging/alwaysTags: key 'alwaysTags' is not a known field; did you mean 'alwaysTag'?" -- \
  ig validate -m "$(variant alwaystags '.tagging.alwaysTags = ["x"]')"
run 1 "error[UNKNOWN_FIELD] mcp-deploy /images/2/conditionalOn/enviroments: key 'enviroments' is not a known field; did you mean 'environments'?" -- \
  ig validate -m "$(variant enviroments '.images[2].conditionalOn = {enviroments: ["staging"]}')"
# A typo is an error for the deploy commands too: it must never silently switch a check off.
run 1 "did you mean 'required'?" -- ig tags -m "$WORK/requried.json" --env production --sha $SHA
printf '{\n  "version": "1.0.0",\n  "version": "1.0.1",\n  "images": [],\n  "tagging": {}\n}\n' >"$WORK/dup.json"
run 1 "error[DUPLICATE_KEY] /version: key 'version' appears twice in one object, at line 2, column 3 and line 3, column 3" -- \
  ig validate -m "$WORK/dup.json"
sed 's/"required": true,/"required": true, "required": false,/' "$M" >"$WORK/dup-required.json"
run 1 "error[DUPLICATE_KEY] mcp-deploy /images/2/required: key 'required' appears twice in one object, at line 34, column 7 and line 34, column 25" -- \
  ig validate -m "$WORK/dup-required.json"

section "build args: --build-arg, then the environment, then what imagegate knows"
export SOURCE_DATE_EPOCH=1700000000
expect_exit 0 -- ig matrix -m "$M" --env prod --sha $SHA --format json --build-arg BUILD_VERSION=1.4.0
expect_eq '{"BUILD_COMMIT_HASH":"'$SHA'","BUILD_ENV":"production","BUILD_TIMESTAMP":"2023-11-14T22:13:20Z","BUILD_VERSION":"1.4.0"}' \
  "$(jq -cS '.[0].buildArgs' "$LAST_OUT")" "every build arg has its value; BUILD_ENV is the canonical key; timestamp from SOURCE_DATE_EPOCH"
expect_eq '{}' "$(jq -c '.[1].buildArgs' "$LAST_OUT")" "an image with buildArgs [] has none"
expect_exit 0 -- env BUILD_VERSION=2.0.0 BUILD_ENV=custom "$IMAGEGATE" matrix -m "$M" --env production --sha $SHA --format json
expect_eq "2.0.0 custom" "$(jq -r '.[0].buildArgs | "\(.BUILD_VERSION) \(.BUILD_ENV)"' "$LAST_OUT")" "the environment variable of the same name"
expect_exit 0 -- env BUILD_VERSION=2.0.0 "$IMAGEGATE" matrix -m "$M" --env production --sha $SHA --format json --build-arg BUILD_VERSION=3.0.0 --build-arg BUILD_TIMESTAMP=now
expect_eq "3.0.0 now" "$(jq -r '.[0].buildArgs | "\(.BUILD_VERSION) \(.BUILD_TIMESTAMP)"' "$LAST_OUT")" "--build-arg before the environment and the known values"
run 2 "imagegate matrix: build arg 'BUILD_VERSION' of image 'control-center' has no value: give --build-arg BUILD_VERSION=VALUE or set the environment variable BUILD_VERSION" -- \
  ig matrix -m "$M" --env production --sha $SHA
expect_eq "" "$(cat "$LAST_OUT")" "nothing on stdout when a build arg has no value"
run 2 "--build-arg 'BUILD_VERSION' is not NAME=VALUE" -- ig matrix -m "$M" --env production --sha $SHA --build-arg BUILD_VERSION
SOURCE_DATE_EPOCH=yesterday run 2 "SOURCE_DATE_EPOCH 'yesterday' is not a number of seconds" -- \
  ig matrix -m "$M" --env production --sha $SHA --build-arg BUILD_VERSION=1
expect_exit 0 -- ig matrix -m "$M" --env staging --sha $SHA --format github --build-arg BUILD_VERSION=1.4.0
expect_eq "BUILD_VERSION=1.4.0
BUILD_COMMIT_HASH=$SHA
BUILD_ENV=staging
BUILD_TIMESTAMP=2023-11-14T22:13:20Z" "$(jq -r '.include[0]["build-args"]' "$LAST_OUT")" "github matrix: build-args one NAME=VALUE per line"
expect_exit 0 -- ig tags -m "$M" --env production --sha $SHA --format docker --image control-center --with-build-args --build-arg "BUILD_VERSION=1.4.0 beta"
expect_eq "-t afu9/control-center:prod-$SHA -t afu9/control-center:prod-$SHORT -t afu9/control-center:prod-latest --build-arg 'BUILD_VERSION=1.4.0 beta' --build-arg BUILD_COMMIT_HASH=$SHA --build-arg BUILD_ENV=production --build-arg BUILD_TIMESTAMP=2023-11-14T22:13:20Z" \
  "$(cat "$LAST_OUT")" "tags --format docker --with-build-args"
run 2 "--with-build-args applies to --format docker" -- ig tags -m "$M" --env production --sha $SHA --with-build-args

# The bake file: docker buildx bake's JSON shape (group.default.targets, target.<name> with
# context, dockerfile, args, tags, platforms); bake resolves dockerfile relative to context.
PLAT=$(variant platforms '.platforms = ["linux/amd64", "linux/arm64"]')
expect_exit 0 -- ig matrix -m "$PLAT" --env production --sha $SHA --format bake --build-arg BUILD_VERSION=1.4.0 --registry-host 127.0.0.1:5000
if jq -e --arg sha "$SHA" '
    (keys == ["group", "target"])
    and .group.default.targets == ["control-center", "mcp-github", "mcp-deploy", "mcp-observability"]
    and (.target | keys | sort) == (["control-center", "mcp-deploy", "mcp-github", "mcp-observability"])
    and .target["control-center"] == {
      context: ".", dockerfile: "control-center/Dockerfile",
      args: {BUILD_VERSION: "1.4.0", BUILD_COMMIT_HASH: $sha, BUILD_ENV: "production", BUILD_TIMESTAMP: "2023-11-14T22:13:20Z"},
      tags: ["127.0.0.1:5000/afu9/control-center:prod-\($sha)", "127.0.0.1:5000/afu9/control-center:prod-\($sha[0:7])", "127.0.0.1:5000/afu9/control-center:prod-latest"],
      platforms: ["linux/amd64", "linux/arm64"]}
    and .target["mcp-github"].context == "mcp-servers" and .target["mcp-github"].dockerfile == "github/Dockerfile"
    and (.target["mcp-github"] | has("args") | not)
    and ([.target[] | keys[]] | unique - ["args", "context", "dockerfile", "platforms", "tags"] == [])
    and ([.target[].args // {} | .[] | type] | all(. == "string"))' "$LAST_OUT" >/dev/null; then
  pass "bake file: target.<name>.{context,dockerfile,args,tags,platforms}"
else
  fail "bake file shape"; cat "$LAST_OUT"
fi
unset SOURCE_DATE_EPOCH

section "conditionalOn: environments and features, through tags, matrix, gate, pin and verify"
COND=$(variant conditional '.images[3].conditionalOn = {environments: ["production"]}
  | .images[2].conditionalOn = {feature: "enableDeploy"} | .images[0].buildArgs = []')
expect_exit 0 -- ig tags -m "$COND" --env staging --sha $SHA --format json
expect_eq '["control-center","mcp-github"]' "$(jq -c 'map(.id)' "$LAST_OUT")" "staging without the feature: two images"
expect_exit 0 -- ig tags -m "$COND" --env production --sha $SHA --format json --feature enableDeploy
expect_eq '["control-center","mcp-github","mcp-deploy","mcp-observability"]' "$(jq -c 'map(.id)' "$LAST_OUT")" "production with --feature: all four"
expect_exit 0 -- env IMAGEGATE_FEATURES=other,enableDeploy "$IMAGEGATE" matrix -m "$COND" --env staging --sha $SHA --format json
expect_eq '["control-center","mcp-github","mcp-deploy"]' "$(jq -c 'map(.id)' "$LAST_OUT")" "IMAGEGATE_FEATURES enables a feature (matrix)"
expect_exit 0 -- ig matrix -m "$COND" --env prod --sha $SHA --format bake
expect_eq '["control-center","mcp-github","mcp-observability"]' "$(jq -c '.group.default.targets' "$LAST_OUT")" "bake targets leave excluded images out"
run 1 "error[UNKNOWN_ENVIRONMENT] mcp-observability /images/3/conditionalOn/environments/0: conditionalOn names environment 'prodution', which is not a key of tagging.prefixes; known: 'production', 'staging'" -- \
  ig validate -m "$(variant bad-env '.images[3].conditionalOn = {environments: ["prodution"]}')"
NONE=$(variant nowhere '.images[3].conditionalOn = {environments: []}')
expect_exit 0 -- ig tags -m "$NONE" --env production --sha $SHA --format json
expect_eq 3 "$(jq length "$LAST_OUT")" "an empty environments list excludes everywhere"

# Real gate over on-disk OCI layouts: only the staging images that are built exist.
LAYOUTS=$SCRATCH/layouts
# staged_layout ID : an OCI layout for afu9/ID with the three staging tags on one image.
staged_layout() {
  local dir=$LAYOUTS/afu9/$1
  mkdir -p "$(dirname "$dir")"
  umoci init --layout "$dir" >/dev/null
  umoci new --image "$dir:build" >/dev/null 2>&1
  umoci config --image "$dir:build" --config.label "org.afu9.service=$1" --tag "stage-$SHA" 2>/dev/null
  umoci rm --image "$dir:build"
  umoci tag --image "$dir:stage-$SHA" "stage-$SHORT"
  umoci tag --image "$dir:stage-$SHA" stage-latest
}
for id in control-center mcp-github mcp-deploy mcp-observability; do staged_layout $id; done
rm -rf "$LAYOUTS/afu9/mcp-observability" "$LAYOUTS/afu9/mcp-deploy"
EV=$SCRATCH/cond-evidence.json
run 0 "✓ gate passed" -- ig gate -m "$COND" --env STAGE --sha $SHA --registry "oci-layout:$LAYOUTS" --evidence-out "$EV"
expect_output_contains "mcp-observability excluded: conditionalOn.environments is 'production', not 'staging'"
expect_output_contains "mcp-deploy excluded: conditionalOn.feature 'enableDeploy' is not enabled (--feature or IMAGEGATE_FEATURES)"
expect_eq "staging pass control-center,mcp-github" "$(jq -r '"\(.env) \(.verdict) \([.images[].id] | join(","))"' "$EV")" "evidence: canonical env, only the images of this deploy"
expect_eq "mcp-deploy=conditionalOn.feature 'enableDeploy' is not enabled (--feature or IMAGEGATE_FEATURES) mcp-observability=conditionalOn.environments is 'production', not 'staging'" \
  "$(jq -r '[.excluded[] | "\(.id)=\(.reason)"] | join(" ")' "$EV")" "evidence lists the excluded images and why"
run 1 "error[REPOSITORY_MISSING] mcp-deploy" -- ig gate -m "$COND" --env staging --sha $SHA --registry "oci-layout:$LAYOUTS" --feature enableDeploy

# pin and verify expect only the included images; an excluded image's container is unmanaged.
TD3=$SCRATCH/td-staging.json
jq '.containerDefinitions |= map(select(.name == "control-center" or .name == "mcp-github" or .name == "mcp-observability"))
  | .containerDefinitions[].image |= sub(":prod-latest$"; ":stage-latest")' "$SOURCE_DIR/examples/afu9/task-definition.json" >"$TD3"
run 1 "error[UNMANAGED_CONTAINER] mcp-observability" -- ig pin -m "$COND" --evidence "$EV" --task-def "$TD3"
run 0 "pinned 2 containers to verified digests" -- ig pin -m "$COND" --evidence "$EV" --task-def "$TD3" --allow-unmanaged mcp-observability -o "$SCRATCH/pinned3.json"
expect_eq "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/mcp-observability:stage-latest" "$(jq -r '.containerDefinitions[2].image' "$SCRATCH/pinned3.json")" "the excluded image's container is kept as is"
run 0 "verified" -- ig verify -m "$COND" --env staging --sha $SHA --evidence "$EV" --task-def "$SCRATCH/pinned3.json" --allow-unmanaged mcp-observability
run 1 "error[UNMANAGED_CONTAINER] mcp-observability" -- ig verify -m "$COND" --env staging --sha $SHA --evidence "$EV" --task-def "$SCRATCH/pinned3.json"
# In production mcp-observability is in: pin expects it and the staging evidence is refused.
run 1 "error[EVIDENCE_MISMATCH] env: the evidence is for environment 'staging', this deploy is 'production'" -- \
  ig pin -m "$COND" --env prod --evidence "$EV" --task-def "$TD3"

section "semantic versions"
SEMVER=$(variant semver '.tagging.strategy = "semantic-version"
  | .tagging.alwaysTag = ["{prefix}-{version}", "{prefix}-{major}.{minor}", "{prefix}-{major}", "{prefix}-{short_sha}", "{prefix}-latest"]')
run 0 "✓ valid" -- ig validate -m "$SEMVER"
for v in 1.2.3 v1.2.3; do
  expect_exit 0 -- ig tags -m "$SEMVER" --env production --version $v --sha $SHA --image mcp-deploy
  expect_eq "afu9/mcp-deploy:prod-1.2.3 afu9/mcp-deploy:prod-1.2 afu9/mcp-deploy:prod-1 afu9/mcp-deploy:prod-$SHORT afu9/mcp-deploy:prod-latest" \
    "$(tr '\n' ' ' <"$LAST_OUT" | sed 's/ $//')" "--version $v"
done
expect_exit 0 -- ig tags -m "$SEMVER" --env production --version 1.2.3-rc.1 --sha $SHA --image mcp-deploy
expect_eq "afu9/mcp-deploy:prod-1.2.3-rc.1 afu9/mcp-deploy:prod-$SHORT afu9/mcp-deploy:prod-latest" \
  "$(tr '\n' ' ' <"$LAST_OUT" | sed 's/ $//')" "a prerelease never moves the {major}/{minor} tags"
SEMVER_NOSHA=$(variant semver-nosha '.tagging.strategy = "semantic-version" | .tagging.alwaysTag = ["{prefix}-{version}", "{prefix}-{major}"]')
run 0 "afu9/mcp-github:stage-2.0.0" -- ig tags -m "$SEMVER_NOSHA" --env staging --version v2.0.0
run 2 "--version is required: a tag template uses {version}, {major}, {minor} or {patch}" -- ig tags -m "$SEMVER_NOSHA" --env staging
run 2 "--version '1.2' is not a semantic version; expected MAJOR.MINOR.PATCH[-PRERELEASE]" -- ig tags -m "$SEMVER_NOSHA" --env staging --version 1.2
run 2 "--version '01.2.3' is not a semantic version" -- ig tags -m "$SEMVER_NOSHA" --env staging --version 01.2.3
run 2 "--sha (or GIT_SHA) is required" -- ig tags -m "$SEMVER" --env staging --version 1.2.3
run 2 "--sha (or GIT_SHA) is required" -- ig tags -m "$M" --env staging --version 1.2.3
run 1 "error[NO_FULL_SHA_TEMPLATE] /tagging/alwaysTag: no template contains {full_sha} or {version}; without one two builds could share every tag" -- \
  ig validate -m "$(variant semver-weak '.tagging.strategy = "semantic-version" | .tagging.alwaysTag = ["{prefix}-{major}.{minor}", "{prefix}-latest"]')"
run 1 "tagging strategy 'semver' is unknown; expected \"git-sha\" or \"semantic-version\"" -- \
  ig validate -m "$(variant semver-typo '.tagging.strategy = "semver"')"

section "gate, pin and verify in a folder holding only the manifest"
ONLY=$SCRATCH/deploy-job
mkdir -p "$ONLY"
cp "$M" "$ONLY/images-manifest.json"
for id in mcp-deploy mcp-observability; do staged_layout $id; done
cd "$ONLY"
run 1 "error[DOCKERFILE_MISSING] control-center /images/0/dockerfile" -- ig validate
run 1 "error[DOCKERFILE_MISSING]" -- ig matrix --env staging --sha $SHA --build-arg BUILD_VERSION=1
run 0 "afu9/control-center:stage-latest" -- ig tags --env staging --sha $SHA
run 0 "✓ gate passed" -- ig gate --env staging --sha $SHA --registry "oci-layout:$LAYOUTS" --evidence-out evidence.json
expect_not_contains "DOCKERFILE_MISSING"
jq '.containerDefinitions |= map(select(.name != "log-router")) | .containerDefinitions[].image |= sub(":prod-latest$"; ":stage-latest")' \
  "$SOURCE_DIR/examples/afu9/task-definition.json" >td.json
run 0 "pinned 4 containers to verified digests" -- ig pin --evidence evidence.json --task-def td.json -o pinned.json
run 0 "verified" -- ig verify --env staging --sha $SHA --evidence evidence.json --task-def pinned.json
run 0 "verified" -- ig verify --env staging --sha $SHA --task-def td.json --registry "oci-layout:$LAYOUTS"
expect_eq "images-manifest.json" "$(ls | grep -v -e '^evidence.json$' -e '^td.json$' -e '^pinned.json$')" "the folder holds only the manifest (and what the job wrote)"
cd "$SCRATCH"

section "SKIP_IMAGE_GATE break-glass"
run 0 "! gate skipped: SKIP_IMAGE_GATE=true, nothing was checked; pin refuses this evidence" -- \
  env SKIP_IMAGE_GATE=true "$IMAGEGATE" gate --no-color -m "$M" --env production --sha $SHA --registry "oci-layout:$SCRATCH/no-such-dir" --evidence-out "$SCRATCH/skipped.json"
expect_output_contains "warning[GATE_SKIPPED] SKIP_IMAGE_GATE: SKIP_IMAGE_GATE=true: the gate was skipped (break-glass); no image was checked, and pin refuses this evidence"
expect_exit 0 -- env SKIP_IMAGE_GATE=true "$IMAGEGATE" gate --no-color -m "$M" --env production --sha $SHA --registry "oci-layout:$SCRATCH/no-such-dir" --report markdown="$SCRATCH/summary.md"
expect_eq "## ⚠️ imagegate gate: skipped" "$(head -1 "$SCRATCH/summary.md")" "the step summary says skipped, not passed"
expect_eq "skipped skipped,skipped,skipped,skipped GATE_SKIPPED" "$(jq -r '"\(.verdict) \([.images[].status] | join(",")) \(.findings[0].code)"' "$SCRATCH/skipped.json")" "evidence says the gate was skipped"
run 0 "::warning title=imagegate GATE_SKIPPED::SKIP_IMAGE_GATE: SKIP_IMAGE_GATE=true: the gate was skipped" -- \
  env SKIP_IMAGE_GATE=true GITHUB_ACTIONS=true "$IMAGEGATE" gate --no-color -m "$M" --env production --sha $SHA --registry "oci-layout:$SCRATCH/no-such-dir"
run 1 "error[EVIDENCE_NOT_PASSED] verdict: the evidence's verdict is 'skipped': the gate was skipped (SKIP_IMAGE_GATE=true) and verified nothing, so nothing can be pinned" -- \
  ig pin -m "$M" --evidence "$SCRATCH/skipped.json" --task-def "$SOURCE_DIR/examples/afu9/task-definition.json" --allow-unmanaged log-router -o "$SCRATCH/never.json"
expect_eq no "$([ -e "$SCRATCH/never.json" ] && echo yes || echo no)" "pin wrote nothing"
run 1 "warning[SKIP_IMAGE_GATE_IGNORED] SKIP_IMAGE_GATE: SKIP_IMAGE_GATE is 'TRUE', not \"true\": ignored, the gate ran" -- \
  env SKIP_IMAGE_GATE=TRUE "$IMAGEGATE" gate --no-color -m "$M" --env production --sha $SHA --registry "oci-layout:$SCRATCH/no-such-dir"
run 2 "--env 'qa' is not an environment" -- env SKIP_IMAGE_GATE=true "$IMAGEGATE" gate -m "$M" --env qa --sha $SHA --registry "oci-layout:$SCRATCH/no-such-dir"

finish
