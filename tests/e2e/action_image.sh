#!/usr/bin/env bash
# The GitHub Action built for real: the action's Dockerfile is built with buildah (no Docker
# daemon here) on a Debian 12 base image made on this machine with mmdebstrap (Docker Hub is out
# of reach), passed as the BUILD_IMAGE/BASE_IMAGE build arguments. The image then runs as GitHub
# runs a Docker action (its ENTRYPOINT, the INPUT_* variables, GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY under /github/file_commands, the workspace mounted at /github/workspace)
# and gates the afu9 example on an oci-layout: registry in the workspace: exit 0 with the outputs
# written; one tag missing gives exit 1 and the ::error annotation.
#
# podman run cannot start containers here (crun: setrlimit: Operation not permitted), while
# buildah's chroot isolation builds with RUN steps and runs commands: both use it. The base
# tarball and buildah's storage (with --layers, the build cache) live in build/action-image, so
# a second run reuses them. IMAGEGATE_ACTION_REBUILD=1 starts from a fresh base.
# The one suite that leaves the machine: mmdebstrap and the Dockerfile's apt-get fetch Debian
# packages from the mirrors this machine's apt uses (no egress trap; the environment is isolated).
E2E_NETWORK_ALLOWED="the Debian mirrors of this machine's apt sources"
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/images.sh"
require_cmd buildah mmdebstrap umoci skopeo jq
[ "$(id -u)" = 0 ] || { echo "error: buildah's chroot isolation needs root here" >&2; exit 1; }

CACHE="$SOURCE_DIR/build/action-image"
[ "${IMAGEGATE_ACTION_REBUILD:-0}" != 1 ] || rm -rf "$CACHE"
mkdir -p "$CACHE"
_images_setup # registries.conf without search registries: a short name never reaches the internet
[ -f "$REGISTRY_AUTH_FILE" ] || echo '{"auths":{}}' >"$REGISTRY_AUTH_FILE" # buildah reads it
BUILDAH=(buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver overlay)
BASE=localhost/imagegate-base:debian12
IMAGE=localhost/imagegate-action:test
SHA=4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d
COMMIT="$(git -C "$SOURCE_DIR" rev-parse --short=12 HEAD)"

section "a Debian 12 base image (mmdebstrap, slimmed like debian:12-slim), cached"
if ! "${BUILDAH[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
  if [ ! -s "$CACHE/debian12.tar" ]; then
    # The base comes from the mirrors this machine's apt already uses (its sources files, one-line
    # or deb822), so the test names no host of its own.
    sources=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      [ -s "$f" ] && grep -qE '^[^#]*(bookworm|stable)' "$f" && sources+=("$f")
    done
    [ "${#sources[@]}" -gt 0 ] || { echo "error: no Debian 12 apt sources on this machine" >&2; exit 1; }
    mmdebstrap --variant=minbase --format=tar \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      bookworm "$CACHE/debian12.tar.part" "${sources[@]}" \
      >"$SCRATCH/mmdebstrap.log" 2>&1 || {
      tail -n 30 "$SCRATCH/mmdebstrap.log" >&2
      exit 1
    }
    mv "$CACHE/debian12.tar.part" "$CACHE/debian12.tar"
  fi
  ctr="$("${BUILDAH[@]}" from scratch)"
  "${BUILDAH[@]}" add "$ctr" "$CACHE/debian12.tar" / >/dev/null
  "${BUILDAH[@]}" config --cmd /bin/bash --os linux "$ctr"
  "${BUILDAH[@]}" commit --rm -q "$ctr" "$BASE" >/dev/null
