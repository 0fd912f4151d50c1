#!/usr/bin/env bash
# The opt-in scan gate against ECR: the built binary against the fake AWS (tests/fakes/fake_aws)
# on 127.0.0.1, the afu9 example's four repositories, each image with a scan result in the state
# (DescribeImageScanFindings in the basic and the enhanced shape, paginated). Every case with its
# exact finding code and exit code, and the requests counted in the fake's counters: none when
# the scan gate is off, one DescribeImageScanFindings per image digest plus one per further page
# when it is on.
source "${E2E_LIB:?}/common.sh"
source "$E2E_LIB/aws.sh"
source "$E2E_LIB/images.sh"
require_cmd jq curl sha256sum umoci skopeo

AKID=AKIAFAKEGATESCAN0001
SECRET=gateScanSecretKey0123456789abcdefghijklm
SHA=0123456789abcdef0123456789abcdef01234567
SHORT=${SHA:0:7}
EXAMPLE=$SOURCE_DIR/examples/afu9
M=$EXAMPLE/images-manifest.json
REPOS=(afu9/control-center afu9/mcp-github afu9/mcp-deploy afu9/mcp-observability)
TAGS=("prod-$SHA" "prod-$SHORT" "prod-latest")
e2e_secret "$SECRET"

sha256_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
config_of() {
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"repository":"%s","org.opencontainers.image.revision":"%s"}}}' \
    "$1" "$SHA"
}
manifest_of() {
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}' \
    "$(sha256_of "$1")" "${#1}"
}

# A completed basic scan without findings, as ECR answers one.
CLEAN='{"imageScanStatus":{"status":"COMPLETE","description":"The scan was completed successfully."},
  "imageScanFindings":{"imageScanCompletedAt":1764547200,"vulnerabilitySourceUpdatedAt":1764540000,
  "findingSeverityCounts":{},"findings":[]}}'

repositories_json() {
  local repos='{}' r cfg man
  for r in "${REPOS[@]}"; do
    cfg="$(config_of "$r")"
    man="$(manifest_of "$cfg")"
    repos="$(jq -c --arg r "$r" --arg c "$cfg" --arg m "$man" --arg t1 "${TAGS[0]}" \
      --arg t2 "${TAGS[1]}" --arg t3 "${TAGS[2]}" --argjson s "$CLEAN" \
      '.[$r] = {imageTagMutability: "IMMUTABLE", images: [{manifest: $m, tags: [$t1, $t2, $t3], scan: $s}],
                blobs: [$c]}' <<<"$repos")"
  done
  printf '%s\n' "$repos"
}

BASE_STATE="$(jq -nc --arg a "$AKID" --arg s "$SECRET" --argjson r "$(repositories_json)" \
  '{credentials: [{accessKeyId: $a, secretAccessKey: $s}], repositories: $r}')"

# basic_scan COUNTS_JSON SEVERITY... : a completed basic scan with these findings listed.
basic_scan() {
  local counts="$1"
  shift
  jq -nc --argjson c "$counts" --args '{imageScanStatus: {status: "COMPLETE", description: "The scan was completed successfully."},
    imageScanFindings: {imageScanCompletedAt: 1764547200, findingSeverityCounts: $c,
      findings: [$ARGS.positional | to_entries[] | {name: "CVE-2026-\(1000 + .key)", severity: .value,
        uri: "https://security-tracker.debian.org/tracker/CVE-2026-\(1000 + .key)",
        attributes: [{key: "package_name", value: "openssl"}]}]}}' "$@"
}
# enhanced_scan SEVERITY... : continuous enhanced scanning (Amazon Inspector) with these findings.
enhanced_scan() {
  jq -nc --args '{imageScanStatus: {status: "ACTIVE", description: "Continuous scan is selected."},
    imageScanFindings: {imageScanCompletedAt: 1764547200,
      findingSeverityCounts: ($ARGS.positional | group_by(.) | map({(.[0]): length}) | add // {}),
      enhancedFindings: [$ARGS.positional | to_entries[] | {awsAccountId: "123456789012",
        findingArn: "arn:aws:inspector2:eu-central-1:123456789012:finding/f\(.key)",
        description: "a flaw", severity: .value, status: "ACTIVE", type: "PACKAGE_VULNERABILITY",
        title: "CVE-2026-\(2000 + .key) - libfoo", score: 7.5,
        packageVulnerabilityDetails: {vulnerabilityId: "CVE-2026-\(2000 + .key)", source: "NVD"}}]}}' "$@"
}
status_scan() {  # STATUS DESCRIPTION : a scan without findings in that status
  jq -nc --arg s "$1" --arg d "$2" '{imageScanStatus: {status: $s, description: $d}}'
}

