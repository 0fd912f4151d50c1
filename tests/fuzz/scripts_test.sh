#!/usr/bin/env bash
# scripts/fuzz and tests/fuzz/run.sh as a user runs them: the target list, every bad argument with
# its message and exit code 2, a short random-seed run, the fixed seed of scripts/test (same seed,
# same inputs), and a crashing fuzzer's exit status and kept input.
# shellcheck source-path=SCRIPTDIR/../e2e/lib
source "${E2E_LIB:?}/common.sh"
cd "$SOURCE_DIR"
FUZZ_BIN=${FUZZ_BIN:?}

section "scripts/fuzz --list names every target"
expect_exit 0 -- scripts/fuzz --list
want=$(for f in tests/fuzz/*_fuzz.cpp; do basename "$f" _fuzz.cpp; done)
expect_eq "$want" "$(cat "$LAST_OUT")" "the list is tests/fuzz/*_fuzz.cpp"
expect_eq 12 "$(wc -l <"$LAST_OUT")" "twelve targets"

section "bad arguments exit 2 and say why"
expect_exit 2 -- scripts/fuzz
expect_stderr_contains "usage: scripts/fuzz [--update-corpus] TARGET [SECONDS] | scripts/fuzz --list"
expect_exit 2 -- scripts/fuzz nope 5
expect_stderr_contains "fuzz: unknown target 'nope' (one of: "
expect_exit 2 -- scripts/fuzz reference 5s
expect_stderr_contains "usage: scripts/fuzz"
expect_exit 2 -- scripts/fuzz reference 5 6
expect_stderr_contains "usage: scripts/fuzz"
expect_exit 2 -- env IMAGEGATE_FUZZ_SEED=x scripts/fuzz reference 1
expect_stderr_contains "fuzz reference: IMAGEGATE_FUZZ_SEED must be a whole number, not 'x'"
expect_exit 2 -- bash tests/fuzz/run.sh "$FUZZ_BIN/reference_fuzz" reference tests/fuzz \
  "$SCRATCH/b" fuzz 1m
expect_stderr_contains "fuzz reference: seconds must be a whole number, not '1m'"
expect_exit 2 -- bash tests/fuzz/run.sh "$FUZZ_BIN/reference_fuzz" reference tests/fuzz \
  "$SCRATCH/b" again
expect_stderr_contains "fuzz reference: unknown mode 'again' (replay or fuzz)"
expect_exit 1 -- bash tests/fuzz/run.sh "$FUZZ_BIN/reference_fuzz" nothing tests/fuzz \
  "$SCRATCH/b" replay
expect_stderr_contains "fuzz nothing: no committed corpus in tests/fuzz/corpus/nothing"

section "scripts/fuzz TARGET SECONDS: a random seed, the corpus kept across runs"
committed_before=$(git status --porcelain tests/fuzz/corpus)
expect_exit 0 -- scripts/fuzz reference 2
expect_output_contains "-seed=0 -max_total_time=2"
expect_output_contains "build/fuzz/corpus/reference tests/fuzz/corpus/reference"
expect_ne 0 "$(find build/fuzz/corpus/reference -type f | wc -l)" \
  "inputs kept in build/fuzz/corpus/reference"
expect_eq "$committed_before" "$(git status --porcelain tests/fuzz/corpus)" \
  "the committed corpus is untouched"

section "the fixed seed of scripts/test: the same inputs in the same order"
expect_exit 0 -- bash tests/fuzz/run.sh "$FUZZ_BIN/reference_fuzz" reference tests/fuzz \
  "$SCRATCH/b" fuzz 1
expect_output_contains "-seed=1 -max_total_time=1 -reload=0"
if setarch -R true 2>/dev/null; then
  expect_output_contains "setarch -R $FUZZ_BIN/reference_fuzz"
  # Two runs of the same count from the same corpus end with the same inputs kept, also when the
  # machine is busy: they run at the same time, and libFuzzer's timed corpus reload (which made
  # such runs differ under load) is off as in run.sh.
  pids=()
  for run in 1 2; do
    mkdir -p "$SCRATCH/same$run"
    setarch -R "$FUZZ_BIN/reference_fuzz" -seed=1 -runs=20000 -reload=0 \
      -dict=tests/fuzz/dict/reference.dict "$SCRATCH/same$run" tests/fuzz/corpus/reference \
      >"$SCRATCH/same$run.log" 2>&1 &
    pids+=($!)
  done
  for run in 1 2; do
    rc=0
    wait "${pids[run - 1]}" || rc=$?
    expect_eq 0 "$rc" "seeded run $run exited 0"
  done
  expect_ne 0 "$(ls "$SCRATCH/same1" | wc -l)" "the seeded run kept inputs"
  expect_eq "$(ls "$SCRATCH/same1")" "$(ls "$SCRATCH/same2")" "two seeded runs keep the same inputs"
else
  expect_stderr_contains "fuzz reference: setarch -R is not permitted here; addresses stay randomised"
fi

section "a crash fails the run and its input is kept"
cat >"$SCRATCH/crashing_fuzz" <<'EOF'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in -artifact_prefix=*) prefix=${a#-artifact_prefix=} ;; esac; done
printf 'boom' >"${prefix}crash-0123"
exit 77
EOF
chmod +x "$SCRATCH/crashing_fuzz"
expect_exit 77 -- bash tests/fuzz/run.sh "$SCRATCH/crashing_fuzz" reference tests/fuzz "$SCRATCH/c" \
  fuzz 1
expect_stderr_contains "fuzz reference: FAILED (exit status 77); inputs kept:"
expect_stderr_contains "  $SCRATCH/c/crashes/reference/crash-0123"
expect_exit 77 -- bash tests/fuzz/run.sh "$SCRATCH/crashing_fuzz" reference tests/fuzz "$SCRATCH/c" \
  replay
expect_stderr_contains "fuzz reference: FAILED (exit status 77); inputs kept:"

finish
