#!/usr/bin/env bash
# The gate's progress line: shown on a terminal when checking takes over a second, cleared when
# done; never written when stderr is a file or a pipe (CI logs), nor with -v. The registry is a
# proxy that answers every request after 1.5 s; `script` gives the binary a real terminal.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/fault.sh"
require_cmd script curl

M="$SOURCE_DIR/examples/afu9/images-manifest.json"
SHA=0123456789abcdef0123456789abcdef01234567
fault_proxy_start --record-only
fault_plan '{"always": {"delay_ms": 1500, "status": 404}}'
gate=("$IMAGEGATE" gate -m "$M" --env production --sha $SHA --no-color --registry "$FAULT_URL")

section "stderr is a terminal: the line appears, then is cleared"
rc=0
script -qefc "$(printf '%q ' "${gate[@]}")" /dev/null >"$SCRATCH/tty.out" 2>&1 || rc=$?
expect_eq 1 "$rc" "the gate fails (nothing is in the registry)"
grep -qF $'\r checking 12 tags in 4 repositories…' "$SCRATCH/tty.out" &&
  pass "progress line shown on the terminal" || { fail "no progress line"; cat -v "$SCRATCH/tty.out" | head; }
grep -qF $'\r\x1b[K' "$SCRATCH/tty.out" && pass "progress line cleared" || fail "not cleared"

section "stderr is a file: not a byte of it"
start=$(date +%s%N)
expect_exit 1 -- "${gate[@]}"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -gt 1500 ] && pass "the run took over a second (${elapsed_ms} ms)" ||
  fail "the run was too fast (${elapsed_ms} ms) to show anything"
expect_not_contains "checking" "$LAST_ERR" "$LAST_OUT"
expect_output_contains "REPOSITORY_MISSING"

section "-v on a terminal: request lines, no progress line between them"
rc=0
script -qefc "$(printf '%q ' "${gate[@]}") -v" /dev/null >"$SCRATCH/tty-v.out" 2>&1 || rc=$?
expect_eq 1 "$rc" "the gate fails with -v too"
grep -qE '^(GET|HEAD) http://127\.0\.0\.1:[0-9]+/v2/' "$SCRATCH/tty-v.out" &&
  pass "-v shows each request" || { fail "-v shows no request"; head "$SCRATCH/tty-v.out"; }
if grep -qF "checking 12 tags" "$SCRATCH/tty-v.out"; then
  fail "progress line mixed into -v request lines"
else
  pass "no progress line with -v"
fi

finish
