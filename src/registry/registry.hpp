// Registry backends behind one batch interface: the gate gives every (repository, tags) query at
// once, so each backend can use its best access pattern (ECR: 100 ids per BatchGetImage; OCI:
// concurrent requests over pooled connections; oci-layout: files on disk).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace imagegate::registry {

// "os/architecture[/variant]", e.g. "linux/amd64", "linux/arm64/v8".
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string to_string() const;
  static Result<Platform> parse(std::string_view text);
  // True when this (found) platform satisfies the wanted one: os and architecture equal, variant
  // equal when wanted names one.
  bool satisfies(const Platform& wanted) const;
  bool operator==(const Platform&) const = default;
};

struct TagQuery {
  std::string repository;         // e.g. "afu9/control-center"
  std::vector<std::string> tags;  // every expected tag
  // When true, the backend reports the platforms of each found manifest: the entries of an
  // index/list, or the os/architecture of a single manifest's config blob (read, not guessed).
  bool want_platforms = false;
  // The platforms the caller requires; check_children() reads the child manifest of every index
  // entry that claims one of them.
  std::vector<Platform> platforms{};
  // When true, the backend keeps the bytes of a found manifest where it reads them anyway (ECR's
  // BatchGetImage) or reads them in place of a HEAD (OCI: a GET for the first tag), so the
  // provenance step does not ask for them again.
  bool want_manifest = false;
};

// One runnable entry of an image index (attestation entries are left out).
struct IndexEntry {
  std::string digest{};
  std::string media_type{};
  Platform platform{};
};

// What reading one index entry's child manifest and config showed, for one required platform.
// error.code empty: the child is there, is a single image, and its config names the platform the
// entry claims. Otherwise CHILD_MISSING, PLATFORM_MISMATCH or the code of a failed read.
struct ChildCheck {
  Platform wanted{};
  IndexEntry entry{};
  Platform actual{};  // from the child's config, when it was read
  Error error{};
};

enum class TagStatus { kFound, kMissing, kError };

struct TagResult {
  std::string tag;
  TagStatus status = TagStatus::kError;
  std::string digest;               // "sha256:..." when found
  std::string media_type;           // manifest media type when found
  std::vector<Platform> platforms;  // when want_platforms and found
  Error error;  // when status == kError: code (UNREACHABLE, AUTH_FAILED, BAD_RESPONSE...) + message
  std::vector<IndexEntry> entries{};   // when want_platforms and found and an index
  std::vector<ChildCheck> children{};  // filled by check_children()
  // Where the registry tells (ECR's DescribeImages imageStatus): ACTIVE, ARCHIVED, ACTIVATING.
  // Empty when the backend has no such notion; anything but ACTIVE cannot be pulled.
  std::string image_status{};
  std::string manifest{};  // want_manifest: the manifest's bytes, when the backend has them
};

enum class RepositoryStatus { kExists, kMissing, kError };

struct RepositoryResult {
  std::string repository;
  RepositoryStatus status = RepositoryStatus::kError;
  // Reference usable in a task definition, e.g. "123.dkr.ecr.eu-central-1.amazonaws.com/afu9/x"
  // or "ghcr.io/org/x".
  std::string uri;
  std::vector<TagResult> tags;  // one per queried tag, in query order (empty when missing/error)
  Error error;                  // when status == kError
  // Non-failing observations, e.g. "tag mutability MUTABLE with a moving tag" (code + message).
  std::vector<Error> warnings;
};

// One piece of content fetched by reference, for the provenance step (labels, annotations,
// signatures, attestations): a manifest by tag or digest, a blob by digest, or the referrers of
// a digest (OCI 1.1).
enum class ContentKind { kManifest, kBlob, kReferrers };

struct ContentRequest {
  std::string repository;
  ContentKind kind = ContentKind::kManifest;
  std::string reference;      // kManifest: tag or digest; kBlob: digest; kReferrers: subject digest
  std::string artifact_type;  // kReferrers: the artifactType filter, may be empty
};

