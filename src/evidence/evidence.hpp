// The evidence document `gate` writes and `pin` / `verify` read: the digests verified before the
// deploy are the ones pinned and the ones checked after it. Versioned; schema in
// schema/evidence.schema.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "findings/findings.hpp"
#include "util/error.hpp"

namespace imagegate::evidence {

inline constexpr int kSchemaVersion = 1;

struct TagEvidence {
  std::string tag;
  std::string status;  // "found" | "missing" | "error"
  std::string digest;  // when found
  std::string media_type;
};

// What the provenance step found for an image's digest (present when a policy applied).
struct RevisionEvidence {
  std::string where;  // "config label of linux/amd64 (sha256:...)", "index annotation", ...
  std::string value;
};

struct SignatureEvidence {
  std::string key_fingerprint;  // "sha256:" of the DER public key
  std::string where;  // "referrers API", "layout subject scan", "referrers tag …", "tag ….sig"
  std::string manifest;  // the signature manifest's digest
};

struct AttestationEvidence {
  std::string predicate_type;
  std::string digest;  // the DSSE envelope's digest
  std::string where;
  std::string key_fingerprint;
};

// A Sigstore bundle that verified (keyless): who signed, what Fulcio's certificate says about
// the build, and the transparency-log entry.
struct KeylessEvidence {
  std::string where;     // as SignatureEvidence
  std::string manifest;  // the bundle's artifact manifest
  std::string bundle;    // the bundle layer's digest
  std::string kind;      // "dsseEnvelope" | "messageSignature"
  std::string predicate_type;
  std::string subject;  // the certificate's SAN
  std::string issuer;   // the OIDC issuer
  std::string source_repository;
  std::string source_digest;
  std::string source_ref;
  std::string build_signer;
  std::string build_trigger;
  std::string run_invocation;
  std::int64_t log_index = -1;
  std::string integrated_time;  // RFC 3339, UTC; empty (and log_index -1) without a log entry
  std::string log_id;           // hex
  std::vector<std::string> timestamps;  // the verified RFC 3161 timestamps, RFC 3339, UTC
};

struct ProvenanceEvidence {
  bool checked = false;
  std::string status;                       // "pass" | "fail"
  std::string digest;                       // the digest that was judged
  std::string revision_policy;              // "required" | "if-present" | "off"
  std::string revision;                     // the revision found (every source agreed), else empty
  std::vector<RevisionEvidence> revisions;  // every value read
  bool signatures_required = false;
  std::vector<SignatureEvidence> signatures;       // every signature that verified
  std::vector<std::string> attestations_required;  // predicate types
  std::vector<AttestationEvidence> attestations;   // every attestation that verified
  std::vector<std::string> identities_required;    // keyless: the identities, described
  std::vector<KeylessEvidence> keyless;            // every bundle that verified
};

// What the scan gate read for an image's digest (present when a scan policy applied and the
// image's tags resolved to one digest).
struct ScanEvidence {
  bool checked = false;
  std::string status;         // "pass" | "fail" | "pending"
  std::string digest;         // the digest whose scan was read
  std::string max_severity;   // the threshold: findings at or above it fail
  std::string policy_source;  // "--max-severity" | "manifest"
  std::string scan_status;    // the registry's, e.g. "COMPLETE"; "" when none was read
  std::string description;
  std::string kind;                          // "basic" | "enhanced" | ""
  std::map<std::string, long long> counts;   // findings per severity
  std::map<std::string, long long> failing;  // those at or above the threshold
  std::size_t findings_listed = 0;
  int pages = 0;  // DescribeImageScanFindings answers read
  std::string completed_at;
};

struct ImageEvidence {
  std::string id;
  std::string repository;      // manifest name, e.g. "afu9/control-center"
  std::string repository_uri;  // usable in a task definition, e.g. "127.0.0.1:5000/afu9/x"
  std::string container;       // taskDefContainerName
  bool required = true;
  // "pass": every tag found on one digest (and platforms ok); "fail"; "absent": an optional
  // image that is not there at all (a warning).
  std::string status;
  std::string digest;  // the one digest all tags name, when status == "pass"
  std::vector<TagEvidence> tags;
  std::vector<std::string> required_platforms;
  std::vector<std::string> platforms;  // found
  std::vector<findings::Finding> findings;
  ProvenanceEvidence provenance;
  ScanEvidence scan;

  // "<repository_uri>@<digest>"
  std::string pinned_reference() const { return repository_uri + "@" + digest; }
};

// An image conditionalOn left out of this deploy (not gated, not expected by pin or verify).
struct ExcludedImage {
  std::string id;
  std::string container;
  std::string reason;
};

struct Evidence {
  int schema_version = kSchemaVersion;
  std::string tool;  // "imagegate <version> (<commit>)"
  std::string manifest_path;
  std::string manifest_sha256;
  std::string env;                    // canonical: a key of tagging.prefixes
  std::string sha;                    // empty when a semantic-version deploy gave none
  std::string version;                // --version without the leading v, when given
  std::vector<std::string> features;  // enabled for conditionalOn.feature
  std::string registry;               // as given, without credentials
  std::string time;                   // RFC 3339, UTC
  // "pass" | "fail" | "skipped" (SKIP_IMAGE_GATE=true: nothing was checked; pin refuses it)
  std::string verdict;
  std::vector<ImageEvidence> images;
  std::vector<ExcludedImage> excluded;
  std::vector<findings::Finding> findings;  // every finding of the gate

  const ImageEvidence* find_image(std::string_view id) const;
};

// Rebuilds the evidence's findings (image order) and verdict from its images, after a later step
// (provenance) changed them.
void recompute_verdict(Evidence& evidence);

nlohmann::json to_json(const Evidence& evidence);

// Reads a document written by to_json. Errors: EVIDENCE_INVALID (with the field) for a
// document that is not evidence or has an unknown schema version.
Result<Evidence> from_json(const nlohmann::json& document);

// Reads and parses the file; EVIDENCE_UNREADABLE / EVIDENCE_INVALID_JSON (line, column) /
// EVIDENCE_INVALID.
Result<Evidence> load(const std::filesystem::path& path);

// load's reading of the file's text (for tests and fuzzing); `path` is only for messages.
Result<Evidence> parse(std::string_view text, const std::filesystem::path& path);

// Current time as RFC 3339 UTC, e.g. "2026-11-28T01:02:03Z".
std::string now_rfc3339();

}  // namespace imagegate::evidence
