# shellcheck shell=bash
# Makes real OCI images without Docker (umoci) and puts them where imagegate looks: into the
# registry registry.sh started (skopeo) or into on-disk OCI layouts, one per repository. Needs
# common.sh, and registry.sh for pushes.
#
#   ref="$(image_build NAME CONTENT [ARCH] [REVISION])" -> oci:DIR:image (deterministic digest;
#                                               REVISION: the org.opencontainers.image.revision
#                                               config label, as docker/metadata-action sets it)
#   image_digest REF                            -> sha256:... of its manifest
#   image_push REF REPO:TAG                     -> into $REGISTRY_HOST
#   image_push_tags REF REPO TAG...             -> the same image under several tags
#   digest="$(image_push_as v2s2 REF REPO:TAG [--all])" -> as Docker schema 2 / manifest list
#   image_retag REPO:TAG NEW_TAG                -> one more tag, registry to registry
#   digest="$(image_push_index REPO:TAG SPEC...)" -> a multi-arch OCI image index (SPEC: ARCH,
#                                               ARCH:CLAIMED_ARCH, ARCH+att)
#   index_build REPO:TAG SPEC... / index_children REPO:TAG SPEC -> the same, not pushed; a child
#   index_layout_ref REPO:TAG                   -> oci:DIR:index that image_push_index built
#   layout_tag DIR/REPO TAG [REF]               -> DIR/REPO is an OCI layout with TAG
#   manifest_tags MANIFEST ENV SHA              -> "NAME TAG" lines the manifest expects
#   push_manifest_images MANIFEST ENV SHA [--layout DIR] [--revision REV|none] [--skip NAME[:TAG]]...

IMAGE_ARCH_DEFAULT="${IMAGE_ARCH_DEFAULT:-amd64}"
# Fixed timestamps make an image's digest a function of its content alone, stable across runs.
_IMAGE_TIME="2024-01-01T00:00:00Z"
SHORT_SHA_LEN="${SHORT_SHA_LEN:-7}"
PUSHED_FILE="$SCRATCH/populated.tsv"
export PUSHED_FILE

# skopeo must neither consult the host's trust policy, registries or credentials nor reach the
# internet: everything it reads lives in the scratch directory.
_images_setup() {
  local dir="$SCRATCH/containers"
  [ -d "$dir" ] && return 0
  mkdir -p "$dir/registries.d" "$dir/tmp"
  printf '%s\n' '{"default":[{"type":"insecureAcceptAnything"}]}' >"$dir/policy.json"
  printf '%s\n' 'unqualified-search-registries = []' 'short-name-mode = "enforcing"' \
    >"$dir/registries.conf"
  export CONTAINERS_REGISTRIES_CONF="$dir/registries.conf"
}

_skopeo() {
  _images_setup
  skopeo --policy "$SCRATCH/containers/policy.json" --registries.d "$SCRATCH/containers/registries.d" \
    --tmpdir "$SCRATCH/containers/tmp" "$@"
}

# The skopeo flags that reach the current registry (TLS or not, credentials) for side src|dest,
# one per line into the array named by $2. (Helpers check every step themselves: when a suite
# calls them inside expect_exit, bash's set -e is off.)
_registry_flags() {
  local side="$1"
  local -n _flags="$2"
  if [ -z "${REGISTRY_URL:-}" ] || [ -z "${REGISTRY_HOST:-}" ]; then
    echo "error: no registry started (registry_start)" >&2
    return 1
  fi
  mapfile -t _flags < <(_registry_flag_lines "$side")
}

_registry_flag_lines() {
  local side="$1"
  case "$REGISTRY_URL" in
    https://*) printf '%s\n' "--$side-cert-dir=$REGISTRY_CERT_DIR" ;;
    *) printf '%s\n' "--$side-tls-verify=false" ;;
  esac
  if [ -n "${REGISTRY_USER:-}" ]; then
    printf '%s\n' "--$side-creds=$REGISTRY_USER:$REGISTRY_PASSWORD"
  else
    printf '%s\n' "--$side-no-creds"
  fi
}

