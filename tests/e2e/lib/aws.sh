# shellcheck shell=bash
# Starts tests/fakes/fake_aws (ECR, ECS, STS on 127.0.0.1) and steers it through its control API
# (tests/fakes/README.md). Needs common.sh.
#
#   fake_aws_start [STATE_FILE]        exports FAKE_AWS_URL, FAKE_AWS_PORT, FAKE_AWS_PID, FAKE_AWS_LOG
#   fake_aws_env AKID SECRET [TOKEN]   exports AWS_* so imagegate and /usr/bin/aws use the fake
#   fake_aws_state                     the whole state (JSON)
#   fake_aws_set_state JSON            replaces it
#   fake_aws_merge_state JSON          JSON merge patch onto it (RFC 7386: arrays are replaced)
#   fake_aws_add_image REPO TAG MANIFEST_FILE [MEDIA_TYPE]
#                                      the image (exact bytes of the file) gets TAG, as a push would
#   fake_aws_faults JSON               {"throttle":{"count":N,"operation":"Op"},"internalFailure":
#                                      {...},"delayMs":M,"clockOffsetSeconds":S}
#   fake_aws_counters                  {"Operation": requests, ...}
#   fake_aws_count OPERATION           requests of one operation (0 if none)
#   fake_aws_reset_counters
#   fake_aws_sync_layouts DIR          the fake's repositories become what the OCI layouts
#                                      DIR/<repository> hold: every tagged manifest (exact bytes)
#                                      and every blob a manifest names, IMMUTABLE

