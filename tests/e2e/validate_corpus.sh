#!/usr/bin/env bash
# The built binary on the corpus of bad manifests in tests/data/manifests: each case must give
# its exact exit code, finding code and message (tests/data/manifests/expectations.tsv).
set -euo pipefail
: "${IMAGEGATE:?} ${TEST_DATA:?} ${SOURCE_DIR:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$scratch" # before the first command: HOME, AWS_*, DOCKER_CONFIG, proxies
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# A repository tree like the example's, with a symlink that escapes it and a file where a
# directory is expected.
root=$scratch/repo
mkdir -p "$root" "$scratch/outside"
cp -r "$SOURCE_DIR/examples/afu9/." "$root/"
rm -f "$root/images-manifest.json"
echo "FROM scratch" >"$scratch/outside/Dockerfile"
ln -s "$scratch/outside" "$root/escape-link"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$root/too-large.json"

while IFS=$'\t' read -r name want_exit want_code want_text; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  manifest=$root/$name.json
  [ -f "$TEST_DATA/manifests/$name.json" ] && cp "$TEST_DATA/manifests/$name.json" "$manifest"
  set +e
  "$IMAGEGATE" validate --no-color -m "$manifest" >"$scratch/out" 2>&1
  got_exit=$?
  set -e
  out=$(cat "$scratch/out")
  if [ "$got_exit" != "$want_exit" ]; then
    bad "$name: exit $got_exit, expected $want_exit"; echo "$out" | sed 's/^/     /'; continue
  fi
  if [ "$want_code" != "-" ] && ! grep -qF -- "$want_code" "$scratch/out"; then
    bad "$name: finding $want_code not reported"; echo "$out" | sed 's/^/     /'; continue
  fi
  if ! grep -qF -- "$want_text" "$scratch/out"; then
    bad "$name: output lacks '$want_text'"; echo "$out" | sed 's/^/     /'; continue
  fi
  ok "$name (exit $got_exit, $want_code)"
done <"$TEST_DATA/manifests/expectations.tsv"

# JSON output carries the same findings with their pointers.
cp "$TEST_DATA/manifests/missing-dockerfile.json" "$root/m.json"
set +e; "$IMAGEGATE" validate -m "$root/m.json" --output json >"$scratch/out.json"; rc=$?; set -e
if [ $rc = 1 ] && jq -e '.valid == false and ([.findings[] | select(.code == "DOCKERFILE_MISSING"
    and .image == "mcp-github" and .subject == "/images/1/dockerfile")] | length == 1)' \
    "$scratch/out.json" >/dev/null; then ok "json output"; else bad "json output"; cat "$scratch/out.json"; fi

# The example validates; removing one Dockerfile names that image and path.
if "$IMAGEGATE" validate -m "$SOURCE_DIR/examples/afu9/images-manifest.json" >/dev/null; then
  ok "example is valid"; else bad "example is invalid"; fi
cp -r "$SOURCE_DIR/examples/afu9" "$scratch/afu9"
rm "$scratch/afu9/mcp-deploy/Dockerfile"
set +e; "$IMAGEGATE" validate --no-color -m "$scratch/afu9/images-manifest.json" >"$scratch/out"; rc=$?; set -e
if [ $rc = 1 ] && grep -qF "error[DOCKERFILE_MISSING] mcp-deploy /images/2/dockerfile: dockerfile 'mcp-deploy/Dockerfile' does not exist" "$scratch/out"; then
  ok "removed Dockerfile is named"; else bad "removed Dockerfile: exit $rc"; cat "$scratch/out"; fi

# --root overrides the manifest's folder.
mkdir -p "$scratch/elsewhere"; cp "$SOURCE_DIR/examples/afu9/images-manifest.json" "$scratch/elsewhere/"
set +e; "$IMAGEGATE" validate --no-color -m "$scratch/elsewhere/images-manifest.json" >/dev/null; rc1=$?
"$IMAGEGATE" validate --no-color -m "$scratch/elsewhere/images-manifest.json" --root "$SOURCE_DIR/examples/afu9" >/dev/null; rc2=$?; set -e
if [ $rc1 = 1 ] && [ $rc2 = 0 ]; then ok "--root"; else bad "--root: $rc1 $rc2"; fi

e2e_egress_check || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
