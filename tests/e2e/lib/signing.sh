# shellcheck shell=bash
# Signs images the way cosign does with a key, without cosign (Debian has none): openssl makes the
# keys and the signatures, the artifacts follow sigstore/cosign specs/SIGNATURE_SPEC.md and the
# in-toto/DSSE specs, and are put where each discovery path looks. Needs common.sh.
#
#   key_new NAME [ec|rsa|ed25519]        -> $SCRATCH/keys/NAME.key, NAME.pub (PEM)
#   sign_file KEY FILE                   -> base64 signature (ECDSA/RSA: SHA-256; Ed25519: raw)
#   simple_signing DIGEST REFERENCE      -> cosign's simple-signing payload (stdout)
#   sig_manifest PAYLOAD SIG_B64 DIR [SUBJECT_DIGEST SUBJECT_SIZE]
#                                        -> writes the signature manifest's blobs into DIR/blobs,
#                                           prints its path (with a subject: the referrers form)
#   dsse_envelope KEY STATEMENT_FILE     -> a DSSE envelope of the in-toto statement (stdout)
#   slsa_statement DIGEST COMMIT [v1|v0.2] -> an in-toto statement with SLSA provenance (stdout)
#   att_manifest ENVELOPE DIR PREDICATE_TYPE [SUBJECT_DIGEST SUBJECT_SIZE] -> like sig_manifest
#   registry_put_blob REPO FILE / registry_put_manifest REPO REF FILE : the distribution API
#   layout_put_manifest LAYOUT FILE [TAG] : into an OCI layout's blobs and index.json (TAG moves)
#   tag_schema_index DIR MANIFEST...     -> the referrers tag schema's index of the manifests

SIMPLE_SIGNING=application/vnd.dev.cosign.simplesigning.v1+json
DSSE=application/vnd.dsse.envelope.v1+json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json

key_new() {
  local name="$1" type="${2:-ec}" dir="$SCRATCH/keys"
  mkdir -p "$dir"
  case "$type" in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/$name.key" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$dir/$name.key" ;;
    *) echo "key_new: unknown type $type" >&2; return 2 ;;
  esac 2>/dev/null && openssl pkey -in "$dir/$name.key" -pubout -out "$dir/$name.pub"
}

sign_file() {
  local key="$1" file="$2"
  if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^ED25519'; then
    openssl pkeyutl -sign -inkey "$key" -rawin -in "$file" | base64 -w0
  else
    openssl dgst -sha256 -sign "$key" "$file" | base64 -w0
  fi
}

# What `cosign sign` signs: the critical section binds the digest and the repository.
simple_signing() {
  jq -cn --arg d "$1" --arg r "$2" '{critical: {identity: {"docker-reference": $r},
    image: {"docker-manifest-digest": $d}, type: "cosign container image signature"},
    optional: null}'
}

_blob_put() {  # DIR FILE -> "sha256:<hex> <size>", the file stored under its digest
  local hex
  hex="$(sha256sum "$2" | cut -d' ' -f1)"
  mkdir -p "$1/blobs/sha256"
  cp "$2" "$1/blobs/sha256/$hex"
  printf 'sha256:%s %s\n' "$hex" "$(stat -c %s "$2")"
}

# _artifact_manifest DIR LAYER_FILE LAYER_TYPE ANNOTATIONS_JSON ARTIFACT_TYPE [SUBJECT SIZE]
_artifact_manifest() {
  local dir="$1" layer="$2" type="$3" annotations="$4" artifact="$5" subject="${6:-}" size="${7:-}"
  local config="$dir/config.json" ld ls cd cs out
  printf '{}' >"$config"
  read -r ld ls < <(_blob_put "$dir" "$layer")
  read -r cd cs < <(_blob_put "$dir" "$config")
  out="$(mktemp "$dir/manifest.XXXXXX")"
  jq -cnj --arg ld "$ld" --argjson ls "$ls" --arg lt "$type" --argjson la "$annotations" \
    --arg cd "$cd" --argjson cs "$cs" --arg at "$artifact" --arg sd "$subject" --arg ss "$size" '
    {schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
     config: {mediaType: (if $sd == "" then "application/vnd.oci.image.config.v1+json"
                          else "application/vnd.oci.empty.v1+json" end), digest: $cd, size: $cs},
     layers: [{mediaType: $lt, digest: $ld, size: $ls, annotations: $la}]}
    + (if $sd == "" then {} else {artifactType: $at,
        subject: {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $sd,
                  size: ($ss | tonumber)}} end)' >"$out"
  _blob_put "$dir" "$out" >/dev/null
  printf '%s\n' "$out"
}

sig_manifest() {
  local payload="$1" sig="$2" dir="$3"
  _artifact_manifest "$dir" "$payload" "$SIMPLE_SIGNING" \
    "$(jq -cn --arg s "$sig" '{"dev.cosignproject.cosign/signature": $s}')" \
    application/vnd.dev.cosign.artifact.sig.v1+json "${4:-}" "${5:-}"
}

