#!/usr/bin/env bash
# `imagegate gate` over TLS with a private CA (--ca-file, the way users pass it) against a real
# docker-registry that speaks HTTP/2 (Go's server negotiates h2 over TLS): every request rides on
# one connection as concurrent streams. Proven from both sides: the registry's log shows HTTP/2.0
# requests from a single client port, and the evidence's timing counts one connection and every
# attempt answered over HTTP/2. The same images behind the same registry with HTTP/2 disabled
# give the same verdicts, digests and findings over the HTTP/1.1 connection pool.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2016 # jq programs
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
require_cmd docker-registry umoci skopeo jq curl openssl

SHA=0123456789abcdef0123456789abcdef01234567
OTHER=89abcdef0123456789abcdef0123456789abcdef
gate_project "$TEST_DATA/e2e/images-manifest.json"

# What must not depend on the protocol: verdict, per-image status and digest, finding codes.
verdicts() {
  evidence_get '[.verdict, [.images[] | [.id, .status, .digest]], [.findings[].code]] | tostring' "$1"
}

# The client ports the registry saw since MARK (one per connection), from its own request log.
client_ports_since() {
  tail -n "+$(($1 + 1))" "$REGISTRY_LOG" | grep -oE 'http\.request\.remoteaddr="?127\.0\.0\.1:[0-9]+' |
    sed 's/.*://' | sort -u
}

# gate_over NAME SHA : one gate against the current registry with its CA; evidence in NAME.json.
gate_over() {
  ig_gate -m "$GATE_MANIFEST" --env production --sha "$2" --registry "$REGISTRY_URL" \
    --ca-file "$REGISTRY_CA" --evidence-out "$SCRATCH/$1.json"
}

# Two builds: OTHER without mcp-github, then SHA complete (it moves prod-latest). The SHA gate
# passes; the OTHER gate fails (mcp-github's tags missing, prod-latest on the newer build).
populate() {
  push_manifest_images "$GATE_MANIFEST" production "$OTHER" --skip afu9/mcp-github &&
    push_manifest_images "$GATE_MANIFEST" production "$SHA"
}

section "HTTP/2 over TLS: one connection, every request a stream on it"
registry_start tls
populate
mark="$(registry_log_mark)"
expect_exit 0 -- gate_over h2-pass "$SHA"
expect_output_contains "✓ gate passed"
# 4 images x 3 tags: 8 HEADs and 4 tag GETs (the manifest the revision check reads), then the
# 4 config blobs with the revision labels.
expect_eq 16 "$(registry_requests_since "$mark" '^"[A-Z]* [^"]* HTTP/2.0" 200' | grep -c .)" \
  "the registry answered the 16 requests over HTTP/2"
expect_eq 0 "$(registry_requests_since "$mark" 'HTTP/1\.1"' | wc -l | tr -d ' ')" "no HTTP/1.1 request"
expect_eq 1 "$(client_ports_since "$mark" | grep -c .)" "the registry saw one client connection"
expect_eq '1 true 16 8' \
  "$(evidence_get '.timing | "\(.connections) \(.protocols == {"HTTP/2": 16}) \(.requests.total) \(.requests.byKind["HEAD manifest"])"' "$SCRATCH/h2-pass.json")" \
  "the evidence counts one connection, the 16 requests over HTTP/2, 8 of them HEADs"
expect_exit 1 -- gate_over h2-fail "$OTHER"
expect_output_contains "error[TAG_MISSING] mcp-github"

section "the timing in the text, Markdown and HTML reports"
expect_exit 0 -- ig_gate -m "$GATE_MANIFEST" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --ca-file "$REGISTRY_CA" --evidence-out "$SCRATCH/h2-reports.json" --report text=- \
  --report markdown="$SCRATCH/summary.md" --report html="$SCRATCH/report.html"
expect_output_contains "; 16 requests (HEAD manifest 8, GET blob 4, GET manifest 4), 1 connection, HTTP/2 16, 0 retries, 0 throttled"
expect_eq 1 "$(grep -c '^timing: [0-9.]* m\?s: manifest [0-9.]* ms, registry [0-9.]* ms (12 requests), provenance [0-9.]* ms (4 requests), evidence [0-9.]* ms; ' "$LAST_OUT")" \
  "one timing line with every phase"
expect_eq 1 "$(grep -c '^Timing: `.*1 connection, HTTP/2 16, 0 retries, 0 throttled`$' "$SCRATCH/summary.md")" \
  "the Markdown summary's timing line"
expect_eq 1 "$(grep -c '^<p class="meta">timing: .*1 connection, HTTP/2 16, 0 retries, 0 throttled</p>$' "$SCRATCH/report.html")" \
  "the HTML report's timing line"
expect_eq "12 0" "$(evidence_get '.timing | "\(.phases.registry.requests) \(.phases.manifest.requests)"' "$SCRATCH/h2-reports.json")" \
  "the registry phase made the 12 requests, the manifest phase none"

# --concurrency stays the bound on requests in flight: one at a time still shares the connection.
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$GATE_MANIFEST" --env production --sha "$SHA" --registry "$REGISTRY_URL" \
  --ca-file "$REGISTRY_CA" --concurrency 1 --evidence-out "$SCRATCH/h2-one.json"
expect_eq 1 "$(client_ports_since "$mark" | grep -c .)" "--concurrency 1: one connection as well"
expect_eq "$(verdicts "$SCRATCH/h2-pass.json")" "$(verdicts "$SCRATCH/h2-one.json")" \
  "--concurrency 1: the same verdict"
# The CA is required: without it the certificate fails, over HTTP/2 as over HTTP/1.1.
expect_exit 1 -- ig_gate -m "$GATE_MANIFEST" --env production --sha "$SHA" \
  --registry "$REGISTRY_URL" --timeout 20s
expect_output_contains "error[UNREACHABLE] control-center"
expect_output_contains "certificate"
registry_stop

section "the same images over HTTP/1.1 (HTTP/2 disabled): a connection pool, the same verdicts"
registry_start tls http1
populate
mark="$(registry_log_mark)"
expect_exit 0 -- gate_over h1-pass "$SHA"
expect_eq 16 "$(registry_requests_since "$mark" '^"[A-Z]* [^"]* HTTP/1.1" 200' | grep -c .)" \
  "the registry answered the 16 requests over HTTP/1.1"
expect_eq true "$(evidence_get '.timing | (.connections > 1) and (.protocols == {"HTTP/1.1": 16})' "$SCRATCH/h1-pass.json")" \
  "the evidence counts several connections, every attempt over HTTP/1.1"
expect_exit 1 -- gate_over h1-fail "$OTHER"
expect_output_contains "error[TAG_MISSING] mcp-github"
expect_eq "$(verdicts "$SCRATCH/h2-pass.json")" "$(verdicts "$SCRATCH/h1-pass.json")" \
  "passing gate: the same verdict, digests and findings over HTTP/2 and HTTP/1.1"
expect_eq "$(verdicts "$SCRATCH/h2-fail.json")" "$(verdicts "$SCRATCH/h1-fail.json")" \
  "failing gate: the same verdict, digests and findings over HTTP/2 and HTTP/1.1"
registry_stop

finish
