// Reading ECR's answers: error messages, image manifests, config blobs and per-image failures,
// kept apart from the calls so each rule can be tested on its own.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/content.hpp"
#include "registry/registry.hpp"
#include "util/error.hpp"

namespace imagegate::registry::ecr::detail {

// The four manifest media types, shared with the OCI backend.
using registry::kDockerList;
using registry::kDockerManifest;
using registry::kOciIndex;
using registry::kOciManifest;

// object[key] when it is a string, else "" (a missing or mistyped field reads as absent, and every
// caller treats absent as not found or BAD_RESPONSE).
std::string string_field(const nlohmann::json& object, const char* key);

// The repository a RepositoryNotFoundException names ("The repository with name 'x' does not
// exist in the registry with id '...'"); nullopt when the message is not in that form.
std::optional<std::string> missing_repository_name(std::string_view message);

// A tag that can name another image on the next build: one without a full commit sha (a run of
// at least 40 hex digits), e.g. "prod-latest" or "prod-0123456".
bool is_moving_tag(std::string_view tag);

// "sha256:<hex>" of the manifest bytes must equal the digest ECR gives; BAD_RESPONSE otherwise.
Result<void> check_manifest_digest(std::string_view manifest, std::string_view digest);

struct ManifestInfo {
  std::string media_type;
  bool is_index = false;              // OCI index or Docker manifest list
  std::vector<Platform> platforms;    // of an index: its entries' platform fields
  std::vector<IndexEntry> entries{};  // of an index: the entries, parallel to platforms
  std::string config_digest;          // of a single manifest
};

// Media type from ECR's imageManifestMediaType, else the manifest's own mediaType field; only the
// four accepted types are understood (BAD_RESPONSE otherwise, or for JSON that does not fit).
Result<ManifestInfo> read_manifest(std::string_view manifest, std::string_view declared_media_type);

// os/architecture/variant of an image config blob, after checking the blob's sha256 against its
// digest.
Result<Platform> read_config_platform(std::string_view blob, std::string_view digest);

// A BatchGetImage failures[] entry as a tag result: ImageNotFound is kMissing, everything else an
// error (AUTH_FAILED for access denials, THROTTLED for upstream throttling, BAD_RESPONSE for the
// rest, unknown codes included) that names the code and reason.
TagResult image_failure(const std::string& tag, std::string_view failure_code,
                        std::string_view failure_reason);

}  // namespace imagegate::registry::ecr::detail