# set_scans [REPO=SCAN_JSON|REPO=none]... : the base state with these scans (none: never
# scanned), no faults, zero counters.
set_scans() {
  local state="$BASE_STATE" pair
  for pair in "$@"; do
    if [ "${pair#*=}" = none ]; then
      state="$(jq -c --arg r "${pair%%=*}" 'del(.repositories[$r].images[0].scan)' <<<"$state")"
    else
      state="$(jq -c --arg r "${pair%%=*}" --argjson s "${pair#*=}" \
        '.repositories[$r].images[0].scan = $s' <<<"$state")"
    fi
  done
  fake_aws_set_state "$state" >/dev/null
  fake_aws_faults '{"throttle":{"count":0},"internalFailure":{"count":0},"delayMs":0}' >/dev/null
  fake_aws_reset_counters >/dev/null
}

manifest_variant() {  # NAME JQ_FILTER
  jq "$2" "$M" >"$SCRATCH/$1.json"
  printf '%s\n' "$SCRATCH/$1.json"
}
SCANNED="$(manifest_variant scanned '.scan = {maxSeverity: "HIGH"}')"

gate() {  # MANIFEST ARGS...
  local manifest="$1"
  shift
  "$IMAGEGATE" gate -m "$manifest" --root "$EXAMPLE" --env production --sha "$SHA" --no-color \
    --registry ecr --endpoint-url "$FAKE_AWS_URL" --region eu-central-1 \
    --evidence-out "$SCRATCH/evidence.json" "$@"
}
ev() { jq -r "$1" "$SCRATCH/evidence.json"; }
scans() { fake_aws_count DescribeImageScanFindings; }
finding_count() { grep -c "error\[$1\]" "$LAST_OUT" || true; }

printf '%s' "$BASE_STATE" >"$SCRATCH/state.json"
fake_aws_start "$SCRATCH/state.json"
fake_aws_env "$AKID" "$SECRET"
unset AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true

section "off by default: no DescribeImageScanFindings request"
set_scans afu9/mcp-deploy="$(basic_scan '{"CRITICAL":1}' CRITICAL)"
expect_exit 0 -- gate "$M"
expect_eq 0 "$(scans)" "no DescribeImageScanFindings without a scan policy"
expect_eq 4 "$(fake_aws_count BatchGetImage)" "the tag checks ran as always"
expect_eq 0 "$(ev '[.images[] | select(has("scan"))] | length')" "no scan record in the evidence"

section "clean scans under maxSeverity HIGH from the manifest"
set_scans
expect_exit 0 -- gate "$SCANNED"
expect_eq 4 "$(scans)" "one DescribeImageScanFindings per image digest"
expect_eq "pass pass pass pass" "$(ev '[.images[].scan.status] | join(" ")')" "every image's scan passed"
expect_eq "HIGH manifest COMPLETE 1" \
  "$(ev '.images[0].scan | "\(.maxSeverity) \(.policySource) \(.scanStatus) \(.pages)"')" \
  "the threshold, where it came from, ECR's status, the pages read"
expect_eq "1764547200" "$(ev '.images[0].scan.completedAt')" "imageScanCompletedAt recorded"

section "a MEDIUM finding under a HIGH threshold passes, its counts recorded"
set_scans afu9/mcp-github="$(basic_scan '{"MEDIUM":2,"LOW":1}' MEDIUM MEDIUM LOW)"
expect_exit 0 -- gate "$SCANNED"
expect_not_contains VULNERABILITIES_FOUND
expect_eq '{"LOW":1,"MEDIUM":2} {} 3' \
  "$(ev '.images[] | select(.id == "mcp-github") | .scan | "\(.severityCounts | tojson) \(.failingCounts | tojson) \(.findingsListed)"')" \
  "the counts per severity are in the evidence, none failing"
