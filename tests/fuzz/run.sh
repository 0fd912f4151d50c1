#!/usr/bin/env bash
# Runs one libFuzzer target: run.sh FUZZER NAME FUZZ_SOURCE_DIR BUILD_DIR MODE [SECONDS]
#   MODE replay  every input of the committed corpus FUZZ_SOURCE_DIR/corpus/NAME, once
#   MODE fuzz    SECONDS (default $IMAGEGATE_FUZZ_SECONDS, else 30) of fuzzing from the committed
#                corpus; new inputs go to BUILD_DIR/corpus/NAME (never to the committed one),
#                crashing inputs to BUILD_DIR/crashes/NAME/.
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
    work=$build/corpus/$name
    mkdir -p "$work"
    args+=("-max_total_time=$seconds" "-artifact_prefix=$crashes/" "$work" "$corpus")
    ;;
  *)
    echo "fuzz $name: unknown mode '$mode' (replay or fuzz)" >&2
    exit 2
    ;;
esac

marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
echo "fuzz $name ($mode): $fuzzer ${args[*]}"
status=0
"$fuzzer" "${args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz $name: FAILED (exit status $status); inputs kept:" >&2
  find "$crashes" -type f -newer "$marker" -printf '  %p\n' >&2
fi
exit "$status"
