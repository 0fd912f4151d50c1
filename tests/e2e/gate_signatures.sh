#!/usr/bin/env bash
# Signatures and attestations through one case table on every discovery path: a docker-registry
# (no referrers API: cosign's sha256-<hex>.sig tag, and the referrers tag schema that
# @sigstore/oci writes), the referrers-capable fake (tests/fakes/oci_referrers: the OCI 1.1
# referrers API, artifacts attached by @sigstore/oci), oci-layout (the .sig tag, and manifests
# whose subject is the digest) and the ECR fake (the .sig/.att tags through BatchGetImage).
# Keys and signatures are made with openssl in cosign's key-based format; the DSSE envelopes and
# simple-signing signatures are cross-checked with @sigstore/core first, so the format is not
# only ours. Every finding with its exact exit code; a registry that fails the referrers call is
# SIGNATURE_UNVERIFIABLE, never MISSING, never a pass.
# shellcheck source-path=SCRIPTDIR/lib
# shellcheck disable=SC2317 # backend functions are called by name
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/registry.sh"
source "$E2E_LIB/images.sh"
source "$E2E_LIB/gate.sh"
source "$E2E_LIB/aws.sh"
source "$E2E_LIB/signing.sh"
require_cmd docker-registry umoci skopeo jq curl openssl node
SIGSTORE_TOOLS="${SIGSTORE_TOOLS:-$SOURCE_DIR/build/tools/sigstore}"
export SIGSTORE_TOOLS
[ -d "$SIGSTORE_TOOLS/node_modules/@sigstore/oci" ] || {
  echo "error: $SIGSTORE_TOOLS has no @sigstore packages (scripts/bootstrap installs them)" >&2
  exit 1
}
sigstore() { node "$E2E_LIB/sigstore.js" "$@"; }

SHA=0123456789abcdef0123456789abcdef01234567
OLD_SHA=fedcba9876543210fedcba9876543210fedcba98
SLSA=https://slsa.dev/provenance/v1
SLSA02=https://slsa.dev/provenance/v0.2
BACKENDS=(registry referrers layout ecr)
key_new ours ec && key_new theirs ec && key_new rsa rsa && key_new ed ed25519
OURS="$SCRATCH/keys/ours.pub"
THEIRS="$SCRATCH/keys/theirs.pub"

# --- backends: start, populate, where signatures go, gate arguments -----------------------------

backend_registry_start() {
  registry_start plain && DOCKER_REGISTRY_URL="$REGISTRY_URL" DOCKER_REGISTRY_HOST="$REGISTRY_HOST"
}
backend_registry_populate() { push_manifest_images "$@"; }
backend_registry_args() { printf '%s\n' --registry "$DOCKER_REGISTRY_URL"; }
backend_registry_ref() { printf '%s/%s\n' "$DOCKER_REGISTRY_HOST" "$1"; }
# cosign's tag for signatures; attestations as @sigstore/oci pushes them (the tag schema here).
backend_registry_sign() { registry_put_manifest "$1" "$(sig_tag "$2")" "$3"; }
backend_registry_attest() { sigstore attach "$REGISTRY_HOST/$1" "$2" "$DSSE" "$3" >/dev/null; }

REFERRERS_URL=""
backend_referrers_start() {
  bg_start oci_referrers "$FAKES_DIR/oci_referrers" --port 0
  local port
  port="$(wait_first_line "$SCRATCH/oci_referrers.out" "$BG_PID")" || return 1
  REFERRERS_URL="http://127.0.0.1:$port"
  # The image helpers push to REGISTRY_*: this backend's registry from now on.
  REGISTRY_URL="$REFERRERS_URL" REGISTRY_HOST="127.0.0.1:$port"
  export REGISTRY_URL REGISTRY_HOST
}
backend_referrers_populate() { push_manifest_images "$@"; }
backend_referrers_args() { printf '%s\n' --registry "$REFERRERS_URL"; }
backend_referrers_ref() { printf '%s/%s\n' "$REGISTRY_HOST" "$1"; }
backend_referrers_sign() {  # the referrers form, by @sigstore/oci, the signature on the manifest
  local layer
  layer="$(jq -r '.layers[0].digest' "$3")"
  sigstore attach "$REGISTRY_HOST/$1" "$2" "$SIMPLE_SIGNING" "$(dirname "$3")/blobs/sha256/${layer#sha256:}" \
    "dev.cosignproject.cosign/signature=$(jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' "$3")" \
    >/dev/null
}
backend_referrers_attest() { sigstore attach "$REGISTRY_HOST/$1" "$2" "$DSSE" "$3" >/dev/null; }