expect_eq 4 "$(scans)" "one request per image digest"

section "a HIGH finding over a HIGH threshold"
set_scans afu9/mcp-deploy="$(basic_scan '{"HIGH":1,"CRITICAL":1,"MEDIUM":3}' HIGH CRITICAL MEDIUM MEDIUM MEDIUM)"
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "error[VULNERABILITIES_FOUND] mcp-deploy scan: "
expect_output_contains "has 2 findings at or above HIGH: CRITICAL 1, HIGH 1 (all findings: CRITICAL 1, HIGH 1, MEDIUM 3; basic scan, COMPLETE)"
expect_eq 1 "$(finding_count VULNERABILITIES_FOUND)" "one finding for the one image"
expect_eq "fail" "$(ev .verdict)" "the verdict fails"
expect_eq '{"CRITICAL":1,"HIGH":1} null' \
  "$(ev '.images[] | select(.id == "mcp-deploy") | "\(.scan.failingCounts | tojson) \(.digest)"')" \
  "the failing counts in the evidence; the image has no digest to pin"
expect_eq "pass pass fail pass" "$(ev '[.images[].scan.status] | join(" ")')" "every image reported"
expect_exit 1 -- "$IMAGEGATE" pin -m "$SCANNED" --evidence "$SCRATCH/evidence.json" \
  --task-def "$EXAMPLE/task-definition.json" --allow-unmanaged log-router -o "$SCRATCH/pinned.json"
expect_output_contains "error[EVIDENCE_NOT_PASSED] verdict: the evidence's verdict is 'fail'"
expect_output_contains "error[IMAGE_NOT_VERIFIED] mcp-deploy mcp-deploy"

section "scans still running: SCAN_PENDING for each, never stopping at the first"
set_scans afu9/control-center="$(status_scan IN_PROGRESS "The scan is in progress.")" \
  afu9/mcp-observability="$(status_scan PENDING "The scan is pending.")"
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "error[SCAN_PENDING] control-center scan: the scan of sha256:"
expect_output_contains "is IN_PROGRESS (The scan is in progress.): not judged until it completes"
expect_output_contains "error[SCAN_PENDING] mcp-observability scan: "
expect_output_contains "is PENDING (The scan is pending.)"
expect_eq 2 "$(finding_count SCAN_PENDING)" "both images reported"
expect_eq "pending pass pass pending" "$(ev '[.images[].scan.status] | join(" ")')" "scan status per image"

section "failed scans: FAILED, UNSUPPORTED_IMAGE, never scanned, an unknown status"
set_scans afu9/control-center="$(status_scan FAILED "UnsupportedImageError: the scan failed")" \
  afu9/mcp-github="$(status_scan UNSUPPORTED_IMAGE "The operating system is not supported.")" \
  afu9/mcp-deploy=none \
  afu9/mcp-observability="$(status_scan SOMETHING_NEW "a status this build does not know")"
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "error[SCAN_FAILED] control-center scan: "
expect_output_contains "cannot be judged: the scan status is FAILED: UnsupportedImageError: the scan failed"
expect_output_contains "cannot be judged: the scan status is UNSUPPORTED_IMAGE: The operating system is not supported."
expect_output_contains "cannot be judged: no scan exists for this image (ScanNotFoundException)"
expect_output_contains "cannot be judged: the scan status is SOMETHING_NEW: a status this build does not know"
expect_eq 4 "$(finding_count SCAN_FAILED)" "every image reported"

section "an answer whose shape is not understood fails"
set_scans afu9/mcp-github='{"imageScanStatus":{"status":"COMPLETE"},"imageScanFindings":{"findings":[{"name":"CVE-1"}]}}'
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "error[SCAN_FAILED] mcp-github scan: "
expect_output_contains "answered an entry of imageScanFindings.findings without a severity"

