#!/usr/bin/env bash
# --report on the real binary: every format from one gate run on on-disk OCI layouts, JUnit valid
# against tests/data/junit/JUnit.xsd (the committed goldens too), Markdown appended not replaced,
# annotations in GitHub Actions only, step outputs, and bad --report values exit 2 naming the
# formats before anything is checked.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/images.sh"
require_cmd xmllint jq umoci

XSD="$TEST_DATA/junit/JUnit.xsd"
M="$SOURCE_DIR/examples/afu9/images-manifest.json"
SHA=0123456789abcdef0123456789abcdef01234567
LAYOUTS="$SCRATCH/layouts"
R="$SCRATCH/reports"
mkdir -p "$R"

valid_junit() { # FILE WHAT
  if xmllint --noout --schema "$XSD" "$1" 2>"$SCRATCH/xmllint.err"; then
    pass "$2 is valid JUnit XML"
  else
    fail "$2 is not valid JUnit XML"
    sed 's/^/       /' "$SCRATCH/xmllint.err"
  fi
}

section "the committed JUnit goldens validate against the schema"
for f in "$TEST_DATA"/golden/*.xml; do valid_junit "$f" "golden ${f##*/}"; done

section "bad --report values: exit 2, the known formats named, nothing checked"
expect_exit 2 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA \
  --registry "oci-layout:$SCRATCH/nowhere" --report junit
expect_stderr_contains "text, json, junit, markdown, github, html"
expect_exit 2 -- "$IMAGEGATE" validate -m "$M" --report xml=out.xml
expect_stderr_contains "unknown format 'xml'"

section "validate writes JUnit and Markdown"
expect_exit 0 -- "$IMAGEGATE" validate -m "$M" --report junit="$R/validate.xml" \
  --report markdown="$R/summary.md"
valid_junit "$R/validate.xml" "validate report"
expect_eq 1 "$(grep -c '<testcase' "$R/validate.xml")" "a valid manifest is one passing testcase"
expect_eq 1 "$(grep -c '^## ✅ imagegate validate: passed' "$R/summary.md")" "validate summary"

section "an invalid manifest: one failure per error, the same in every command's report"
BAD="$TEST_DATA/manifests/duplicate-id.json"
expect_exit 1 -- "$IMAGEGATE" validate -m "$BAD" --report junit="$R/invalid.xml" \
  --report github="$R/invalid.annotations"
valid_junit "$R/invalid.xml" "invalid manifest report"
expect_exit 1 -- "$IMAGEGATE" validate -m "$BAD" --output json
errors=$(jq '[.findings[] | select(.severity == "error")] | length' "$LAST_OUT")
expect_ne 0 "$errors" "the invalid manifest has errors"
expect_eq "$errors" "$(grep -c '^::error title=imagegate ' "$R/invalid.annotations")" \
  "one annotation per error"
expect_exit 1 -- "$IMAGEGATE" matrix -m "$BAD" --env production --sha $SHA \
  --report junit="$R/matrix-invalid.xml"
valid_junit "$R/matrix-invalid.xml" "matrix report"
grep -q '<testsuite name="imagegate matrix"' "$R/matrix-invalid.xml" &&
  pass "matrix names its suite" || fail "matrix suite name"

section "matrix and tags with reports: stdout is still the document"
expect_exit 0 -- "$IMAGEGATE" matrix -m "$M" --env production --sha $SHA --report junit="$R/m.xml"
jq -e '.include | length == 4' "$LAST_OUT" >/dev/null && pass "matrix stdout is the matrix" ||
  fail "matrix stdout changed"
GITHUB_ACTIONS=true expect_exit 1 -- "$IMAGEGATE" tags -m "$BAD" --env production --sha $SHA
expect_stderr_contains "::error title=imagegate "
expect_not_contains "::error" "$LAST_OUT"

section "a passing gate renders every format"
push_manifest_images "$M" production $SHA --layout "$LAYOUTS"
export GITHUB_OUTPUT="$SCRATCH/github_output"
: >"$GITHUB_OUTPUT"
expect_exit 0 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA --no-color \
  --registry "oci-layout:$LAYOUTS" --evidence-out "$R/evidence.json" --github-output \
  --report junit="$R/gate.xml" --report markdown="$R/summary.md" --report html="$R/gate.html" \
  --report json="$R/gate.json" --report github="$R/annotations.txt" --report text="$R/gate.txt"