// kMissing: the registry answered that it is not there. kUnsupported: kReferrers only, the
// registry has no referrers API (404 on the endpoint), the caller falls back to the tag schema.
// kError: no conclusive answer (network, auth, throttling, an odd answer): never "missing".
enum class ContentStatus { kFound, kMissing, kUnsupported, kError };

struct ContentResult {
  ContentStatus status = ContentStatus::kError;
  std::string body;        // kFound: the exact bytes (a kReferrers answer is an image index)
  std::string digest;      // kFound manifest/blob: sha256 of body, equal to a digest reference
  std::string media_type;  // kFound: as served, without parameters
  Error error;             // kError: code + message
};

// One gated digest whose vulnerability scan is read (the opt-in scan gate).
struct ScanRequest {
  std::string repository;
  std::string digest;
};

// kComplete: the scan's findings are final (ECR: COMPLETE, or ACTIVE for continuous enhanced
// scanning). kPending: still running (IN_PROGRESS, PENDING). kFailed: no usable result (FAILED,
// UNSUPPORTED_IMAGE, FINDINGS_UNAVAILABLE, no scan at all, a status or shape not understood, a
// call that failed): never a pass. kUnsupported: the backend has no scan results.
enum class ScanState { kComplete, kPending, kFailed, kUnsupported };

struct ScanResult {
  ScanState state = ScanState::kFailed;
  std::string status;       // the registry's own scan status, e.g. "COMPLETE"; "" when none
  std::string description;  // what the registry said about it
  std::string kind;         // "basic", "enhanced" (the shape of the findings), else ""
  // Findings per severity (the registry's names): per severity the larger of the totals the
  // registry reports (findingSeverityCounts) and the findings it listed over every page.
  std::map<std::string, long long> counts{};
  std::map<std::string, long long> reported{};  // findingSeverityCounts
  std::map<std::string, long long> listed{};    // counted from the findings lists
  std::size_t findings_listed = 0;
  int pages = 0;             // answers read for this digest
  std::string completed_at;  // imageScanCompletedAt as answered (epoch seconds), else ""
  Error error{};             // kFailed, kUnsupported: code and message
};

// Contract: resolve() answers every query, in query order, and never throws for remote failures:
// anything that could not be verified is a kError result with a finding code, never kFound.
class Registry {
 public:
  virtual ~Registry() = default;
  virtual std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) = 0;
  // Answers every request, in request order, concurrently where the backend can. A digest-
  // addressed answer whose bytes do not hash to the digest is kError. The default answers kError
  // for everything, so a backend without content access fails closed.
  virtual std::vector<ContentResult> fetch(const std::vector<ContentRequest>& requests);
  // The registry as given by the user, without credentials (for reports and evidence).
  virtual std::string describe() const = 0;
  // What answers a kReferrers request, for evidence: a registry's "referrers API"; an oci-layout
  // scans its manifests for the subject.
  virtual std::string referrers_source() const { return "referrers API"; }
  // Whether read_scans() can answer (ECR); the default answers kUnsupported for everything.
  virtual bool has_scans() const { return false; }
  // One result per request, in order; each distinct digest read once, every page of it.
  virtual std::vector<ScanResult> read_scans(const std::vector<ScanRequest>& requests);
};

// Multi-arch depth, the same for every backend: for each found index, the child manifest of
// every entry that claims a required platform is fetched by digest (each distinct digest once per
// repository, through Registry::fetch), must be a single-image manifest, and its config's
// os/architecture/variant must be what the entry claims. Fills TagResult::children.
void check_children(Registry& registry, const std::vector<TagQuery>& queries,
                    std::vector<RepositoryResult>& results);

// resolve() followed by check_children(): what the commands call.
std::vector<RepositoryResult> resolve_deep(Registry& registry,
                                           const std::vector<TagQuery>& queries);

}  // namespace imagegate::registry
