// Everything ECR says is untrusted: a digest is recomputed, not believed, and any shape we do not
// understand is BAD_RESPONSE, so no odd answer can turn into a found tag.
#include "registry/ecr/answers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "util/text.hpp"

namespace imagegate::registry::ecr::detail {
namespace {

using nlohmann::json;

bool is_sha256_digest(std::string_view digest) {
  if (!digest.starts_with("sha256:") || digest.size() != 7 + 64) return false;
  for (char c : digest.substr(7)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string string_field(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string()) {
    return object[key].get<std::string>();
  }
  return "";
}

std::optional<std::string> missing_repository_name(std::string_view message) {
  constexpr std::string_view start = "The repository with name '";
  constexpr std::string_view end = "' does not exist";
  const auto from = message.find(start);
  if (from == std::string_view::npos) return std::nullopt;
  const auto name_start = from + start.size();
  const auto to = message.find(end, name_start);
  if (to == std::string_view::npos || to == name_start) return std::nullopt;
  return std::string(message.substr(name_start, to - name_start));
}

bool is_moving_tag(std::string_view tag) {
  std::size_t run = 0;
  for (char c : tag) {
    run = std::isxdigit(static_cast<unsigned char>(c)) ? run + 1 : 0;
    if (run >= 40) return false;
  }
  return true;
}

Result<void> check_manifest_digest(std::string_view manifest, std::string_view digest) {
  if (!is_sha256_digest(digest)) {
    return fail("BAD_RESPONSE", fmt::format("the registry gave digest {}, not a sha256 digest",
                                            util::quote(digest)));
  }
  const std::string actual = "sha256:" + util::sha256_hex(manifest);
  if (actual != digest) {
    return fail("BAD_RESPONSE",
                fmt::format("the manifest the registry sent has digest {}, not the {} it claims",
                            actual, digest));
  }
  return {};
}

Result<ManifestInfo> read_manifest(std::string_view manifest,
                                   std::string_view declared_media_type) {
  const json doc = json::parse(manifest, nullptr, false);
  if (!doc.is_object()) return fail("BAD_RESPONSE", "the image manifest is not a JSON object");
  ManifestInfo info;
  info.media_type = declared_media_type.empty() ? string_field(doc, "mediaType")
                                                : std::string(declared_media_type);
  if (info.media_type == kOciIndex || info.media_type == kDockerList) {
    info.is_index = true;
    if (!doc.contains("manifests") || !doc["manifests"].is_array()) {
      return fail("BAD_RESPONSE", fmt::format("the {} has no manifests list", info.media_type));
    }
    for (const auto& entry : doc["manifests"]) {
      if (!entry.is_object()) return fail("BAD_RESPONSE", "an index entry is not a JSON object");
      // Attestations (buildx provenance, SBOM) ride in the index as "unknown/unknown"
      // entries; they run nowhere, so they are no platform of the image.
      if (is_attestation_entry(entry)) continue;
      if (!entry.contains("platform")) continue;
      const json& p = entry["platform"];
      Platform platform{string_field(p, "os"), string_field(p, "architecture"),
                        string_field(p, "variant")};
      if (platform.os.empty() || platform.architecture.empty()) {
        return fail("BAD_RESPONSE", "an index entry's platform lacks os or architecture");
      }
      info.entries.push_back(
          IndexEntry{string_field(entry, "digest"), string_field(entry, "mediaType"), platform});
      info.platforms.push_back(std::move(platform));
    }
    return info;
  }
  if (info.media_type == kOciManifest || info.media_type == kDockerManifest) {
    info.config_digest = doc.contains("config") ? string_field(doc["config"], "digest") : "";
    if (!is_sha256_digest(info.config_digest)) {
      return fail("BAD_RESPONSE", "the image manifest has no sha256 config digest");
    }
    return info;
  }
  return fail("BAD_RESPONSE",
              fmt::format("manifest media type {} is none of the four accepted ones",
                          util::quote(info.media_type)));
}

Result<Platform> read_config_platform(std::string_view blob, std::string_view digest) {
  if ("sha256:" + util::sha256_hex(blob) != digest) {
    return fail("BAD_RESPONSE",
                fmt::format("the config blob downloaded for {} has another digest", digest));
  }
  const json doc = json::parse(blob, nullptr, false);
  Platform platform{string_field(doc, "os"), string_field(doc, "architecture"),
                    string_field(doc, "variant")};
  if (platform.os.empty() || platform.architecture.empty()) {
    return fail("BAD_RESPONSE",
                fmt::format("the config blob {} names no os and architecture", digest));
  }
  return platform;
}

TagResult image_failure(const std::string& tag, std::string_view failure_code,
                        std::string_view failure_reason) {
  TagResult result;
  result.tag = tag;
  if (failure_code == "ImageNotFound") {
    result.status = TagStatus::kMissing;
    return result;
  }
  result.status = TagStatus::kError;
  std::string code = "BAD_RESPONSE";
  if (failure_code.find("AccessDenied") != std::string_view::npos ||
      failure_code == "ImageInaccessible") {
    code = "AUTH_FAILED";
  } else if (failure_code == "UpstreamTooManyRequests") {
    code = "THROTTLED";
  }
  result.error =
      Error{code, fmt::format("BatchGetImage failure {}: {}",
                              failure_code.empty() ? "without a code" : util::quote(failure_code),
                              failure_reason.empty() ? "no reason given"
                                                     : util::escape_display(failure_reason))};
  return result;
}

}  // namespace imagegate::registry::ecr::detail
