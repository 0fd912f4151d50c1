#!/usr/bin/env bash
# The HTML report renders in a real browser: headless Chromium loads the page from a file (no
# network: the page has no external assets and its CSP allows none), the rendered DOM shows the
# verdict, the image ids and a digest, the hostile strings of the failing golden stay text, and
# a screenshot is not blank.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/images.sh"
require_cmd chromium jq umoci

M="$SOURCE_DIR/examples/afu9/images-manifest.json"
SHA=0123456789abcdef0123456789abcdef01234567
LAYOUTS="$SCRATCH/layouts"

chrome() {
  # --user-data-dir in the scratch dir: nothing from (or to) the developer's profile.
  # Chromium calls home (update, time, accounts) even with background networking off: no proxy,
  # and every name but 127.0.0.1 resolves to nothing, so it cannot leave the machine.
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-proxy-server --host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE 127.0.0.1" \
    --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$SCRATCH/chrome.XXXXXX")" "$@"
}

section "a passing gate's HTML report in Chromium"
push_manifest_images "$M" production $SHA --layout "$LAYOUTS"
expect_exit 0 -- "$IMAGEGATE" gate -m "$M" --env production --sha $SHA \
  --registry "oci-layout:$LAYOUTS" --evidence-out "$SCRATCH/evidence.json" \
  --report html="$SCRATCH/gate.html"
chrome --dump-dom "file://$SCRATCH/gate.html" >"$SCRATCH/dom.html" 2>"$SCRATCH/chrome.log" ||
  { fail "chromium --dump-dom"; tail -5 "$SCRATCH/chrome.log"; }
digest=$(jq -r '.images[0].digest' "$SCRATCH/evidence.json")
for text in "imagegate gate: passed" control-center mcp-github mcp-deploy mcp-observability \
  "${digest:0:19}" "$digest" "prod-$SHA"; do
  grep -qF -- "$text" "$SCRATCH/dom.html" && pass "rendered DOM shows '$text'" ||
    fail "rendered DOM lacks '$text'"
done

chrome --screenshot="$SCRATCH/gate.png" --window-size=1200,800 "file://$SCRATCH/gate.html" \
  >/dev/null 2>>"$SCRATCH/chrome.log" || fail "chromium --screenshot"
if [ -f "$SCRATCH/gate.png" ]; then
  size=$(wc -c <"$SCRATCH/gate.png")
  # A blank 1200x800 PNG compresses to a few kB; text, a table and colours need far more.
  [ "$size" -gt 15000 ] && pass "screenshot has content ($size bytes)" ||
    fail "screenshot looks blank ($size bytes)"
  [ "$(head -c 8 "$SCRATCH/gate.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    pass "screenshot is a PNG" || fail "screenshot is not a PNG"
else
  fail "no screenshot written"
fi

section "the hostile golden stays inert in Chromium"
golden="$TEST_DATA/golden/gate-fail.html"
cp "$golden" "$SCRATCH/fail.html"
chrome --dump-dom "file://$SCRATCH/fail.html" >"$SCRATCH/fail-dom.html" 2>>"$SCRATCH/chrome.log" ||
  fail "chromium --dump-dom on the failing golden"
grep -qF "imagegate gate: failed" "$SCRATCH/fail-dom.html" && pass "failing verdict rendered" ||
  fail "failing verdict not rendered"
# A script or image element in the DOM would mean an escaping bug; escaped text is fine.
expect_not_contains "<script" "$SCRATCH/fail-dom.html"
expect_not_contains "<img" "$SCRATCH/fail-dom.html"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$SCRATCH/fail-dom.html" &&
  pass "the hostile tag is shown as text" || fail "the hostile tag is not shown as text"

finish
