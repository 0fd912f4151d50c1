# shellcheck shell=bash
# Shared base of every end-to-end suite: strict mode, an isolated scratch directory, background
# process bookkeeping, and assertions that count passes and failures.
#
# Usage at the top of a suite:   source "${E2E_LIB:?}/common.sh"
# and at its end:                finish
#
# Assertions record a failure and carry on, so one run reports every broken expectation; an
# unexpected command failure outside an assertion aborts the suite (set -e) and is reported as
# such, never as a pass.

set -euo pipefail
set -E # the ERR trap also fires inside functions

E2E_LIB="${E2E_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
SOURCE_DIR="${SOURCE_DIR:-$(cd "$E2E_LIB/../../.." && pwd)}"
TEST_DATA="${TEST_DATA:-$SOURCE_DIR/tests/data}"
FAKES_DIR="${FAKES_DIR:-$SOURCE_DIR/build/dev/fakes}"
IMAGEGATE="${IMAGEGATE:-$SOURCE_DIR/build/dev/imagegate}"
export E2E_LIB SOURCE_DIR TEST_DATA FAKES_DIR IMAGEGATE

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/imagegate-e2e.XXXXXX")"
export SCRATCH

# Nothing from the developer's machine may leak in (credentials, registry config, proxies), no
# connection may leave the machine (isolate.sh), and nothing a suite writes may leak into the next.
# shellcheck source=isolate.sh
source "$E2E_LIB/isolate.sh"
e2e_isolate "$SCRATCH"

# Debian's interpreter starts in a few milliseconds; a pyenv shim first in PATH takes ten times longer.
if [ -x /usr/bin/python3 ]; then E2E_PYTHON=/usr/bin/python3; else E2E_PYTHON=python3; fi

E2E_PASSED=0
E2E_FAILED=0
E2E_FINISHED=0
E2E_PIDS=()
[ -z "$E2E_EGRESS_PID" ] || E2E_PIDS+=("$E2E_EGRESS_PID")
E2E_SECRETS=()
LAST_OUT="$SCRATCH/last.out"
LAST_ERR="$SCRATCH/last.err"
: >"$LAST_OUT"
: >"$LAST_ERR"

_e2e_on_error() {
  echo "error: '$2' exited $1 at ${BASH_SOURCE[1]:-?}:$3" >&2
}
trap '_e2e_on_error $? "$BASH_COMMAND" $LINENO' ERR

# Kills only the processes this suite started (by PID), then removes the scratch directory.
_e2e_cleanup() {
  local rc=$?
  trap - ERR
  local pid
  for pid in "${E2E_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${E2E_PIDS[@]}"; do
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 20 ]; do
      sleep 0.05
      waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$E2E_FINISHED" -eq 0 ]; then
    echo "suite aborted (exit $rc) after $E2E_PASSED passed, $E2E_FAILED failed" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  if [ "${E2E_KEEP_SCRATCH:-0}" = 1 ]; then
    echo "scratch kept: $SCRATCH" >&2
  else
    rm -rf "$SCRATCH"
  fi
  exit "$rc"
}
trap _e2e_cleanup EXIT

# bg_start NAME CMD... : runs CMD in the background, stdout to $SCRATCH/NAME.out, stderr to
# $SCRATCH/NAME.log; sets BG_PID. The process is killed when the suite exits.
bg_start() {
  local name="$1"
  shift
  "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.log" &
  BG_PID=$!
  E2E_PIDS+=("$BG_PID")
}