# _umoci_image LAYOUT TAG CONTENT ARCH [REVISION] : adds image TAG to LAYOUT: one layer holding
# /content.txt, with the revision label when REVISION is given.
_umoci_image() {
  local layout="$1" tag="$2" content="$3" arch="$4" revision="${5:-}" label=()
  [ -z "$revision" ] || label=(--config.label "org.opencontainers.image.revision=$revision")
  mkdir -p "$SCRATCH/images"
  local src
  src="$(mktemp -d "$SCRATCH/images/src.XXXXXX")" || return 1
  printf '%s\n' "$content" >"$src/content.txt" && touch -d "$_IMAGE_TIME" "$src/content.txt" ||
    return 1
  umoci new --image "$layout:$tag" &&
    umoci insert --image "$layout:$tag" --history.created "$_IMAGE_TIME" \
      --history.created_by "image_build $content" "$src/content.txt" /content.txt &&
    umoci config --image "$layout:$tag" --no-history --os linux --architecture "$arch" \
      --created "$_IMAGE_TIME" "${label[@]}" || return 1
  rm -rf "$src"
}

# image_build NAME CONTENT [ARCH] : builds an image whose only file holds CONTENT (distinct content,
# distinct digest) for linux/ARCH, and prints its reference oci:DIR:image.
image_build() {
  local name="$1" content="$2" arch="${3:-$IMAGE_ARCH_DEFAULT}" revision="${4:-}"
  local layout="$SCRATCH/images/$name"
  rm -rf "$layout"
  mkdir -p "$SCRATCH/images"
  umoci init --layout "$layout" || return 1
  _umoci_image "$layout" image "$content" "$arch" "$revision" 2>"$SCRATCH/images/$name.umoci.log" || {
    cat "$SCRATCH/images/$name.umoci.log" >&2
    return 1
  }
  printf 'oci:%s:image\n' "$layout"
}

# image_digest oci:DIR:TAG : the manifest (or index) digest the layout holds for TAG.
image_digest() {
  local ref="${1#oci:}"
  local dir="${ref%:*}" tag="${ref##*:}"
  jq -er --arg t "$tag" \
    '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)][0].digest' \
    "$dir/index.json"
}

# image_push REF REPO:TAG [skopeo copy flags...] : pushes REF (any skopeo source) to the current
# registry, keeping its digest.
image_push() {
  local ref="$1" dest="$2"
  shift 2
  local flags=() err
  _registry_flags dest flags || return 1
  err="$(mktemp "$SCRATCH/skopeo.XXXXXX")" || return 1
  if ! _skopeo copy -q --preserve-digests "${flags[@]}" "$@" "$ref" "docker://$REGISTRY_HOST/$dest" \
    2>"$err"; then
    echo "error: pushing $ref to $REGISTRY_HOST/$dest failed:" >&2
    cat "$err" >&2
    return 1
  fi
  rm -f "$err"
}

# image_push_tags REF REPO TAG... : pushes REF under every TAG. The first push uploads the blobs;
# the other tags only add a manifest PUT each, so they go concurrently.
image_push_tags() {
  local ref="$1" repo="$2"
  shift 2
  [ "$#" -gt 0 ] || {
    echo "error: image_push_tags REF REPO TAG..." >&2
    return 2
  }
  image_push "$ref" "$repo:$1" || return 1
  shift
  local tag pids=() failed=0 pid
  for tag in "$@"; do
    image_push "$ref" "$repo:$tag" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  return "$failed"
}

# image_push_as FORMAT REF REPO:TAG [skopeo copy flags...] : pushes REF converted to FORMAT
# (v2s2: Docker schema 2 manifest, or manifest list with --all; oci) and prints the digest the
# registry got, which differs from REF's own digest after a conversion.
image_push_as() {
  local format="$1" ref="$2" dest="$3"
  shift 3
  local flags=() err digestfile
  _registry_flags dest flags || return 1
  err="$(mktemp "$SCRATCH/skopeo.XXXXXX")" && digestfile="$(mktemp "$SCRATCH/digest.XXXXXX")" ||
    return 1
  if ! _skopeo copy -q --format "$format" --digestfile "$digestfile" "${flags[@]}" "$@" "$ref" \
    "docker://$REGISTRY_HOST/$dest" 2>"$err"; then
    echo "error: pushing $ref as $format to $REGISTRY_HOST/$dest failed:" >&2
    cat "$err" >&2
    return 1
  fi
  cat "$digestfile"
  echo
  rm -f "$err" "$digestfile"
}

# index_layout_ref REPO:TAG : the oci: reference of the layout image_push_index built for REPO:TAG.
index_layout_ref() {
  printf 'oci:%s/images/index-%s:index\n' "$SCRATCH" "$(printf '%s' "$1" | tr '/:' '__')"
}

# image_retag REPO:TAG NEW_TAG : gives an image already in the registry one more tag
# (registry to registry, no layout involved).
image_retag() {
  local src="$1" tag="$2"
  local repo="${src%:*}" flags=()
  _registry_flags src flags || return 1
  image_push "docker://$REGISTRY_HOST/$src" "$repo:$tag" "${flags[@]}"
}