LAYOUT_DIR="$SCRATCH/layouts"
backend_layout_start() { mkdir -p "$LAYOUT_DIR"; }
backend_layout_populate() { push_manifest_images "$@" --layout "$LAYOUT_DIR"; }
backend_layout_args() { printf '%s\n' --registry "oci-layout:$LAYOUT_DIR"; }
backend_layout_ref() { printf '%s\n' "$1"; }
backend_layout_sign() { layout_put_manifest "$LAYOUT_DIR/$1" "$3" "$(sig_tag "$2")"; }
backend_layout_attest() {  # the referrers form: a manifest whose subject is the digest
  local m
  m="$(att_manifest "$3" "$(mktemp -d "$SCRATCH/att.XXXXXX")" "$SLSA" "$2" 1)" &&
    layout_put_manifest "$LAYOUT_DIR/$1" "$m"
}

ECR_LAYOUTS="$SCRATCH/ecr-layouts"
AKID=AKIAFAKESIGNATURES01
SECRET=signaturesSecretKey0123456789abcdefghijk
e2e_secret "$SECRET"
backend_ecr_start() {
  mkdir -p "$ECR_LAYOUTS"
  jq -nc --arg a "$AKID" --arg s "$SECRET" \
    '{credentials: [{accessKeyId: $a, secretAccessKey: $s}], repositories: {}}' >"$SCRATCH/ecr.json"
  fake_aws_start "$SCRATCH/ecr.json" && fake_aws_env "$AKID" "$SECRET" && unset AWS_ENDPOINT_URL
}
backend_ecr_populate() { push_manifest_images "$@" --layout "$ECR_LAYOUTS" && fake_aws_sync_layouts "$ECR_LAYOUTS"; }
backend_ecr_args() { printf '%s\n' --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1; }
backend_ecr_ref() { printf '123456789012.dkr.ecr.eu-central-1.amazonaws.com/%s\n' "$1"; }
backend_ecr_sign() { layout_put_manifest "$ECR_LAYOUTS/$1" "$3" "$(sig_tag "$2")" && fake_aws_sync_layouts "$ECR_LAYOUTS"; }
backend_ecr_attest() {  # cosign attest's .att tag
  local m
  m="$(att_manifest "$3" "$(mktemp -d "$SCRATCH/att.XXXXXX")" "$SLSA")" &&
    layout_put_manifest "$ECR_LAYOUTS/$1" "$m" "$(att_tag "$2")" && fake_aws_sync_layouts "$ECR_LAYOUTS"
}

sig_tag() { printf 'sha256-%s.sig\n' "${1#sha256:}"; }
att_tag() { printf 'sha256-%s.att\n' "${1#sha256:}"; }

# --- states: one environment prefix and one image salt each ----------------------------------

gate_project "$TEST_DATA/e2e/images-manifest.json"
M="$(gate_variant two '.images |= map(select(.id == "control-center" or .id == "mcp-github"))
  | .ecrRepositories = ["afu9/control-center", "afu9/mcp-github"]
  | .tagging.prefixes = {good: "gd", unsigned: "un", digest: "wd", repo: "wr", stale: "as"}')"
