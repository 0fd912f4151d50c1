#!/usr/bin/env bash
# Runs one libFuzzer target: run.sh FUZZER NAME FUZZ_SOURCE_DIR BUILD_DIR MODE [SECONDS]
#   MODE replay  every input of the committed corpus FUZZ_SOURCE_DIR/corpus/NAME, once
#   MODE fuzz    SECONDS (default $IMAGEGATE_FUZZ_SECONDS, else 30) of fuzzing from the committed
#                corpus; crashing inputs go to BUILD_DIR/crashes/NAME/. IMAGEGATE_FUZZ_SEED (default
#                1) fixes libFuzzer's seed, starts from the committed corpus alone (new inputs in
#                BUILD_DIR/corpus-seed<S>/NAME, emptied first) and turns address randomisation off
#                (libFuzzer's comparison tables are keyed by code address) and the corpus reload
#                (-reload=0: libFuzzer rereads its corpus directory every second and runs the files
#                reducing left behind, which moved the sequence with the machine's load), so the
#                same sources try
#                the same inputs in the same order wherever they run, and a longer local run covers
#                what CI's 30 s reach; 0 draws a random seed and grows BUILD_DIR/corpus/NAME across
#                runs (scripts/fuzz). New inputs never go to the committed corpus.
# Exit status: the fuzzer's (0 only when nothing crashed, leaked, hung or tripped a sanitizer).
set -euo pipefail
fuzzer=$1 name=$2 source=$3 build=$4 mode=$5
seconds=${6:-${IMAGEGATE_FUZZ_SECONDS:-30}}
corpus=$source/corpus/$name
dict=$source/dict/$name.dict

if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
  echo "fuzz $name: no committed corpus in $corpus" >&2
  exit 1
fi
args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
[ -f "$dict" ] && args+=("-dict=$dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

crashes=$build/crashes/$name
launcher=()
mkdir -p "$crashes"
case "$mode" in
  replay)
    args+=(-runs=0 "-artifact_prefix=$crashes/" "$corpus")
    ;;
  fuzz)
    case "$seconds" in '' | *[!0-9]*)
      echo "fuzz $name: seconds must be a whole number, not '$seconds'" >&2
      exit 2
      ;;
    esac
    seed=${IMAGEGATE_FUZZ_SEED:-1}
    case "$seed" in '' | *[!0-9]*)
      echo "fuzz $name: IMAGEGATE_FUZZ_SEED must be a whole number, not '$seed'" >&2
      exit 2
      ;;
    esac
    if [ "$seed" = 0 ]; then
      work=$build/corpus/$name
    else
      work=$build/corpus-seed$seed/$name
      rm -rf "$work"
      # Where a container's seccomp profile refuses the personality flag, the run is the same
      # seed with randomised addresses: still a valid fuzz run, only less repeatable.
      if setarch -R true 2>/dev/null; then
        launcher=(setarch -R)
      else
        echo "fuzz $name: setarch -R is not permitted here; addresses stay randomised" >&2
      fi
    fi
    mkdir -p "$work"
    args+=("-seed=$seed" "-max_total_time=$seconds")
    # One process per corpus directory: nothing else adds to it, and rereading it made a seeded
    # run's inputs depend on timing.
    [ "$seed" = 0 ] || args+=(-reload=0)
    args+=("-artifact_prefix=$crashes/" "$work" "$corpus")
    ;;
  *)
    echo "fuzz $name: unknown mode '$mode' (replay or fuzz)" >&2
    exit 2
    ;;
esac

marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
echo "fuzz $name ($mode): ${launcher[*]} $fuzzer ${args[*]}"
status=0
"${launcher[@]}" "$fuzzer" "${args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz $name: FAILED (exit status $status); inputs kept:" >&2
  find "$crashes" -type f -newer "$marker" -printf '  %p\n' >&2
fi
exit "$status"