# image_push_index REPO:TAG SPEC... : builds one image per SPEC, writes an OCI image index over
# them into the layout, pushes all of it, and prints the index digest. A SPEC is ARCH (an image
# for linux/ARCH, its entry says so), ARCH:CLAIM (an image for ARCH whose entry claims
# linux/CLAIM: an index that lies) or ARCH+att (an attestation entry, annotated the way buildx
# does, claiming linux/ARCH). The child digests are in index_children REPO:TAG.
image_push_index() {
  local dest="${1:-}"
  [ "$#" -ge 2 ] || {
    echo "error: image_push_index REPO:TAG SPEC..." >&2
    return 2
  }
  index_build "$@" >/dev/null || return 1
  local layout
  layout="$(index_layout_ref "$dest")"
  image_push "$layout" "$dest" --all || return 1
  image_digest "$layout"
}

# index_build REPO:TAG SPEC... : the layout image_push_index pushes (index_layout_ref REPO:TAG),
# without pushing it; prints the index digest.
index_build() {
  local dest="$1"
  shift
  local layout
  layout="$(index_layout_ref "$dest")"
  layout="${layout#oci:}"
  layout="${layout%:index}"
  rm -rf "$layout"
  mkdir -p "$SCRATCH/images"
  umoci init --layout "$layout" || return 1
  local spec arch claim att n=0 entry entries=()
  : >"$layout.children"
  for spec in "$@"; do
    arch="${spec%%[:+]*}" claim="$arch" att=false n=$((n + 1))
    case "$spec" in
      *:*) claim="${spec#*:}" ;;
      *+att) att=true ;;
    esac
    _umoci_image "$layout" "c$n" "$dest $spec" "$arch" 2>>"$layout.umoci.log" || {
      cat "$layout.umoci.log" >&2
      return 1
    }
    entry="$(jq -ec --arg t "c$n" --arg a "$claim" --argjson att "$att" '.manifests[]
        | select(.annotations["org.opencontainers.image.ref.name"] == $t)
        | {mediaType, digest, size, platform: {architecture: $a, os: "linux"}}
        | if $att then . + {annotations: {"vnd.docker.reference.type": "attestation-manifest"}}
          else . end' "$layout/index.json")" || return 1
    entries+=("$entry")
    printf '%s %s\n' "$spec" "$(jq -r .digest <<<"$entry")" >>"$layout.children"
  done
  # The index blob is written byte-exact: its digest is the sha256 of exactly these bytes.
  local blob="$layout/index.blob" hex size
  printf '%s\n' "${entries[@]}" | jq -cjs \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' \
    >"$blob" || return 1
  hex="$(sha256sum "$blob" | cut -d' ' -f1)" && size="$(stat -c %s "$blob")" || return 1
  mv "$blob" "$layout/blobs/sha256/$hex" || return 1
  jq -c --arg d "sha256:$hex" --argjson s "$size" '.manifests += [{
      mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
      annotations: {"org.opencontainers.image.ref.name": "index"}}]' \
    "$layout/index.json" >"$layout/index.json.new" &&
    mv "$layout/index.json.new" "$layout/index.json" || return 1
  printf 'sha256:%s\n' "$hex"
}

# index_children REPO:TAG SPEC : the digest of the child index_build made for SPEC.
index_children() {
  local layout
  layout="$(index_layout_ref "$1")"
  layout="${layout#oci:}"
  awk -v s="$2" '$1 == s { print $2 }' "${layout%:index}.children"
}

# layout_tag DIR/REPO TAG [REF] : copies REF (default: an image built from "REPO") into the OCI
# layout DIR/REPO under TAG, the way `skopeo copy ... oci:DIR/REPO:TAG` lays it out.
layout_tag() {
  local target="$1" tag="$2" ref="${3:-}"
  if [ -z "$ref" ]; then
    ref="$(image_build "layout-$(printf '%s' "$target" | tr '/' '_')" "$target")" || return 1
  fi
  mkdir -p "$target" || return 1
  local err
  err="$(mktemp "$SCRATCH/skopeo.XXXXXX")" || return 1
  if ! _skopeo copy -q --all --preserve-digests "$ref" "oci:$target:$tag" 2>"$err"; then
    echo "error: copying $ref to oci:$target:$tag failed:" >&2
    cat "$err" >&2
    return 1
  fi
  rm -f "$err"
}