KEYED="$(jq --slurpfile m "$M" -n '$m[0] + {provenance: {signatures: {keys: ["../keys/ours.pub"]}}}' >"$GATE_DIR/keyed.json" && echo "$GATE_DIR/keyed.json")"
IMAGES=(control-center mcp-github)
digest_of() {  # ENV_PREFIX REPO -> the digest pushed for it
  awk -v r="$2" -v t="$1-latest" '$1 == r && $2 == t { d = $3 } END { print d }' "$PUSHED_FILE"
}

# sign_state BACKEND PREFIX KIND : signatures (and attestations) of the state's images.
sign_state() {
  local backend="$1" prefix="$2" kind="$3" repo digest other ref dir payload sig m st env
  for repo in afu9/control-center afu9/mcp-github; do
    digest="$(digest_of "$prefix" "$repo")"
    other="$(digest_of "$prefix" afu9/mcp-github)"
    [ "$repo" != afu9/mcp-github ] || other="$(digest_of "$prefix" afu9/control-center)"
    ref="$("backend_${backend}_ref" "$repo")"
    dir="$(mktemp -d "$SCRATCH/sig.XXXXXX")"
    payload="$dir/payload.json"
    case "$kind" in
      good | stale) simple_signing "$digest" "$ref" ;;
      digest) simple_signing "$other" "$ref" ;;          # signed, but for another digest
      repo) simple_signing "$digest" "${ref%/*}/elsewhere" ;;  # the same digest, another repository
    esac >"$payload"
    sig="$(sign_file "$SCRATCH/keys/ours.key" "$payload")"
    sigstore verify-blob "$payload" "$sig" "$OURS" || { echo "@sigstore/core rejects the signature" >&2; return 1; }
    m="$(sig_manifest "$payload" "$sig" "$dir")"
    "backend_${backend}_sign" "$repo" "$digest" "$m" || return 1
    st="$dir/statement.json"
    slsa_statement "$digest" "$([ "$kind" = stale ] && echo "$OLD_SHA" || echo "$SHA")" >"$st"
    env="$dir/envelope.json"
    dsse_envelope "$SCRATCH/keys/ours.key" "$st" >"$env"
    sigstore verify-dsse "$env" "$OURS" || { echo "@sigstore/core rejects the envelope" >&2; return 1; }
    "backend_${backend}_attest" "$repo" "$digest" "$env" || return 1
  done
}

populate_states() {
  local b="$1" p
  for p in good:gd:good unsigned:un: digest:wd:digest repo:wr:repo stale:as:stale; do
    IFS=: read -r env prefix kind <<<"$p"
    PUSH_SALT="$env" "backend_${b}_populate" "$M" "$env" "$SHA" --revision "$SHA" || return 1
    [ -z "$kind" ] || sign_state "$b" "$prefix" "$kind" || return 1
  done
}

each() {  # SEVERITY CODE SUBJECT : the findings line for both images
  printf '%s %s control-center %s;%s %s mcp-github %s' "$1" "$2" "$3" "$1" "$2" "$3"
}

# name | manifest | env | args (';'-separated) | exit | findings
CASES=(
  "signed|$M|good|--key=$OURS|0|"
  "signed-policy-key|$KEYED|good||0|"
  "another-key|$M|good|--key=$THEIRS|1|$(each error SIGNATURE_INVALID signature)"
  "either-key|$M|good|--key=$THEIRS;--key=$OURS|0|"
  "unsigned|$M|unsigned|--key=$OURS|1|$(each error SIGNATURE_MISSING signature)"
  "another-digest|$M|digest|--key=$OURS|1|$(each error SIGNATURE_INVALID signature)"
  "another-repository|$M|repo|--key=$OURS|1|$(each error SIGNATURE_INVALID signature)"
  "attested|$M|good|--key=$OURS;--require-attestation=$SLSA|0|"
  "attestation-other-commit|$M|stale|--key=$OURS;--require-attestation=$SLSA|1|$(each error PROVENANCE_COMMIT_MISMATCH attestation)"
  "attestation-missing-type|$M|good|--key=$OURS;--require-attestation=$SLSA02|1|$(each error ATTESTATION_MISSING attestation)"
  "unsigned-unattested|$M|unsigned|--key=$OURS;--require-attestation=$SLSA|1|$(each error ATTESTATION_MISSING attestation);$(each error SIGNATURE_MISSING signature)"
)

