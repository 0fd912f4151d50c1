#!/usr/bin/env bash
# scripts/demo as the README's quick start runs it: it installs what it needs (build dependencies
# and umoci), builds the release binary (incremental when build/release exists) and walks the
# afu9 example through the whole chain; every step's outcome is checked here.
source "${E2E_LIB:?}/common.sh"

section "scripts/demo runs the whole chain"
expect_exit 0 -- "$SOURCE_DIR/scripts/demo"
for text in "== 1. validate" "✓ valid" "== 2. tags" "-t afu9/control-center:prod-" \
  "== 3. matrix" '{"include":[' "== 4. build" "built afu9/mcp-observability" "== 5. gate" \
  "== 6. a partial push" "TAG_MISSING" "(exit 1)" "demo complete."; do
  expect_output_contains "$text"
done
expect_eq "" "$(grep -E '^\$ build/(ci|dev|asan)/' "$LAST_OUT" || true)" \
  "the demo runs the release binary only"
grep -qE '^\$ build/release/imagegate ' "$LAST_OUT" && pass "the demo runs build/release/imagegate" ||
  fail "the demo does not run build/release/imagegate"

section "the demo needs no test tool: its bootstrap profile is the build dependencies and umoci"
grep -qE '^scripts/bootstrap demo$' "$SOURCE_DIR/scripts/demo" && pass "scripts/demo bootstraps 'demo'" ||
  fail "scripts/demo does not use the demo profile"
expect_exit 0 -- bash -c "sed -n '/^  demo)/p' '$SOURCE_DIR/scripts/bootstrap'"
for tool in chromium awscli docker-registry skopeo libgtest-dev; do
  grep -qw "$tool" "$LAST_OUT" && fail "the demo profile installs $tool" || pass "no $tool for the demo"
done
expect_exit 2 -- "$SOURCE_DIR/scripts/bootstrap" nonsense
expect_stderr_contains "unknown profile 'nonsense'"

finish