fake_aws_start() {
  [ -x "$FAKES_DIR/fake_aws" ] || {
    echo "error: $FAKES_DIR/fake_aws is not built (cmake --build --preset dev)" >&2
    return 1
  }
  local args=(--port 0 --verbose)
  [ $# -eq 0 ] || args+=(--state "$1")
  bg_start fake_aws "$FAKES_DIR/fake_aws" "${args[@]}"
  FAKE_AWS_PID=$BG_PID
  FAKE_AWS_LOG="$SCRATCH/fake_aws.log"
  FAKE_AWS_PORT="$(wait_first_line "$SCRATCH/fake_aws.out" "$FAKE_AWS_PID")" || {
    cat "$FAKE_AWS_LOG" >&2
    return 1
  }
  FAKE_AWS_URL="http://127.0.0.1:$FAKE_AWS_PORT"
  export FAKE_AWS_PID FAKE_AWS_PORT FAKE_AWS_URL FAKE_AWS_LOG
}

# The region must be the state's ("eu-central-1" unless the state says otherwise): the fake
# rejects signatures scoped to another one, as AWS does.
fake_aws_env() {
  export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2"
  if [ -n "${3:-}" ]; then export AWS_SESSION_TOKEN="$3"; else unset AWS_SESSION_TOKEN; fi
  export AWS_REGION="${FAKE_AWS_REGION:-eu-central-1}" AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
  export AWS_ENDPOINT_URL="$FAKE_AWS_URL"
  e2e_secret "$2"
}

_fake_aws_post() {  # PATH BODY
  local out
  # JSON, not curl's default form encoding (which the server caps at 8 KiB), from stdin, so a
  # large state is no command-line argument.
  if ! out="$(printf '%s' "$2" | curl -sS -X POST -H 'Content-Type: application/json' \
    --data-binary @- -w '\n%{http_code}' "$FAKE_AWS_URL$1")" ||
    [ "${out##*$'\n'}" != 200 ]; then
    echo "error: fake_aws rejected POST $1: $out" >&2
    return 1
  fi
}

fake_aws_state() { curl -sSf "$FAKE_AWS_URL/_fake/state"; }
fake_aws_set_state() { _fake_aws_post /_fake/state "$1"; }
fake_aws_merge_state() { _fake_aws_post "/_fake/state?merge=1" "$1"; }
fake_aws_faults() { _fake_aws_post /_fake/faults "$1"; }
fake_aws_counters() { curl -sSf "$FAKE_AWS_URL/_fake/counters"; }
fake_aws_count() { fake_aws_counters | jq -r --arg op "$1" '.[$op] // 0'; }
fake_aws_reset_counters() { _fake_aws_post /_fake/reset-counters '{}'; }

fake_aws_add_image() {
  local repo="$1" tag="$2" file="$3" media_type="${4:-}" state
  state="$(fake_aws_state | jq --arg r "$repo" --arg t "$tag" --rawfile m "$file" \
    --arg mt "$media_type" '
      .repositories[$r] //= {"images": []}
      | .repositories[$r].images |= map(.tags -= [$t])
      | if any(.repositories[$r].images[]; .manifest == $m)
        then .repositories[$r].images |= map(if .manifest == $m then .tags += [$t] else . end)
        else .repositories[$r].images += [{"manifest": $m, "tags": [$t]}
                                          + (if $mt == "" then {} else {"mediaType": $mt} end)]
        end')"
  fake_aws_set_state "$state"
}

fake_aws_sync_layouts() {
  local root="$1" repos='{}' dir name
  while IFS= read -r dir; do
    dir="${dir%/oci-layout}"
    name="${dir#"$root"/}"
    repos="$(jq -c --arg r "$name" --argjson entry "$(_fake_aws_layout_json "$dir")" \
      '.[$r] = $entry' <<<"$repos")" || return 1
  done < <(find "$root" -name oci-layout | sort)
  fake_aws_merge_state "$(jq -nc --argjson r "$repos" '{repositories: $r}')" >/dev/null
}

_fake_aws_layout_json() {  # LAYOUT_DIR
  local dir="$1" images='[]' blobs='[]' digest tags media manifest blob
  while IFS=$'\t' read -r digest media tags; do
    manifest="$dir/blobs/sha256/${digest#sha256:}"
    images="$(jq -c --rawfile m "$manifest" --arg t "$tags" --arg mt "$media" \
      '. + [{manifest: $m, mediaType: $mt, tags: ($t | split(","))}]' <<<"$images")" || return 1
    for blob in $(jq -r '[.config.digest?, (.layers[]? | select(.mediaType | test("json")) | .digest)]
        | .[] | select(. != null)' "$manifest"); do
      blobs="$(jq -c --rawfile b "$dir/blobs/sha256/${blob#sha256:}" '. + [$b] | unique' \
        <<<"$blobs")" || return 1
    done
  done < <(jq -r '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"])
        | {d: .digest, m: .mediaType, t: .annotations["org.opencontainers.image.ref.name"]}]
      | group_by(.d)[] | [.[0].d, .[0].m, (map(.t) | join(","))] | @tsv' "$dir/index.json")
  jq -nc --argjson i "$images" --argjson b "$blobs" \
    '{imageTagMutability: "IMMUTABLE", images: $i, blobs: $b}'
}

# fake_digest N: "sha256:" and 64 times the character N.
fake_digest() { printf 'sha256:%s' "$(printf "$1%.0s" $(seq 64))"; }

# ecr_pass_evidence OUT [jq filter] [manifest]: passed evidence of the example manifest ($M) for
# production at $SHA, each image on its own digest (1..4) in the ECR registry $REG; the filter
# changes it.
ecr_pass_evidence() {
  local out=$1 filter=${2:-.} manifest=${3:-$M}
  jq -n --arg path "$manifest" --arg msha "$(sha256sum "$manifest" | cut -d' ' -f1)" --arg sha "$SHA" \
    --arg reg "$REG" --arg d1 "$(fake_digest 1)" --arg d2 "$(fake_digest 2)" \
    --arg d3 "$(fake_digest 3)" --arg d4 "$(fake_digest 4)" '
    def img($id; $d): {id: $id, repository: ("afu9/" + $id), repositoryUri: ($reg + "/afu9/" + $id),
      container: $id, required: true, status: "pass", digest: $d, pinnedReference: ($reg + "/afu9/" + $id + "@" + $d),
      tags: [], requiredPlatforms: [], platforms: [], findings: []};
    {schemaVersion: 1, tool: "imagegate test", manifest: {path: $path, sha256: $msha}, env: "production",
     sha: $sha, registry: "ecr", time: "2026-11-28T01:00:00Z", verdict: "pass",
     images: [img("control-center"; $d1), img("mcp-github"; $d2), img("mcp-deploy"; $d3),
              img("mcp-observability"; $d4)], findings: []}' | jq "$filter" >"$out"
}