section "enhanced findings (Amazon Inspector, continuous scanning)"
set_scans afu9/control-center="$(enhanced_scan CRITICAL HIGH LOW)" afu9/mcp-github="$(enhanced_scan MEDIUM)"
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "error[VULNERABILITIES_FOUND] control-center scan: "
expect_output_contains "has 2 findings at or above HIGH: CRITICAL 1, HIGH 1 (all findings: CRITICAL 1, HIGH 1, LOW 1; enhanced scan, ACTIVE)"
expect_eq 1 "$(finding_count VULNERABILITIES_FOUND)" "the MEDIUM one passes"
expect_eq "enhanced ACTIVE pass" \
  "$(ev '.images[] | select(.id == "mcp-github") | .scan | "\(.findingsShape) \(.scanStatus) \(.status)"')" \
  "the enhanced shape under the threshold passes"

section "UNDEFINED findings of basic scanning fail at every threshold"
set_scans afu9/mcp-github="$(basic_scan '{"UNDEFINED":1}' UNDEFINED)"
expect_exit 1 -- gate "$SCANNED" --max-severity CRITICAL
expect_output_contains "has 1 finding at or above CRITICAL: UNDEFINED 1"

section "pagination: every page read, counted once"
fives="$(basic_scan '{"LOW":5}' LOW LOW LOW LOW LOW)"
set_scans afu9/mcp-deploy="$fives"
fake_aws_merge_state '{"scanFindingsPageSize":2}' >/dev/null
expect_exit 0 -- gate "$SCANNED"
expect_eq 6 "$(scans)" "3 images one page each, the one with 5 findings 3 pages of 2"
expect_eq '3 5 {"LOW":5}' \
  "$(ev '.images[] | select(.id == "mcp-deploy") | .scan | "\(.pages) \(.findingsListed) \(.severityCounts | tojson)"')" \
  "pages and findings in the evidence"
# The listed findings over pages count, not only the reported totals.
set_scans afu9/mcp-deploy="$(basic_scan '{}' LOW LOW HIGH LOW HIGH)" \
  afu9/mcp-github="$(enhanced_scan LOW LOW LOW CRITICAL)"
fake_aws_merge_state '{"scanFindingsPageSize":2}' >/dev/null
expect_exit 1 -- gate "$SCANNED"
expect_output_contains "has 2 findings at or above HIGH: HIGH 2 (all findings: HIGH 2, LOW 3; basic scan, COMPLETE)"
expect_output_contains "has 1 finding at or above HIGH: CRITICAL 1 (all findings: CRITICAL 1, LOW 3; enhanced scan, ACTIVE)"
expect_eq 7 "$(scans)" "1 + 3 pages + 2 pages + 1"

section "--max-severity overrides the manifest"
set_scans afu9/mcp-github="$(basic_scan '{"MEDIUM":2}' MEDIUM MEDIUM)" \
  afu9/mcp-deploy="$(basic_scan '{"HIGH":1}' HIGH)"
expect_exit 1 -- gate "$SCANNED" --max-severity MEDIUM
expect_eq 2 "$(finding_count VULNERABILITIES_FOUND)" "MEDIUM and HIGH both fail at MEDIUM"
expect_eq "MEDIUM --max-severity" "$(ev '.images[0].scan | "\(.maxSeverity) \(.policySource)"')" \
  "the evidence names the command line as the source"
set_scans afu9/mcp-deploy="$(basic_scan '{"HIGH":1}' HIGH)"
expect_exit 0 -- gate "$SCANNED" --max-severity CRITICAL
expect_eq 4 "$(scans)" "still read, judged at CRITICAL"
set_scans afu9/mcp-deploy="$(basic_scan '{"HIGH":1}' HIGH)"
expect_exit 1 -- gate "$M" --max-severity HIGH
expect_output_contains "error[VULNERABILITIES_FOUND] mcp-deploy scan: "
expect_eq 4 "$(scans)" "--max-severity alone switches the scan gate on"