fi
expect_exit 0 -- "${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Architecture}}' "$BASE"
echo "base image: $("${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$BASE")"

section "buildah bud: the action's Dockerfile, the base passed as build arguments"
t0=$SECONDS
expect_exit 0 -- "${BUILDAH[@]}" bud --isolation chroot --network host --layers --pull=false \
  --build-arg BUILD_IMAGE="$BASE" --build-arg BASE_IMAGE="$BASE" \
  --build-arg IMAGEGATE_COMMIT="$COMMIT" -f "$SOURCE_DIR/Dockerfile" -t "$IMAGE" "$SOURCE_DIR"
echo "image build: $((SECONDS - t0)) s"
[ -s "$LAST_OUT" ] && tail -n 5 "$LAST_OUT" | sed 's/^/       /'
[ "$(tail -c 4000 "$LAST_ERR" | grep -c .)" = 0 ] || tail -n 20 "$LAST_ERR" | sed 's/^/       /'
"${BUILDAH[@]}" inspect --type image "$IMAGE" >/dev/null 2>&1 || {
  echo "error: the image was not built" >&2
  exit 1
}
size="$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE")"
echo "action image size: $size ($("${BUILDAH[@]}" inspect --type image --format '{{.FromImageDigest}}' "$IMAGE"))"
expect_eq '[/usr/local/bin/action-entrypoint]' \
  "$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")" \
  "the image's ENTRYPOINT is the action's entry point"

# One container per run, removed at the end: its filesystem is the image's, as a job step sees it.
CONTAINERS=()
_action_exit() {
  local rc=$? c
  for c in "${CONTAINERS[@]}"; do "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; done
  (exit "$rc")
  _e2e_cleanup
}
trap _action_exit EXIT
in_image() { # CMD... : runs a command in a fresh container of the image
  local c
  c="$("${BUILDAH[@]}" from --pull=false "$IMAGE")"
  CONTAINERS+=("$c")
  "${BUILDAH[@]}" run --isolation chroot --network host "$c" -- "$@"
}

section "the runtime stage holds the binary and the libraries it needs, nothing to build with"
expect_exit 0 -- in_image imagegate --version
expect_output_contains "imagegate "
expect_output_contains "(commit $COMMIT)"
expect_exit 0 -- in_image ldd /usr/local/bin/imagegate
expect_eq "" "$(grep 'not found' "$LAST_OUT" || true)" "every shared library of the binary is there"
# The runtime packages are those the libraries belong to (what dpkg-shlibdeps puts in Depends).
expect_exit 0 -- in_image bash -c 'ldd /usr/local/bin/imagegate | awk "/=> \\//{print \$3}" |
  xargs -n1 readlink -f | xargs -n1 dpkg -S 2>/dev/null | cut -d: -f1 | sort -u'
needed="$(tr '\n' ' ' <"$LAST_OUT")"
echo "packages of the binary's libraries: $needed"
for pkg in libcurl4 libssl3 libfmt9; do
  grep -qw "$pkg" <<<"$needed" && pass "the binary needs $pkg (installed by the Dockerfile)" ||
    fail "the binary does not need $pkg: $needed"
done
declared="$(sed -n '/^FROM \${BASE_IMAGE}/,$p' "$SOURCE_DIR/Dockerfile" |
  grep -o 'no-install-recommends [^&]*' | cut -d' ' -f2- | tr ' ' '\n' | grep '^[a-z0-9]' | sort)"
for pkg in $declared; do
  [ "$pkg" = ca-certificates ] && continue
  grep -qw "$pkg" <<<"$needed" && pass "runtime package $pkg is needed by the binary" ||
    fail "runtime package $pkg is not needed by the binary ($needed)"
done
for tool in cmake g++ make git; do
  expect_exit 1 -- in_image bash -c "command -v $tool"
done

