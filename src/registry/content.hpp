// Content handling shared by the registry backends: digests, name/tag grammar and reading the
// platforms out of manifests, so the OCI and the oci-layout backends judge content identically.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/registry.hpp"
#include "util/error.hpp"

namespace imagegate::registry {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";

// The Accept header value listing all four manifest media types.
std::string manifest_accept();

// "sha256:" followed by the lower-case hex SHA-256 of the bytes.
std::string sha256_digest(std::string_view bytes);

// True for "sha256:" + 64 lower-case hex digits; the only digests imagegate accepts.
bool is_sha256_digest(std::string_view digest);

// OCI distribution repository name grammar (lower-case components separated by '/'); this also
// rules out "..", absolute paths and URL metacharacters.
bool is_valid_repository_name(std::string_view name);

// OCI tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(std::string_view tag);

// Media type without parameters ("application/json; charset=utf-8" -> "application/json").
std::string strip_media_type_params(std::string_view content_type);

// What a manifest document says about itself.
struct ManifestContent {
  bool is_index = false;   // image index / manifest list
  std::string media_type;  // from the document's mediaType, may be empty
  // is_index: platforms of the entries (attestation entries left out).
  std::vector<Platform> platforms;
  // is_index: the entries themselves, parallel to platforms.
  std::vector<IndexEntry> entries{};
  // !is_index: the config blob's digest.
  std::string config_digest;
};

// Parses a manifest or index; BAD_RESPONSE naming `what` when it is not one.
Result<ManifestContent> parse_manifest(std::string_view body, std::string_view what);

// True for an index entry that is an attestation, not an image: buildx marks them with the
// vnd.docker.reference.type annotation and the platform unknown/unknown.
bool is_attestation_entry(const nlohmann::json& entry);

// Reads os/architecture/variant from an image config blob; BAD_RESPONSE when absent.
Result<Platform> parse_config_platform(std::string_view body, std::string_view what);

}  // namespace imagegate::registry