section "a bad severity is an input error (exit 2) before anything is asked"
set_scans
typo="$(manifest_variant typo '.scan = {maxSeverity: "HIHG"}')"
expect_exit 2 -- gate "$typo"
expect_stderr_contains "manifest scan.maxSeverity 'HIHG' is not a severity; expected one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL (a misspelt severity would switch the scan gate off)"
expect_exit 2 -- gate "$typo" --max-severity HIGH
expect_stderr_contains "manifest scan.maxSeverity 'HIHG' is not a severity"
expect_exit 2 -- gate "$M" --max-severity high
expect_stderr_contains "--max-severity 'high' is not a severity; expected one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"
misspelt_key="$(manifest_variant misspelt '.scan = {maxSeverty: "HIGH"}')"
expect_exit 2 -- gate "$misspelt_key"
expect_stderr_contains "manifest \"scan\" must be an object with \"maxSeverity\""
expect_eq 0 "$(fake_aws_counters | jq '[.[]] | add // 0')" "no AWS request for an input error"
expect_exit 1 -- "$IMAGEGATE" validate -m "$typo" --root "$EXAMPLE" --no-color
expect_output_contains "SCHEMA_VIOLATION"
expect_output_contains "/scan/maxSeverity"

section "a scan request that errors never passes"
set_scans
fake_aws_merge_state '{"unavailableOperations":{"DescribeImageScanFindings":"AccessDeniedException"}}' >/dev/null
expect_exit 1 -- gate "$SCANNED"
expect_eq 4 "$(finding_count SCAN_FAILED)" "every image reported"
expect_output_contains "cannot be judged: the call failed: ecr DescribeImageScanFindings: AccessDeniedException"
set_scans
fake_aws_faults '{"throttle":{"count":100,"operation":"DescribeImageScanFindings"}}' >/dev/null
expect_exit 1 -- gate "$SCANNED"
expect_eq 4 "$(finding_count SCAN_FAILED)" "throttled after every attempt: every image fails"
expect_output_contains "ThrottlingException"
expect_eq 12 "$(scans)" "3 attempts per image digest (AWS_MAX_ATTEMPTS default)"
expect_not_contains "$SECRET"

section "the reports render the new codes"
set_scans afu9/mcp-deploy="$(basic_scan '{"HIGH":1}' HIGH)" afu9/mcp-github="$(status_scan IN_PROGRESS "")"
expect_exit 1 -- gate "$SCANNED" --report markdown="$SCRATCH/summary.md" --report junit="$SCRATCH/junit.xml" \
  --report github="$SCRATCH/annotations.txt" --report html="$SCRATCH/report.html"
for f in summary.md junit.xml annotations.txt report.html; do
  expect_eq 1 "$(grep -c VULNERABILITIES_FOUND "$SCRATCH/$f" | awk '{print ($1 > 0)}')" "$f names VULNERABILITIES_FOUND"
  expect_eq 1 "$(grep -c SCAN_PENDING "$SCRATCH/$f" | awk '{print ($1 > 0)}')" "$f names SCAN_PENDING"
done
expect_eq 1 "$(grep -c '<testcase classname="[^"]*mcp-deploy" name="scan"' "$SCRATCH/junit.xml")" \
  "JUnit: a scan testcase for the image"

section "another registry: one SCAN_UNAVAILABLE, the gate fails closed"
push_manifest_images "$M" production "$SHA" --layout "$SCRATCH/layouts" >/dev/null
layout_gate() {
  "$IMAGEGATE" gate -m "$1" --root "$EXAMPLE" --env production --sha "$SHA" --no-color \
    --registry "oci-layout:$SCRATCH/layouts" --evidence-out "$SCRATCH/evidence.json" "${@:2}"
}
expect_exit 0 -- layout_gate "$M"
expect_exit 1 -- layout_gate "$SCANNED"
expect_output_contains "error[SCAN_UNAVAILABLE] scan: a scan policy is set (maxSeverity HIGH from manifest) but scan findings are only available from ECR, not from oci-layout:"
expect_eq 1 "$(finding_count SCAN_UNAVAILABLE)" "one finding for the whole gate"
expect_eq "fail 0" "$(ev '"\(.verdict) \([.images[] | select(.status != "pass")] | length)"')" \
  "the verdict fails; the images' own checks passed"
expect_exit 1 -- layout_gate "$M" --max-severity CRITICAL
expect_output_contains "maxSeverity CRITICAL from --max-severity"
finish