section "run as GitHub runs a Docker action: gate the afu9 example on an oci-layout: registry"
ws="$SCRATCH/workspace"
mkdir -p "$ws" "$SCRATCH/file_commands"
cp -r "$SOURCE_DIR/examples/afu9/." "$ws/"
push_manifest_images "$ws/images-manifest.json" production "$SHA" --layout "$ws/registry"
ENTRY="$("${BUILDAH[@]}" inspect --type image --format '{{index .OCIv1.Config.Entrypoint 0}}' "$IMAGE")"
# gh_run NAME [INPUT=VALUE...] : a step with these inputs; files under $SCRATCH/file_commands.
gh_run() {
  local name="$1" c
  shift
  : >"$SCRATCH/file_commands/set_output_$name"
  : >"$SCRATCH/file_commands/step_summary_$name"
  local envs=(GITHUB_ACTIONS=true CI=true GITHUB_WORKSPACE=/github/workspace HOME=/github/home
    "GITHUB_OUTPUT=/github/file_commands/set_output_$name"
    "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_$name"
    INPUT_MANIFEST=images-manifest.json "INPUT_SHA=$SHA" INPUT_ENV=production
    "INPUT_STEP-SUMMARY=true" INPUT_ARGS= "$@")
  local flags=() e
  for e in "${envs[@]}"; do flags+=(--env "$e"); done
  c="$("${BUILDAH[@]}" from --pull=false "$IMAGE")"
  CONTAINERS+=("$c")
  "${BUILDAH[@]}" run --isolation chroot --network host --workingdir /github/workspace \
    -v "$ws:/github/workspace" -v "$SCRATCH/file_commands:/github/file_commands" \
    "${flags[@]}" "$c" -- "$ENTRY"
}
# output NAME KEY : a value the step wrote to GITHUB_OUTPUT (KEY<<DELIMITER ... DELIMITER).
output() {
  awk -v k="$2" '
    d == "" && index($0, k "<<") == 1 { d = substr($0, length(k) + 3); next }
    d != "" && $0 == d { exit }
    d != "" { print }' "$SCRATCH/file_commands/set_output_$1"
}

expect_exit 0 -- gh_run pass INPUT_COMMAND=gate INPUT_REGISTRY=oci-layout:registry \
  INPUT_EVIDENCE=evidence.json $'INPUT_REPORTS=junit=gate-junit.xml\n'
expect_output_contains "gate production"
expect_eq pass "$(output pass verdict)" "output verdict=pass"
expect_eq evidence.json "$(output pass evidence)" "output evidence"
for id in control-center mcp-github mcp-deploy mcp-observability; do
  want="$(awk -v n="afu9/$id" -v t="prod-$SHA" '$1 == n && $2 == t { print $3 }' "$PUSHED_FILE")"
  expect_eq "$want" "$(output pass "digest-$id")" "output digest-$id is the pushed digest"
done
[ -s "$ws/evidence.json" ] && jq -e '.verdict == "pass"' "$ws/evidence.json" >/dev/null &&
  pass "evidence written into the workspace" || fail "no passing evidence in the workspace"
[ -s "$ws/gate-junit.xml" ] && pass "junit report written" || fail "no junit report"
grep -q 'pass' "$SCRATCH/file_commands/step_summary_pass" && pass "job summary written" ||
  fail "job summary empty"

section "one tag missing: exit 1 and the ::error annotation"
short="${SHA:0:7}"
umoci rm --image "$ws/registry/afu9/mcp-github:prod-$short"
expect_exit 1 -- gh_run fail INPUT_COMMAND=gate INPUT_REGISTRY=oci-layout:registry
expect_output_contains "::error"
expect_output_contains "TAG_MISSING"
grep -h '::error' "$LAST_OUT" "$LAST_ERR" | head -n 3 | sed 's/^/       /'
grep -hF '::error' "$LAST_OUT" "$LAST_ERR" | grep -qF "prod-$short" &&
  pass "the annotation names the missing tag" || fail "no annotation names prod-$short"
expect_eq fail "$(output fail verdict)" "output verdict=fail"

section "a bad input is a usage error (exit 2)"
expect_exit 2 -- gh_run bad INPUT_COMMAND=deploy
expect_stderr_contains "input 'command' must be"

finish
