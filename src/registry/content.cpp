#include "registry/content.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "util/text.hpp"

namespace imagegate::registry {

std::string manifest_accept() {
  return fmt::format("{}, {}, {}, {}", kOciIndex, kOciManifest, kDockerList, kDockerManifest);
}

std::string sha256_digest(std::string_view bytes) {
  return "sha256:" + util::sha256_hex(bytes);
}

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || !digest.starts_with(kPrefix)) return false;
  for (const char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_tag_start(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool is_valid_component(std::string_view c) {
  std::size_t i = 0;
  while (true) {
    const std::size_t run = i;
    while (i < c.size() && is_lower_alnum(c[i])) ++i;
    if (i == run) return false;  // empty component, or a separator not followed by [a-z0-9]
    if (i == c.size()) return true;
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      i += c.substr(i, 2) == "__" ? 2 : 1;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

}  // namespace

// The distribution spec's grammar, checked by hand: this runs for every repository and tag of a
// gate, and std::regex costs tens of microseconds per match there.
bool is_valid_repository_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = name.find('/', start);
    if (!is_valid_component(name.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_tag_start(tag[0])) return false;
  return std::all_of(tag.begin() + 1, tag.end(),
                     [](char c) { return is_tag_start(c) || c == '.' || c == '-'; });
}

std::string strip_media_type_params(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return std::string(type);
}

namespace {

std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// buildx stores provenance/SBOM attestations as index entries with platform unknown/unknown;
// they are not runnable images, so they never count as a platform (whatever platform they claim).
bool is_attestation_entry(const nlohmann::json& entry) {
  const auto annotations = entry.find("annotations");
  if (annotations != entry.end() && annotations->is_object() &&
      annotations->contains("vnd.docker.reference.type")) {
    return true;
  }
  const auto platform = entry.find("platform");
  return platform != entry.end() && platform->is_object() &&
         string_field(*platform, "os") == "unknown" &&
         string_field(*platform, "architecture") == "unknown";
}

Result<ManifestContent> parse_manifest(std::string_view body, std::string_view what) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("BAD_RESPONSE", fmt::format("{}: manifest is not a JSON object", what));
  }
  ManifestContent content;
  content.media_type = string_field(doc, "mediaType");
  const auto manifests = doc.find("manifests");
  if (manifests != doc.end()) {
    if (!manifests->is_array()) {
      return fail("BAD_RESPONSE", fmt::format("{}: index \"manifests\" is not an array", what));
    }
    content.is_index = true;
    for (const auto& entry : *manifests) {
      if (!entry.is_object()) {
        return fail("BAD_RESPONSE", fmt::format("{}: index entry is not an object", what));
      }
      const auto platform = entry.find("platform");
      if (platform == entry.end() || is_attestation_entry(entry)) continue;
      if (!platform->is_object()) {
        return fail("BAD_RESPONSE", fmt::format("{}: index entry platform is not an object", what));
      }
      Platform p{string_field(*platform, "os"), string_field(*platform, "architecture"),
                 string_field(*platform, "variant")};
      if (p.os.empty() || p.architecture.empty()) {
        return fail("BAD_RESPONSE",
                    fmt::format("{}: index entry platform lacks os or architecture", what));
      }
      content.entries.push_back(
          IndexEntry{string_field(entry, "digest"), string_field(entry, "mediaType"), p});
      content.platforms.push_back(std::move(p));
    }
    return content;
  }
  const auto config = doc.find("config");
  if (config == doc.end() || !config->is_object()) {
    return fail(
        "BAD_RESPONSE",
        fmt::format("{}: neither an index (manifests) nor an image manifest (config)", what));
  }
  content.config_digest = string_field(*config, "digest");
  if (!is_sha256_digest(content.config_digest)) {
    return fail("BAD_RESPONSE", fmt::format("{}: config digest is not a sha256 digest", what));
  }
  return content;
}

Result<Platform> parse_config_platform(std::string_view body, std::string_view what) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("BAD_RESPONSE", fmt::format("{}: image config is not a JSON object", what));
  }
  Platform p{string_field(doc, "os"), string_field(doc, "architecture"),
             string_field(doc, "variant")};
  if (p.os.empty() || p.architecture.empty()) {
    return fail("BAD_RESPONSE", fmt::format("{}: image config lacks os or architecture", what));
  }
  return p;
}

}  // namespace imagegate::registry
