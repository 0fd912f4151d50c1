#!/usr/bin/env bash
# bench/run --smoke: every tool of the benchmark (imagegate, curl, skopeo, the AWS CLI against the
# fake AWS, nginx as the fast HTTP/2 server) runs once on 4 images and must succeed, so the
# benchmark cannot rot unnoticed; then both profiles (callgrind, heaptrack) of a 2-image gate, and
# their bad arguments. It asserts nothing about speed. Like bench/run, it measures the release
# binary (built when missing or stale); the fake AWS comes from the build ctest runs in (FAKES_DIR).
set -euo pipefail
: "${SOURCE_DIR:?} ${FAKES_DIR:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# bench/run's scripts/bootstrap may install what is missing, so no egress trap here; the
# common.sh that bench/run sources right after it sets one up (not exported: bench/run gets its own).
E2E_NETWORK_ALLOWED="scripts/bootstrap before bench/run's own isolation"
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$scratch"
unset IMAGEGATE
bash "$SOURCE_DIR/bench/run" --smoke | tee "$scratch/smoke.out"
# Every case ran, the nginx one (h2fast) included: a case that is left out fails here.
for title in "OCI registry on loopback, 4 images" "ECR API (fake AWS on loopback), 4 repositories" \
  "OCI registry over TLS with HTTP/2, 0 ms RTT, 4 images" \
  "nginx serving the same manifests over TLS with HTTP/2, 0 ms RTT, 4 images"; do
  grep -qF "## $title" "$scratch/smoke.out" || { echo "FAIL: bench/run --smoke has no case '$title'" >&2; exit 1; }
done
echo "ok: bench/run --smoke ran every case"

# The profiles as bench/README.md shows them, on 2 images: each must run the gate under its tool
# and print what the tool found.
check() { # NAME WANT_RC WANT_TEXT ARGS...
  local name="$1" want_rc="$2" want_text="$3" rc=0
  shift 3
  bash "$SOURCE_DIR/bench/run" "$@" >"$scratch/out" 2>&1 || rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$want_text" "$scratch/out"; then
    echo "FAIL: $name: exit $rc (want $want_rc), output without '$want_text':" >&2
    tail -n 30 "$scratch/out" >&2
    exit 1
  fi
  echo "ok: $name"
}
check "--profile (callgrind)" 0 "PROGRAM TOTALS" --profile --profile-size 2 --out "$scratch/p/r.json"
grep -qE '^imagegate / curl: [0-9]+\.[0-9]+x$' "$scratch/out" ||
  { echo "FAIL: --profile printed no instruction ratio against curl" >&2; exit 1; }
echo "ok: --profile compares with curl: $(grep '^imagegate / curl' "$scratch/out")"
check "--profile-tool heaptrack" 0 "peak heap memory consumption" \
  --profile --profile-size 2 --profile-tool heaptrack --out "$scratch/p/r.json"
check "--profile-tool massif" 2 "bench/run: --profile-tool is callgrind or heaptrack, not 'massif'" \
  --profile --profile-tool massif
check "--profile-size 0" 2 "bench/run: --profile-size takes a positive integer" \
  --profile --profile-size 0