for backend in "${BACKENDS[@]}"; do
  section "backend $backend: populating and signing"
  "backend_${backend}_start"
  : >"$PUSHED_FILE"
  populate_states "$backend"
  mapfile -t registry_args < <("backend_${backend}_args")
  for case in "${CASES[@]}"; do
    IFS='|' read -r name manifest env args want_exit want_findings <<<"$case"
    section "backend $backend: $name"
    IFS=';' read -r -a extra <<<"$args"
    evidence="$SCRATCH/evidence.$backend.$name.json"
    expect_exit "$want_exit" -- ig_gate -m "$manifest" --env "$env" --sha "$SHA" \
      "${registry_args[@]}" "${extra[@]}" --evidence-out "$evidence"
    expect_eq "$want_findings" \
      "$(jq -r '[.findings[] | "\(.severity) \(.code) \(.image) \(.subject)"] | sort | join(";")' \
        "$evidence")" "$backend $name: findings"
  done
  ev="$SCRATCH/evidence.$backend.attested.json"
  expect_eq "$(openssl pkey -pubin -in "$OURS" -outform DER | sha256sum | cut -d' ' -f1)" \
    "$(evidence_get '.images[0].provenance.signatures.verified[0].keyFingerprint | ltrimstr("sha256:")' "$ev")" \
    "$backend: the evidence names the key's fingerprint (sha256 of its DER public key)"
  expect_eq "$SLSA" "$(evidence_get '.images[0].provenance.attestations.verified[0].predicateType' "$ev")" \
    "$backend: the attestation's predicate type"
  echo "$backend: signature found in: $(evidence_get '.images[0].provenance.signatures.verified[0].where' "$ev")"
done

section "exact messages"
expect_exit 0 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --key "$OURS" \
  --require-attestation "$SLSA"
expect_output_contains "✓ rev ${SHA:0:12}, signed, attested"
expect_exit 1 -- ig_gate -m "$M" --env digest --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --key "$OURS"
expect_output_contains "error[SIGNATURE_INVALID] control-center signature: tag sha256-"
expect_output_contains "the signature is for digest '$(digest_of wd afu9/mcp-github)', not this one"
expect_exit 1 -- ig_gate -m "$M" --env repo --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --key "$OURS"
expect_output_contains "the signature is for repository 'afu9/elsewhere', not 'afu9/control-center'"
expect_exit 1 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --key "$THEIRS"
expect_output_contains "the signature does not verify with any of the keys"
expect_exit 2 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" --key "$M"
expect_stderr_contains "KEY_INVALID: key '$M' is not a PEM public key (-----BEGIN PUBLIC KEY-----)"
# Keys are read before anything connects: a registry that does not exist is never asked.
expect_exit 2 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "http://127.0.0.1:9" --key "$M"
expect_stderr_contains "KEY_INVALID"
expect_exit 2 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" \
  --require-attestation "$SLSA"
expect_stderr_contains "image 'control-center': signatures or attestations are required but no key is given (--key FILE or provenance.signatures.keys)"

section "a registry that fails the referrers call: SIGNATURE_UNVERIFIABLE, exit 1"
curl -sSf -X POST -d '{"referrersStatus": 500}' "$REFERRERS_URL/_fake/faults" >/dev/null
expect_exit 1 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "$REFERRERS_URL" --key "$OURS" \
  --evidence-out "$GATE_EVIDENCE"
expect_eq "$(each error SIGNATURE_UNVERIFIABLE signature)" \
  "$(evidence_get '[.findings[] | "\(.severity) \(.code) \(.image) \(.subject)"] | sort | join(";")')" \
  "unverifiable, never missing"
expect_output_contains "referrers API: "
curl -sSf -X POST -d '{"referrersStatus": 0}' "$REFERRERS_URL/_fake/faults" >/dev/null

