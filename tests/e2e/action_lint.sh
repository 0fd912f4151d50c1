#!/usr/bin/env bash
# The GitHub Action and the example workflow: both pass the action-validator linter (installed
# from npm into build/tools by scripts/bootstrap), a broken copy of each fails it, and the
# action's entry point maps inputs to arguments one to one without evaluating anything.
source "${E2E_LIB:?}/common.sh"

LINTER="$SOURCE_DIR/build/tools/node_modules/.bin/action-validator"
[ -x "$LINTER" ] || { echo "error: $LINTER is missing; run scripts/bootstrap" >&2; exit 1; }
ACTION="$SOURCE_DIR/action.yml"
WORKFLOW="$SOURCE_DIR/examples/afu9/.github/workflows/deploy-ecs.yml"

section "the linter accepts the action and the workflow, and rejects broken copies"
expect_exit 0 -- "$LINTER" "$ACTION"
expect_exit 0 -- "$LINTER" "$WORKFLOW"
sed 's/using: docker/using: dockr/' "$ACTION" >"$SCRATCH/action.yml"
expect_exit 1 -- "$LINTER" "$SCRATCH/action.yml"
grep -v 'runs-on:' "$WORKFLOW" >"$SCRATCH/workflow.yml"
expect_exit 1 -- "$LINTER" "$SCRATCH/workflow.yml"

section "the workflow is the pipeline: matrix -> tags -> build -> gate -> pin -> deploy -> verify"
for text in "command: matrix" "command: tags" "docker/build-push-action@" "command: gate" \
  'markdown=$GITHUB_STEP_SUMMARY' "command: pin" "aws ecs register-task-definition" \
  "aws ecs update-service" "command: verify" "id-token: write" \
  "aws-actions/configure-aws-credentials@"; do
  grep -qF -- "$text" "$WORKFLOW" && pass "workflow has '$text'" || fail "workflow lacks '$text'"
done
grep -qF 'image: Dockerfile' "$ACTION" && pass "docker action built from the Dockerfile" ||
  fail "action does not use the Dockerfile"

section "the entry point passes inputs as single arguments and evaluates nothing"
cat >"$SCRATCH/fake-imagegate" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@"
SH
chmod +x "$SCRATCH/fake-imagegate"
entry() {
  env -i PATH="$PATH" IMAGEGATE="$SCRATCH/fake-imagegate" GITHUB_OUTPUT="$SCRATCH/out" \
    GITHUB_STEP_SUMMARY="$SCRATCH/summary.md" "$@" bash "$SOURCE_DIR/scripts/action-entrypoint"
}
cd "$SCRATCH"
expect_exit 0 -- entry INPUT_COMMAND=gate INPUT_MANIFEST="my manifest.json" INPUT_ENV=production \
  INPUT_SHA=abc INPUT_REGISTRY=ecr INPUT_EVIDENCE=evidence.json "INPUT_STEP-SUMMARY=true" \
  INPUT_REPORTS=$'junit=gate junit.xml\nmarkdown=$GITHUB_STEP_SUMMARY' \
  INPUT_ARGS=$'--timeout\n$(touch pwned) *\n--concurrency\n4'
expect_eq "gate
--manifest
my manifest.json
--env
production
--sha
abc
--registry
ecr
--evidence-out
evidence.json
--github-output
--report
junit=gate junit.xml
--report
markdown=$SCRATCH/summary.md
--timeout
\$(touch pwned) *
--concurrency
4" "$(cat "$LAST_OUT")" "gate inputs map to arguments exactly"
[ ! -e "$SCRATCH/pwned" ] && pass "no input was evaluated" || fail "an input was evaluated"
expect_exit 0 -- entry INPUT_COMMAND=pin INPUT_EVIDENCE=e.json INPUT_TASK-DEF=td.json \
  INPUT_REGISTRY=ignored "INPUT_STEP-SUMMARY=true"
expect_eq "pin
--evidence
e.json
--task-def
td.json" "$(cat "$LAST_OUT")" "pin reads the evidence and the task definition"
expect_exit 2 -- entry "INPUT_COMMAND=gate; rm -rf /"
expect_stderr_contains "input 'command' must be"

finish