# bg_stop PID : stops one background process started by bg_start.
bg_stop() {
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 40 ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_first_line FILE PID [TIMEOUT] : prints the first line FILE gets (a fake's chosen port),
# failing early if PID dies first.
wait_first_line() {
  local file="$1" pid="$2" deadline=$((SECONDS + ${3:-10})) line
  while [ "$SECONDS" -le "$deadline" ]; do
    if [ -s "$file" ] && IFS= read -r line <"$file" && [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "error: no first line in $file (process $pid exited or timed out)" >&2
  return 1
}

# free_port : a TCP port the kernel just handed out on 127.0.0.1.
free_port() {
  "$E2E_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port HOST PORT [TIMEOUT_SECONDS] : waits until something accepts connections there.
wait_port() {
  local host="$1" port="$2" deadline=$((SECONDS + ${3:-10}))
  while [ "$SECONDS" -le "$deadline" ]; do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.02
  done
  echo "error: nothing listens on $host:$port after ${3:-10}s" >&2
  return 1
}

require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || {
      echo "error: '$c' is required (scripts/bootstrap installs it)" >&2
      return 1
    }
  done
}

# e2e_secret VALUE... : test credentials that must not show in the suite's own output either;
# pass/fail lines and shown command output print them as ***.
e2e_secret() {
  E2E_SECRETS+=("$@")
}

_e2e_redact() {
  local text="$*" s
  for s in "${E2E_SECRETS[@]}"; do
    [ -n "$s" ] && text="${text//"$s"/***}"
  done
  printf '%s\n' "$text"
}

pass() {
  E2E_PASSED=$((E2E_PASSED + 1))
  _e2e_redact "ok   - $*"
}

fail() {
  E2E_FAILED=$((E2E_FAILED + 1))
  _e2e_redact "FAIL - $*"
}

# expect_exit CODE -- CMD... : runs CMD, keeps its stdout/stderr in $LAST_OUT/$LAST_ERR, and checks
# the exit code exactly.
expect_exit() {
  local want="$1"
  shift
  [ "${1:-}" = "--" ] && shift
  local got=0
  "$@" >"$LAST_OUT" 2>"$LAST_ERR" || got=$?
  if [ "$got" = "$want" ]; then
    pass "exit $want: $*"
  else
    fail "exit code of: $*"
    echo "       expected: $want"
    echo "       actual:   $got"
    _e2e_show_output
  fi
}

_e2e_show_output() {
  echo "       --- stdout (head) ---"
  _e2e_redact "$(head -c 2000 "$LAST_OUT")" | sed 's/^/       /'
  echo "       --- stderr (head) ---"
  _e2e_redact "$(head -c 2000 "$LAST_ERR")" | sed 's/^/       /'
}

_e2e_contains() {
  local what="$1" text="$2" file="$3"
  if grep -qF -- "$text" "$file"; then
    pass "$what contains '$text'"
  else
    fail "$what lacks '$text'"
    _e2e_show_output
  fi
}

# expect_output_contains TEXT / expect_stderr_contains TEXT : about the last expect_exit command.
expect_output_contains() { _e2e_contains stdout "$1" "$LAST_OUT"; }
expect_stderr_contains() { _e2e_contains stderr "$1" "$LAST_ERR"; }

# expect_not_contains TEXT [FILE...] : TEXT appears in none of the files (default: the last
# command's stdout and stderr). Used to prove secrets never reach output or logs.
expect_not_contains() {
  local text="$1"
  shift
  local files=("$@")
  [ "${#files[@]}" -gt 0 ] || files=("$LAST_OUT" "$LAST_ERR")
  local f missing=()
  for f in "${files[@]}"; do [ -f "$f" ] && [ -r "$f" ] || missing+=("$f"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    # A file that is not there proves nothing about what it would have held.
    fail "cannot look for '$text': no file ${missing[*]}"
    return 0
  fi
  local hits rc=0
  hits="$(grep -lF -- "$text" "${files[@]}")" || rc=$?
  if [ "$rc" -gt 1 ]; then
    fail "grep failed ($rc) looking for '$text' in ${files[*]}"
  elif [ -z "$hits" ]; then
    pass "no '$text' in ${files[*]##*/}"
  else
    fail "'$text' found in: $hits"
  fi
}

# expect_eq EXPECTED ACTUAL WHAT / expect_ne UNEXPECTED ACTUAL WHAT
expect_eq() {
  if [ "$1" = "$2" ]; then
    pass "$3"
  else
    fail "$3"
    _e2e_redact "       expected: '$1'"
    _e2e_redact "       actual:   '$2'"
  fi
}

expect_ne() {
  if [ "$1" != "$2" ]; then
    pass "$3"
  else
    fail "$3"
    _e2e_redact "       expected anything but: '$1'"
  fi
}

E2E_START_NS="$(date +%s%N)"

# section TITLE : a heading in the suite's output, with the time since the suite started.
section() {
  local ms=$((($(date +%s%N) - E2E_START_NS) / 1000000))
  printf '# %s (at %d.%03ds)\n' "$*" $((ms / 1000)) $((ms % 1000))
}

# finish : prints the summary line and exits non-zero when anything failed or nothing was checked.
finish() {
  E2E_FINISHED=1
  e2e_egress_check || E2E_FAILED=$((E2E_FAILED + 1))
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  if [ "$E2E_FAILED" -ne 0 ] || [ "$E2E_PASSED" -eq 0 ]; then
    exit 1
  fi
  exit 0
}
