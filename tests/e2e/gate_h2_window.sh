#!/usr/bin/env bash
# The first round trip over TLS carries a full window of HTTP/2 streams. A gate of 50 images x 3
# tags against nginx over TLS (tests/e2e/lib/static_h2.sh), behind a relay that adds 400 ms of
# round trip: the server's log shows which requests arrived in the first round trip, since the
# next cannot arrive before an answer has gone back and a new request come in (400 ms later).
# Before the client knew the origin spoke HTTP/2 it sent 16 there (the HTTP/1.1 pool's size) and
# needed a round trip more per gate; now 100, or --concurrency when given.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2317 # gate_over_relay runs through expect_exit
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/static_h2.sh"
require_cmd nginx curl jq openssl
SHA=0123456789abcdef0123456789abcdef01234567
RTT_MS=400

"$E2E_PYTHON" "$SOURCE_DIR/bench/lib/gen.py" "$SCRATCH/gen" 50 "$SHA" "https://127.0.0.1:9" >/dev/null
make_ca "$SCRATCH/tls" && make_server_cert "$SCRATCH/tls"
static_h2_start "$SCRATCH/gen" "$SCRATCH/tls" 100
bg_start relay "$E2E_PYTHON" "$SOURCE_DIR/bench/lib/delay_proxy.py" "$STATIC_H2_PORT" "$RTT_MS"
RELAY="https://127.0.0.1:$(wait_first_line "$SCRATCH/relay.out" "$BG_PID")"

# first_window FROM_LINE : how many of the requests logged after FROM_LINE arrived within half a
# round trip of the first of them.
first_window() {
  tail -n "+$(($1 + 1))" "$STATIC_H2_LOG" | awk -v half="$((RTT_MS / 2))" '
    { t[NR] = $(NF - 1); if (NR == 1 || $(NF - 1) < first) first = $(NF - 1) }
    END { n = 0; for (i in t) if ((t[i] - first) * 1000 < half) n++; print n }'
}

gate_over_relay() { # EVIDENCE [gate flags...]
  local evidence="$1"
  shift
  "$IMAGEGATE" gate -m "$SCRATCH/gen/root/images-manifest.json" --env production --sha "$SHA" \
    --registry "$RELAY" --ca-file "$SCRATCH/tls/ca.pem" --revision off --no-color \
    --evidence-out "$evidence" "$@"
}

section "a gate's first round trip: 100 streams on one connection"
mark="$(wc -l <"$STATIC_H2_LOG")"
expect_exit 0 -- gate_over_relay "$SCRATCH/full.json"
expect_output_contains "gate passed"
expect_eq 150 "$(tail -n "+$((mark + 1))" "$STATIC_H2_LOG" | grep -c '"HEAD /v2/bench/img-[0-9]*/manifests/[^ ]* HTTP/2.0" 200 ')" \
  "nginx answered the 150 tag HEADs over HTTP/2"
expect_eq "1 150" "$(jq -r '.timing | "\(.connections) \(.protocols["HTTP/2"])"' "$SCRATCH/full.json")" \
  "the evidence counts one connection and 150 requests over HTTP/2"
expect_eq 1 "$(tail -n "+$((mark + 1))" "$STATIC_H2_LOG" | awk '{ print $NF }' | sort -u | grep -c .)" \
  "nginx saw one connection"
expect_eq 100 "$(first_window "$mark")" "100 requests arrived in the first round trip"

section "--concurrency stays the bound, from the first round trip on"
mark="$(wc -l <"$STATIC_H2_LOG")"
expect_exit 0 -- gate_over_relay "$SCRATCH/ten.json" --concurrency 10
expect_eq 10 "$(first_window "$mark")" "--concurrency 10: 10 requests in the first round trip"

finish