# manifest_tags MANIFEST ENV SHA : one "NAME TAG" line per image and expected tag, from the
# manifest's tagging.prefixes[ENV] and tagging.alwaysTag templates.
manifest_tags() {
  local manifest="$1" env="$2" sha="$3"
  local short="${sha:0:$SHORT_SHA_LEN}" out
  out="$(jq -er --arg env "$env" --arg full "$sha" --arg short "$short" '
    (.tagging.prefixes[$env] // error("no tagging.prefixes for env \($env)")) as $prefix
    | .images[] as $img
    | .tagging.alwaysTag[]
    | "\($img.name) \(gsub("\\{prefix\\}"; $prefix) | gsub("\\{full_sha\\}"; $full)
                     | gsub("\\{short_sha\\}"; $short))"' "$manifest")" || {
    echo "error: cannot read the expected tags from $manifest" >&2
    return 1
  }
  printf '%s\n' "$out"
}

# push_manifest_images MANIFEST ENV SHA [--layout DIR] [--skip NAME | --skip NAME:TAG]... :
# pushes every image of the manifest with every expected tag to the current registry, or into OCI
# layouts under DIR. Each name gets its own image (content NAME@SHA, so digests differ), built
# once, with the revision label SHA as a pipeline's build sets it (--revision REV: another one,
# --revision none: no label); extra tags push the same layout again, which skopeo turns into blob HEADs plus one manifest
# PUT (as fast as a registry-to-registry copy, and it needs no source credentials). Images, and
# the extra tags of one image, are pushed concurrently. Appends "NAME TAG DIGEST" lines to
# $PUSHED_FILE, in manifest order.
push_manifest_images() {
  local manifest="$1" env="$2" sha="$3"
  shift 3
  local layout_dir="" skips=() revision="$sha"
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --layout) layout_dir="${2:?--layout DIR}"; shift 2 ;;
      --revision) revision="${2:?--revision REV}"; shift 2 ;;
      --skip) skips+=("${2:?--skip NAME[:TAG]}"); shift 2 ;;
      *) echo "error: push_manifest_images: unknown option $1" >&2; return 2 ;;
    esac
  done
  [ "$revision" != none ] || revision=""
  local lines names=() name
  lines="$(manifest_tags "$manifest" "$env" "$sha")" || return 1
  mapfile -t names < <(cut -d' ' -f1 <<<"$lines" | awk '!seen[$0]++')
  local pids=() i=0 tags=()
  for name in "${names[@]}"; do
    mapfile -t tags < <(awk -v n="$name" '$1 == n { print $2 }' <<<"$lines")
    PUSH_REVISION="$revision" _push_one "$name" "$sha" "$layout_dir" "$SCRATCH/populate.$i" \
      "${tags[@]}" -- "${skips[@]}" &
    pids+=($!)
    i=$((i + 1))
  done
  local failed=0 pid
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  for ((i = 0; i < ${#names[@]}; i++)); do
    cat "$SCRATCH/populate.$i" >>"$PUSHED_FILE" 2>/dev/null || true
    rm -f "$SCRATCH/populate.$i"
  done
  [ "$failed" = 0 ] || {
    echo "error: populating $manifest ($env) failed" >&2
    return 1
  }
}

# _push_one NAME SHA LAYOUT_DIR OUT TAG... -- SKIP... : one image of push_manifest_images.
_push_one() {
  local name="$1" sha="$2" layout_dir="$3" out="$4"
  shift 4
  local tags=()
  while [ "$1" != "--" ]; do
    tags+=("$1")
    shift
  done
  shift
  local skip tag todo=()
  for tag in "${tags[@]}"; do
    for skip in "$@"; do
      if [ "$skip" = "$name" ] || [ "$skip" = "$name:$tag" ]; then continue 2; fi
    done
    todo+=("$tag")
  done
  : >"$out"
  [ "${#todo[@]}" -gt 0 ] || return 0
  local ref digest
  # PUSH_SALT makes one state's images differ from another's built from the same sha.
  ref="$(image_build "populate-$(printf '%s' "$name" | tr '/' '_')${PUSH_REVISION:+-r}" \
    "$name@$sha${PUSH_SALT:+#$PUSH_SALT}" \
    "$IMAGE_ARCH_DEFAULT" "${PUSH_REVISION:-}")" || return 1
  digest="$(image_digest "$ref")" || return 1
  if [ -n "$layout_dir" ]; then
    # One layout's index.json takes one writer at a time.
    for tag in "${todo[@]}"; do
      layout_tag "$layout_dir/$name" "$tag" "$ref" || return 1
    done
  else
    image_push_tags "$ref" "$name" "${todo[@]}" || return 1
  fi
  for tag in "${todo[@]}"; do
    printf '%s %s %s\n' "$name" "$tag" "$digest" >>"$out"
  done
}