section "ECR throttling the .sig lookups: SIGNATURE_UNVERIFIABLE, exit 1"
mapfile -t registry_args < <(backend_ecr_args)
fake_aws_faults '{"throttle":{"count":1000,"operation":"BatchGetImage"}}' >/dev/null
expect_exit 1 -- ig_gate -m "$M" --env good --sha "$SHA" "${registry_args[@]}" --key "$OURS"
expect_output_contains "error[THROTTLED]"
fake_aws_faults '{"throttle":{"count":0}}' >/dev/null

section "a corrupt signature manifest in a layout: SIGNATURE_UNVERIFIABLE, exit 1"
cp -r "$LAYOUT_DIR" "$SCRATCH/corrupt"
d="$(digest_of gd afu9/control-center)"
sigm="$(jq -r --arg t "$(sig_tag "$d")" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$SCRATCH/corrupt/afu9/control-center/index.json")"
chmod u+w "$SCRATCH/corrupt/afu9/control-center/blobs/sha256/${sigm#sha256:}"
printf '{}' >"$SCRATCH/corrupt/afu9/control-center/blobs/sha256/${sigm#sha256:}"
expect_exit 1 -- ig_gate -m "$M" --env good --sha "$SHA" --registry "oci-layout:$SCRATCH/corrupt" \
  --key "$OURS" --evidence-out "$GATE_EVIDENCE"
expect_eq "error SIGNATURE_UNVERIFIABLE control-center signature" \
  "$(evidence_get '[.findings[] | "\(.severity) \(.code) \(.image) \(.subject)"] | join(";")')" \
  "only the corrupt one, and unverifiable"

section "RSA and Ed25519 keys"
for k in rsa ed; do
  dir="$(mktemp -d "$SCRATCH/sig.XXXXXX")"
  for repo in afu9/control-center afu9/mcp-github; do
    digest="$(digest_of un "$repo")"
    simple_signing "$digest" "$repo" >"$dir/p-${repo#afu9/}.json"
    m="$(sig_manifest "$dir/p-${repo#afu9/}.json" "$(sign_file "$SCRATCH/keys/$k.key" "$dir/p-${repo#afu9/}.json")" "$dir")"
    layout_put_manifest "$LAYOUT_DIR/$repo" "$m" "$(sig_tag "$digest")"
  done
  expect_exit 0 -- ig_gate -m "$M" --env unsigned --sha "$SHA" --registry "oci-layout:$LAYOUT_DIR" \
    --key "$SCRATCH/keys/$k.pub"
done

section "requests per image: docker-registry (tag schema), signatures and attestations"
mapfile -t registry_args < <(backend_registry_args)
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$M" --env good --sha "$SHA" "${registry_args[@]}" --key "$OURS"
requests="$(registry_requests_since "$mark")"
echo "docker-registry, --key: $(grep -c . <<<"$requests") requests for 2 images and 6 tags"
echo "$requests" | grep -v '^"HEAD ' | sed 's/sha256[-:][0-9a-f]*/<digest>/g' | sort | uniq -c
expect_eq 4 "$(grep -c '^"HEAD ' <<<"$requests")" "the tag HEADs but each image's first tag"
# Per image: the first tag's GET (the revision reads its manifest), the config blob, then the
# referrers API (404 here), the .sig tag,
# the referrers tag schema's index, the referrer it lists is an attestation (read, not wanted:
# its layer is not fetched), and the signature payload.
expect_eq 14 "$(grep -vc '^"HEAD ' <<<"$requests")" "7 requests per image beyond the HEADs"
mark="$(registry_log_mark)"
expect_exit 0 -- ig_gate -m "$M" --env good --sha "$SHA" "${registry_args[@]}" --key "$OURS" \
  --require-attestation "$SLSA"
requests="$(registry_requests_since "$mark")"
# With attestations, the .att tag (404 here: @sigstore/oci wrote the tag schema) and the envelope.
expect_eq 18 "$(grep -vc '^"HEAD ' <<<"$requests")" "9 requests per image with attestations"

finish
