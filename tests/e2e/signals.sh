#!/usr/bin/env bash
# SIGINT and SIGTERM while gate or verify wait on the network: the run stops (its connections
# close), exits 130 or 143 as the shell reports a process ended by that signal (never 0), and
# leaves no evidence, report or temporary file behind: every output is written whole at the end
# (written beside its path, then renamed), so an interrupted run writes nothing.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/fault.sh"
require_cmd ss jq

SHA=0123456789abcdef0123456789abcdef01234567
M="$SOURCE_DIR/examples/afu9/images-manifest.json"
fault_proxy_start --record-only --threads 32
# Every answer comes after a minute: the signal always finds requests in flight.
fault_plan '{"always":{"delay_ms":60000,"status":404}}'

# in_flight : established connections to the proxy right now.
in_flight() { ss -Htn state established "( dport = :$FAULT_PORT )" | grep -c . || :; }

# interrupt SIGNAL WANT_RC NAME CMD... : starts CMD with the signal's default action (a
# background job of a script would otherwise ignore SIGINT), waits until it has a request in
# flight, sends the signal, and checks the exit code and that the connections are gone.
interrupt() {
  local sig="$1" want="$2" name="$3" rc=0
  shift 3
  env --default-signal="$sig" "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
  local pid=$!
  E2E_PIDS+=("$pid")
  until [ "$(in_flight)" -gt 0 ]; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  expect_ne 0 "$(in_flight)" "$name: requests in flight when $sig is sent"
  kill -s "$sig" "$pid"
  wait "$pid" || rc=$?
  expect_eq "$want" "$rc" "$name: $sig ends it with exit $want"
  expect_eq 0 "$(in_flight)" "$name: no connection left open"
}

for sig in INT TERM; do
  want=130
  [ "$sig" = INT ] || want=143
  out="$SCRATCH/out-gate-$sig"
  mkdir -p "$out"
  section "gate, SIG$sig"
  interrupt "$sig" "$want" "gate-$sig" "$IMAGEGATE" gate -m "$M" --env production --sha "$SHA" \
    --registry "$FAULT_URL" --no-color --evidence-out "$out/evidence.json" \
    --report junit="$out/junit.xml" --report markdown="$out/summary.md" \
    --report html="$out/report.html" --report github="$out/annotations" \
    --report json="$out/report.json" --report text="$out/report.txt"
  expect_eq "" "$(ls -A "$out")" "gate, SIG$sig: no evidence, report or temporary file written"
  expect_not_contains "✓" "$SCRATCH/gate-$sig.out" "$SCRATCH/gate-$sig.err"

  section "verify against ECS, SIG$sig"
  interrupt "$sig" "$want" "verify-$sig" env AWS_ACCESS_KEY_ID=AKIASIGNALS000000001 \
    AWS_SECRET_ACCESS_KEY=signalsSecret AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true \
    "$IMAGEGATE" verify -m "$M" --env production --sha "$SHA" --cluster afu9 --service web \
    --allow-unmanaged log-router --endpoint-url "$FAULT_URL" --no-color --output json
  expect_eq "" "$(cat "$SCRATCH/verify-$sig.out")" "verify, SIG$sig: no verdict on stdout"
done

finish
