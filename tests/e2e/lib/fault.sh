# shellcheck shell=bash
# Starts tests/fakes/fault_proxy in front of a real server, and scripts it. Needs common.sh.
#
#   fault_proxy_start --upstream http://127.0.0.1:PORT [--script FILE]
#   fault_proxy_start --record-only
#   fault_plan '[{"status":500},{"status":503},{"pass":true}]' [PORT]
#   fault_log [PORT]      -> JSON list of {method, path, authorization, action, status}
#   fault_reset [PORT]
#
# fault_proxy_start exports FAULT_PORT, FAULT_URL (http://127.0.0.1:PORT), FAULT_HOST and
# FAULT_PID of the proxy it started; copy them before starting a second one.

_FAULT_SEQ=0

fault_proxy_start() {
  [ -x "$FAKES_DIR/fault_proxy" ] || {
    echo "error: $FAKES_DIR/fault_proxy is not built (cmake --build --preset dev)" >&2
    return 1
  }
  _FAULT_SEQ=$((_FAULT_SEQ + 1))
  bg_start "fault_proxy$_FAULT_SEQ" "$FAKES_DIR/fault_proxy" --port 0 "$@"
  FAULT_PID=$BG_PID
  FAULT_PORT="$(wait_first_line "$SCRATCH/fault_proxy$_FAULT_SEQ.out" "$FAULT_PID")" || {
    cat "$SCRATCH/fault_proxy$_FAULT_SEQ.log" >&2
    return 1
  }
  FAULT_HOST="127.0.0.1:$FAULT_PORT"
  FAULT_URL="http://$FAULT_HOST"
  export FAULT_PID FAULT_PORT FAULT_HOST FAULT_URL
}

# fault_plan JSON [PORT] : replaces the plan; fails (and shows why) if the proxy rejects it.
fault_plan() {
  local out
  if ! out="$(curl -sS -X POST --data-binary "$1" -w '\n%{http_code}' \
    "http://127.0.0.1:${2:-$FAULT_PORT}/_fault/plan")" || [ "${out##*$'\n'}" != 200 ]; then
    echo "error: fault plan rejected: $out" >&2
    return 1
  fi
}

fault_log() {
  curl -sSf "http://127.0.0.1:${1:-$FAULT_PORT}/_fault/log"
}

fault_reset() {
  curl -sSf --data '' -o /dev/null "http://127.0.0.1:${1:-$FAULT_PORT}/_fault/reset"
}
