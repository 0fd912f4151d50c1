#!/usr/bin/env bash
# tags and matrix on the example: exact references, formats, and every bad env/sha exits 2 with
# the value shown escaped.
set -euo pipefail
: "${IMAGEGATE:?} ${SOURCE_DIR:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$scratch" # before the first command: HOME, AWS_*, DOCKER_CONFIG, proxies
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
M=$SOURCE_DIR/examples/afu9/images-manifest.json
SHA=0123456789abcdef0123456789abcdef01234567
ig() { "$IMAGEGATE" "$@" -m "$M" --no-color; }

# run NAME WANT_EXIT WANT_TEXT -- ARGS: checks exit code and that stdout+stderr contain the text.
run() {
  local name=$1 want=$2 text=$3; shift 4
  set +e; "$@" >"$scratch/out" 2>&1; local rc=$?; set -e
  if [ "$rc" != "$want" ]; then bad "$name: exit $rc, expected $want"; sed 's/^/     /' "$scratch/out"; return; fi
  if ! grep -qF -- "$text" "$scratch/out"; then bad "$name: lacks '$text'"; sed 's/^/     /' "$scratch/out"; return; fi
  ok "$name"
}

out=$(ig tags --env production --sha $SHA)
want="afu9/control-center:prod-$SHA
afu9/control-center:prod-0123456
afu9/control-center:prod-latest"
[ "$(echo "$out" | head -3)" = "$want" ] && [ "$(echo "$out" | wc -l)" = 12 ] && ok "text tags" || { bad "text tags"; echo "$out"; }

out=$(DEPLOY_ENV=staging GIT_SHA=$SHA ig tags --format docker --image mcp-deploy --registry-host 127.0.0.1:5000)
[ "$out" = "-t 127.0.0.1:5000/afu9/mcp-deploy:stage-$SHA -t 127.0.0.1:5000/afu9/mcp-deploy:stage-0123456 -t 127.0.0.1:5000/afu9/mcp-deploy:stage-latest" ] \
  && ok "docker format from DEPLOY_ENV/GIT_SHA" || { bad "docker format"; echo "$out"; }

ig tags --env production --sha $SHA --format json | jq -e 'length == 4 and .[1].id == "mcp-github" and (.[1].references | length == 3)' >/dev/null \
  && ok "json format" || bad "json format"

export GITHUB_OUTPUT=$scratch/gh_output
ig tags --env production --sha $SHA --format github >/dev/null
if grep -qE '^tags-control-center<<ghadelimiter_[0-9a-f]{32}$' "$GITHUB_OUTPUT" && grep -qF "afu9/mcp-observability:prod-latest" "$GITHUB_OUTPUT"; then
  ok "github format appends heredocs"; else bad "github format"; cat "$GITHUB_OUTPUT"; fi
unset GITHUB_OUTPUT
run "github format without GITHUB_OUTPUT" 2 "GITHUB_OUTPUT is not set" -- ig tags --env production --sha $SHA --format github

ig matrix --env staging --sha $SHA --format github | jq -e '.include | length == 4 and .[0].id == "control-center" and .[0].dockerfile == "control-center/Dockerfile" and .[0].context == "." and .[0].repository == "afu9/control-center" and (.[0].tags | split(",") | length == 3)' >/dev/null \
  && ok "matrix github" || bad "matrix github"
ig matrix --env staging --sha $SHA --format bake | jq -e '.group.default.targets == ["control-center","mcp-github","mcp-deploy","mcp-observability"] and .target["mcp-github"].tags[2] == "afu9/mcp-github:stage-latest"' >/dev/null \
  && ok "matrix bake" || bad "matrix bake"
ig matrix --env staging --sha $SHA --format json | jq -e '.[3].container == "mcp-observability" and .[3].required == true' >/dev/null \
  && ok "matrix json" || bad "matrix json"

run "unknown env lists known ones" 2 "--env 'qa' is not an environment of tagging.prefixes; known: 'production', 'staging'" -- ig tags --env qa --sha $SHA
run "missing env" 2 "--env (or DEPLOY_ENV) is required" -- ig tags --sha $SHA
run "missing sha" 2 "--sha (or GIT_SHA) is required" -- ig tags --env production
run "short sha" 2 "--sha 'abc123' is not a commit SHA" -- ig tags --env production --sha abc123
run "upper-case sha" 2 "is not a commit SHA" -- ig tags --env production --sha ${SHA^^}
run "sha with newline and ::" 2 "--sha '${SHA}\n::error::x' is not a commit SHA" -- ig tags --env production --sha "$SHA"$'\n'"::error::x"
run "sha with terminal escape" 2 "'\x1b[31mred' is not a commit SHA" -- ig tags --env production --sha $'\e[31mred'
set +e; ig tags --env production --sha $'\e[31mred' 2>&1 | grep -q $'\e'; rc=$?; set -e
[ $rc = 1 ] && ok "no raw escape byte in output" || bad "raw escape byte printed"
run "env with newline" 2 "--env 'prod\nx'" -- ig tags --env $'prod\nx' --sha $SHA
run "64-hex sha accepted" 0 "prod-$SHA${SHA:0:24}" -- ig tags --env production --sha "$SHA${SHA:0:24}"
run "unknown image" 2 "--image 'nope' is not an image id" -- ig tags --env production --sha $SHA --image nope
run "bad format" 2 "--format" -- ig tags --env production --sha $SHA --format yaml
run "matrix on invalid manifest" 1 "DOCKERFILE_MISSING" -- "$IMAGEGATE" matrix --env production --sha $SHA -m "$SOURCE_DIR/tests/data/manifests/missing-dockerfile.json" --root "$SOURCE_DIR/examples/afu9"

# The command line: only the named command is built (start-up time), so check that help, a
# mistyped command and a second command name still behave as with every command built.
run "--help lists every command" 0 "verify                      Check that a task definition" -- "$IMAGEGATE" --help
run "--help lists validate" 0 "validate" -- "$IMAGEGATE" --help
run "gate --help shows gate's options" 0 "--evidence-out" -- "$IMAGEGATE" gate --help
run "validate --help ends with its exit codes" 0 "Exit codes: 0 valid, 1 invalid" -- "$IMAGEGATE" validate --help
run "mistyped command" 2 "A subcommand is required" -- "$IMAGEGATE" Gate
run "no command" 2 "A subcommand is required" -- "$IMAGEGATE"
run "a second command name is an argument" 2 "The following argument was not expected: tags" -- "$IMAGEGATE" gate tags
run "unknown option of the named command" 2 "The following argument was not expected: --bogus" -- "$IMAGEGATE" tags --bogus
run "--version" 0 "imagegate " -- "$IMAGEGATE" --version

e2e_egress_check || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