valid_junit "$R/gate.xml" "gate report"
expect_eq 0 "$(grep -c '<failure' "$R/gate.xml" || true)" "no failures in a passing gate's JUnit"
expect_eq "$(jq -S . "$R/evidence.json")" "$(jq -S . "$R/gate.json")" "json report is the evidence"
expect_eq 2 "$(grep -c '^## ' "$R/summary.md")" "markdown appended after validate's summary"
printf 'no newline at the end' >"$R/other.md"
"$IMAGEGATE" validate -m "$M" --report markdown="$R/other.md" >/dev/null
expect_eq "no newline at the end" "$(head -1 "$R/other.md")" "appended after a blank line"
expect_eq 1 "$(grep -c '^## ✅ imagegate validate: passed' "$R/other.md")" "heading starts a line"
# The text report is the text output, then one line of timing (the evidence's timing object).
expect_eq "$(cat "$LAST_OUT")" "$(grep -v '^timing: ' "$R/gate.txt")" "text report is the text output"
# oci-layout reads files: phases, but not one HTTP request.
expect_eq 1 "$(grep -c '^timing: [0-9.]* m\?s: manifest [0-9.]* ms, registry [0-9.]* ms, provenance [0-9.]* ms, evidence [0-9.]* ms; 0 requests, 0 connections, 0 retries, 0 throttled$' "$R/gate.txt")" \
  "text report ends with the timing line"
expect_eq "$(tail -1 "$R/gate.txt")" "$(grep '^timing: ' "$R/gate.txt")" "the timing line is the last"
expect_eq 0 "$(wc -c <"$R/annotations.txt")" "no annotations without findings"
grep -q '<h1 class="pass">' "$R/gate.html" && pass "html verdict" || fail "html verdict"
digest=$(jq -r '.images[] | select(.id == "control-center") | .digest' "$R/evidence.json")
uri=$(jq -r '.images[] | select(.id == "control-center") | .repositoryUri' "$R/evidence.json")
grep -q "^verdict<<ghadelimiter_" "$GITHUB_OUTPUT" && pass "verdict output" || fail "verdict output"
grep -A1 "^digest-control-center<<" "$GITHUB_OUTPUT" | grep -qxF "$digest" &&
  pass "digest-control-center output" || fail "digest-control-center output"
grep -A1 "^image-control-center<<" "$GITHUB_OUTPUT" | grep -qxF "$uri@$digest" &&
  pass "image-control-center output is the pinned reference" || fail "image-control-center output"

section "a failing gate: failures in JUnit, annotations only in GitHub Actions"
mkdir -p "$SCRATCH/partial"
cp -r "$LAYOUTS/." "$SCRATCH/partial/"
rm -rf "$SCRATCH/partial/afu9/mcp-github"
expect_exit 1 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA --no-color \
  --registry "oci-layout:$SCRATCH/partial" --report junit="$R/fail.xml"
valid_junit "$R/fail.xml" "failing gate report"
expect_eq 3 "$(grep -c 'type="REPOSITORY_MISSING"' "$R/fail.xml")" "one failure per missing tag"
expect_not_contains "::error" "$LAST_OUT" "$LAST_ERR"
GITHUB_ACTIONS=true expect_exit 1 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA \
  --no-color --registry "oci-layout:$SCRATCH/partial"
expect_output_contains "::error title=imagegate REPOSITORY_MISSING::mcp-github: "
GITHUB_ACTIONS=true expect_exit 1 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA \
  --output json --registry "oci-layout:$SCRATCH/partial"
expect_stderr_contains "::error title=imagegate REPOSITORY_MISSING::"
jq -e '.verdict == "fail"' "$LAST_OUT" >/dev/null && pass "json stdout stays JSON" ||
  fail "json stdout is not JSON"
GITHUB_ACTIONS=true expect_exit 1 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA \
  --no-annotations --registry "oci-layout:$SCRATCH/partial"
expect_not_contains "::error" "$LAST_OUT" "$LAST_ERR"

finish
