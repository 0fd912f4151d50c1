#!/usr/bin/env bash
# The Debian package, as a user gets it: scripts/package builds build/release/imagegate_*.deb
# from the release build; lintian finds no error in it; `apt-get install ./…deb` installs it with
# the dependencies dpkg-shlibdeps computed; `imagegate --version` and `man imagegate` work; and
# `apt-get remove --purge` leaves none of its files behind.
source "${E2E_LIB:?}/common.sh"
require_cmd lintian dpkg-deb man flock
[ "$(id -u)" = 0 ] || { echo "error: installing the package needs root" >&2; exit 1; }

apt_locked() { flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
if dpkg-query -W -f='${Status}' imagegate 2>/dev/null | grep -q 'install ok installed'; then
  echo "error: a package 'imagegate' is already installed; this suite installs and removes it" >&2
  exit 1
fi
# Whatever happens, the package does not stay installed after the suite.
_package_exit() {
  local rc=$?
  apt_locked remove --purge -y imagegate >/dev/null 2>&1 || true
  (exit "$rc")
  _e2e_cleanup
}
trap _package_exit EXIT

section "scripts/package builds build/release/imagegate_<version>_<arch>.deb"
commit="$(git -C "$SOURCE_DIR" rev-parse --short=12 HEAD)"
version="$(sed -n 's/^project(imagegate VERSION \([0-9.]*\).*/\1/p' "$SOURCE_DIR/CMakeLists.txt")"
arch="$(dpkg --print-architecture)"
expect_exit 0 -- "$SOURCE_DIR/scripts/package"
deb="$(tail -n 1 "$LAST_OUT")"
expect_eq "build/release/imagegate_${version}+g${commit}_${arch}.deb" "$deb" \
  "the package is named after the project version and the commit"
deb="$SOURCE_DIR/$deb"
[ -f "$deb" ] || { echo "error: $deb was not written" >&2; exit 1; }
echo "package size: $(stat -c %s "$deb") bytes"

section "its contents: binary, man page, schemas, README, copyright, changelog"
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$SCRATCH/contents"
for path in /usr/bin/imagegate /usr/share/man/man1/imagegate.1.gz \
  /usr/share/imagegate/images-manifest.schema.json /usr/share/imagegate/evidence.schema.json \
  /usr/share/doc/imagegate/README.md /usr/share/doc/imagegate/copyright \
  /usr/share/doc/imagegate/changelog.gz; do
  grep -qxF "$path" "$SCRATCH/contents" && pass "package has $path" || fail "package lacks $path"
done
expect_eq "" "$(grep -vE '^/usr(/|$)' "$SCRATCH/contents" || true)" "nothing outside /usr"
expect_eq "$version+g$commit" "$(dpkg-deb -f "$deb" Version)" "Version field"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
for lib in libc6 libcurl4 libfmt9 libssl3 libstdc++6; do
  grep -qE "(^|, )${lib//+/\\+}( |,|$)" <<<"$depends" && pass "Depends names $lib (dpkg-shlibdeps)" ||
    fail "Depends lacks $lib: $depends"
done
mkdir -p "$SCRATCH/x"
dpkg-deb -x "$deb" "$SCRATCH/x"
file "$SCRATCH/x/usr/bin/imagegate" >"$SCRATCH/file.out"
grep -q 'stripped' "$SCRATCH/file.out" && ! grep -q 'not stripped' "$SCRATCH/file.out" &&
  pass "the binary is stripped" || fail "the binary is not stripped: $(cat "$SCRATCH/file.out")"

section "lintian: no errors"
expect_exit 0 -- lintian --fail-on error --tag-display-limit 0 "$deb"
sed 's/^/       lintian: /' "$LAST_OUT"
expect_eq "" "$(grep '^E:' "$LAST_OUT" || true)" "lintian reports no error tag"

section "apt-get install ./imagegate_….deb; the command and its man page work"
expect_exit 0 -- apt_locked install -y --no-install-recommends "$deb"
expect_eq "/usr/bin/imagegate" "$(command -v imagegate)" "imagegate is on PATH in /usr/bin"
expect_exit 0 -- /usr/bin/imagegate --version
expect_output_contains "imagegate $version (commit $commit)"
expect_exit 0 -- /usr/bin/imagegate validate -m "$SOURCE_DIR/examples/afu9/images-manifest.json"
expect_output_contains "valid"
expect_exit 0 -- env MANPAGER=cat MANWIDTH=100 man imagegate
expect_output_contains "IMAGEGATE"
expect_output_contains "validate"
expect_output_contains "COMMANDS"
expect_output_contains "--evidence-out" # each subcommand's --help is in the page
expect_exit 0 -- env MANPAGER=cat man -w imagegate
expect_output_contains "/usr/share/man/man1/imagegate.1.gz"
dpkg -L imagegate >"$SCRATCH/installed"
files=()
while IFS= read -r f; do
  if [ -f "$f" ] || [ -L "$f" ]; then files+=("$f"); fi
done <"$SCRATCH/installed"
[ "${#files[@]}" -ge 7 ] && pass "${#files[@]} files installed" || fail "only ${#files[@]} files installed"

section "apt-get remove --purge removes it cleanly"
expect_exit 0 -- apt_locked remove --purge -y imagegate
left=()
for f in "${files[@]}"; do
  if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done
expect_eq "" "${left[*]}" "no file of the package is left"
status="$(dpkg-query -W -f='${Status}' imagegate 2>/dev/null || true)"
case "$status" in
  "" | *not-installed) pass "dpkg has purged imagegate (status '$status')" ;;
  *) fail "dpkg still has imagegate: $status" ;;
esac
[ ! -e /usr/share/doc/imagegate ] && [ ! -e /usr/share/imagegate ] &&
  pass "its directories are gone" || fail "a directory of the package is left"

finish