att_manifest() {
  local envelope="$1" dir="$2" predicate="$3"
  _artifact_manifest "$dir" "$envelope" "$DSSE" "$(jq -cn --arg p "$predicate" '{predicateType: $p}')" \
    "$DSSE" "${4:-}" "${5:-}"
}

slsa_statement() {
  local digest="$1" commit="$2" version="${3:-v1}"
  if [ "$version" = v1 ]; then
    jq -cn --arg h "${digest#sha256:}" --arg c "$commit" '{_type: "https://in-toto.io/Statement/v1",
      subject: [{name: "image", digest: {sha256: $h}}], predicateType: "https://slsa.dev/provenance/v1",
      predicate: {buildDefinition: {buildType: "https://example.com/build/v1",
        externalParameters: {}, resolvedDependencies: [{uri: "git+https://example.com/afu9",
        digest: {gitCommit: $c}}]}, runDetails: {builder: {id: "https://example.com/ci"}}}}'
  else
    jq -cn --arg h "${digest#sha256:}" --arg c "$commit" '{_type: "https://in-toto.io/Statement/v0.1",
      subject: [{name: "image", digest: {sha256: $h}}], predicateType: "https://slsa.dev/provenance/v0.2",
      predicate: {builder: {id: "https://example.com/ci"}, buildType: "https://example.com/build/v1",
        materials: [{uri: "git+https://example.com/afu9", digest: {sha1: $c}}]}}'
  fi
}

# DSSE: the signature is over PAE(payloadType, payload) = "DSSEv1 <len> <type> <len> <payload>".
dsse_envelope() {
  local key="$1" statement="$2" type=application/vnd.in-toto+json pae
  pae="$(mktemp "$SCRATCH/pae.XXXXXX")"
  printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$(stat -c %s "$statement")" >"$pae"
  cat "$statement" >>"$pae"
  jq -cnj --arg t "$type" --arg p "$(base64 -w0 "$statement")" --arg s "$(sign_file "$key" "$pae")" \
    '{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}'
  rm -f "$pae"
}

tag_schema_index() {
  local dir="$1" out
  shift
  out="$(mktemp "$dir/index.XXXXXX")"
  local m entries=()
  for m in "$@"; do
    entries+=("$(jq -c --arg d "sha256:$(sha256sum "$m" | cut -d' ' -f1)" --argjson s "$(stat -c %s "$m")" \
      '{mediaType, digest: $d, size: $s, artifactType} + (if .annotations then {annotations} else {} end)' "$m")")
  done
  printf '%s\n' "${entries[@]}" | jq -cjs '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' >"$out"
  _blob_put "$dir" "$out" >/dev/null
  printf '%s\n' "$out"
}

# The distribution API with curl (what cosign's go-containerregistry does): every blob the
# manifest names, then the manifest. BASE is the registry URL (default $REGISTRY_URL).
registry_put_blob() {
  local repo="$1" file="$2" base="${3:-$REGISTRY_URL}" digest location
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  location="$(curl -sS -o /dev/null -D - -X POST "$base/v2/$repo/blobs/uploads/" |
    tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')"
  [ -n "$location" ] || { echo "registry_put_blob: no upload location" >&2; return 1; }
  case "$location" in http*) ;; *) location="$base$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  curl -sSf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$location"
}

registry_put_manifest() {
  local repo="$1" ref="$2" file="$3" base="${4:-$REGISTRY_URL}" dir blob digest
  dir="$(dirname "$file")"
  for digest in $(jq -r '[.config.digest?, (.layers[]?.digest), (.manifests[]?.digest)] | .[] | select(. != null)' "$file"); do
    blob="$dir/blobs/sha256/${digest#sha256:}"
    # An index names manifests: they are pushed by the caller first.
    [ "$(jq -r '.mediaType // empty' "$file")" = "$OCI_INDEX" ] && continue
    registry_put_blob "$repo" "$blob" "$base" || return 1
  done
  curl -sSf -o /dev/null -X PUT -H "Content-Type: $(jq -r .mediaType "$file")" \
    --data-binary "@$file" "$base/v2/$repo/manifests/$ref"
}

layout_put_manifest() {
  local layout="$1" file="$2" tag="${3:-}" dir digest size
  dir="$(dirname "$file")"
  cp -n "$dir"/blobs/sha256/* "$layout/blobs/sha256/" 2>/dev/null || true
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  size="$(stat -c %s "$file")"
  chmod u+w "$layout/index.json"
  jq -c --arg d "$digest" --argjson s "$size" --arg t "$tag" --arg mt "$(jq -r .mediaType "$file")" \
    '.manifests |= map(select($t == "" or .annotations["org.opencontainers.image.ref.name"] != $t))
     | .manifests += [{mediaType: $mt, digest: $d, size: $s}
       + (if $t == "" then {} else {annotations: {"org.opencontainers.image.ref.name": $t}} end)]' \
    "$layout/index.json" >"$layout/index.json.new" && mv "$layout/index.json.new" "$layout/index.json"
}
