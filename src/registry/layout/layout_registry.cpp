#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "registry/content.hpp"
#include "registry/layout/layout.hpp"

namespace imagegate::registry {

namespace {

constexpr const char* kRefName = "org.opencontainers.image.ref.name";
// Manifests and configs are small; anything bigger is not one of them.
constexpr std::uintmax_t kMaxBlobBytes = 16 * 1024 * 1024;

Result<std::string> read_file(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail("BAD_RESPONSE", fmt::format("{}: {} cannot be read", what, path.string()));
  if (size > kMaxBlobBytes) {
    return fail("BAD_RESPONSE",
                fmt::format("{}: {} is larger than {} bytes", what, path.string(), kMaxBlobBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return fail("BAD_RESPONSE", fmt::format("{}: {} cannot be read", what, path.string()));
  }
  return bytes;
}

class LayoutRegistry final : public Registry {
 public:
  explicit LayoutRegistry(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::string describe() const override { return "oci-layout:" + dir_.string(); }

  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override {
    std::vector<RepositoryResult> results;
    for (const auto& query : queries) results.push_back(resolve_one(query));
    return results;
  }

 private:
  // A blob of this layout, checked against its digest (and size, when the descriptor has one).
  Result<std::string> read_blob(const std::filesystem::path& layout, const std::string& digest,
                                std::int64_t size, std::string_view what) const {
    // The digest becomes a path: only a well-formed sha256 digest may.
    if (!is_sha256_digest(digest)) {
      return fail("BAD_RESPONSE",
                  fmt::format("{}: \"{}\" is not a sha256 digest", what, digest.substr(0, 80)));
    }
    const auto path = layout / "blobs" / "sha256" / digest.substr(7);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return fail("BAD_RESPONSE", fmt::format("{}: blob {} is missing", what, digest));
    }
    auto bytes = read_file(path, what);
    if (!bytes) return bytes;
    if (const std::string actual = sha256_digest(*bytes); actual != digest) {
      return fail("BAD_RESPONSE",
                  fmt::format("{}: blob {} hashes to {} (corrupt layout)", what, digest, actual));
    }
    if (size >= 0 && static_cast<std::uint64_t>(size) != bytes->size()) {
      return fail("BAD_RESPONSE", fmt::format("{}: blob {} has {} bytes, its descriptor says {}",
                                              what, digest, bytes->size(), size));
    }
    return bytes;
  }

  Result<std::vector<Platform>> platforms_of(const std::filesystem::path& layout,
                                             const std::string& manifest,
                                             std::string_view what) const {
    auto content = parse_manifest(manifest, what);
    if (!content) return std::unexpected(content.error());
    if (content->is_index) return content->platforms;
    auto config = read_blob(layout, content->config_digest, -1, what);
    if (!config) return std::unexpected(config.error());
    auto platform = parse_config_platform(*config, what);
    if (!platform) return std::unexpected(platform.error());
    return std::vector<Platform>{*platform};
  }

  RepositoryResult resolve_one(const TagQuery& query) const {
    RepositoryResult result;
    result.repository = query.repository;
    result.uri = query.repository;
    const auto error = [&](std::string code, std::string message) {
      result.status = RepositoryStatus::kError;
      result.error = Error{std::move(code), std::move(message)};
      return result;
    };
    // Guards the path join below: no "..", no absolute names, no empty components.
    if (!is_valid_repository_name(query.repository)) {
      return error("INVALID_REFERENCE",
                   fmt::format("\"{}\" is not a valid repository name (lower-case components of "
                               "[a-z0-9._-] separated by '/')",
                               query.repository));
    }
    const auto layout = dir_ / query.repository;
    std::error_code ec;
    if (!std::filesystem::exists(layout, ec)) {
      result.status = RepositoryStatus::kMissing;
      return result;
    }
    const std::string what = fmt::format("oci-layout {}", layout.string());
    auto marker = read_file(layout / "oci-layout", what);
    if (!marker) return error("BAD_RESPONSE", fmt::format("{}: no oci-layout file", what));
    const auto marker_doc = nlohmann::json::parse(*marker, nullptr, false);
    if (marker_doc.is_discarded() || !marker_doc.is_object() ||
        !marker_doc.contains("imageLayoutVersion") ||
        !marker_doc["imageLayoutVersion"].is_string()) {
      return error("BAD_RESPONSE",
                   fmt::format("{}: oci-layout file lacks a string imageLayoutVersion", what));
    }
    auto index_text = read_file(layout / "index.json", what);
    if (!index_text) return error("BAD_RESPONSE", fmt::format("{}: no index.json", what));
    const auto index = nlohmann::json::parse(*index_text, nullptr, false);
    if (index.is_discarded() || !index.is_object() || !index.contains("manifests") ||
        !index["manifests"].is_array()) {
      return error("BAD_RESPONSE",
                   fmt::format("{}: index.json is not an image index with manifests[]", what));
    }

    // tag -> descriptors naming it (more than one distinct digest is an ambiguous layout).
    std::map<std::string, std::vector<const nlohmann::json*>> by_tag;
    for (const auto& entry : index["manifests"]) {
      if (!entry.is_object()) {
        return error("BAD_RESPONSE", fmt::format("{}: index.json entry is not an object", what));
      }
      const auto annotations = entry.find("annotations");
      if (annotations == entry.end() || !annotations->is_object()) continue;
      const auto ref = annotations->find(kRefName);
      if (ref != annotations->end() && ref->is_string()) {
        by_tag[ref->get<std::string>()].push_back(&entry);
      }
    }

    result.status = RepositoryStatus::kExists;
    for (const auto& tag_name : query.tags) {
      TagResult tag;
      tag.tag = tag_name;
      const std::string tag_what = fmt::format("{}:{}", query.repository, tag_name);
      const auto tag_error = [&](Error e) {
        tag.status = TagStatus::kError;
        tag.error = std::move(e);
      };
      const auto found = by_tag.find(tag_name);
      if (found == by_tag.end()) {
        tag.status = TagStatus::kMissing;
        result.tags.push_back(std::move(tag));
        continue;
      }
      std::vector<std::string> digests;
      for (const auto* entry : found->second) {
        const auto digest = entry->find("digest");
        digests.push_back(digest != entry->end() && digest->is_string() ? digest->get<std::string>()
                                                                        : std::string());
      }
      const auto& descriptor = *found->second.front();
      if (std::any_of(digests.begin(), digests.end(),
                      [&](const std::string& d) { return d != digests.front(); })) {
        tag_error(
            Error{"BAD_RESPONSE",
                  fmt::format("{}: index.json names the tag on different digests", tag_what)});
        result.tags.push_back(std::move(tag));
        continue;
      }
      const auto size_it = descriptor.find("size");
      const std::int64_t size = size_it != descriptor.end() && size_it->is_number_integer()
                                    ? size_it->get<std::int64_t>()
                                    : -1;
      auto manifest = read_blob(layout, digests.front(), size, tag_what);
      if (!manifest) {
        tag_error(manifest.error());
        result.tags.push_back(std::move(tag));
        continue;
      }
      auto content = parse_manifest(*manifest, tag_what);
      if (!content) {
        tag_error(content.error());
        result.tags.push_back(std::move(tag));
        continue;
      }
      tag.status = TagStatus::kFound;
      tag.digest = digests.front();
      const auto media = descriptor.find("mediaType");
      tag.media_type = media != descriptor.end() && media->is_string() ? media->get<std::string>()
                                                                       : content->media_type;
      if (query.want_platforms) {
        auto platforms = platforms_of(layout, *manifest, tag_what);
        if (platforms) {
          tag.platforms = *platforms;
        } else {
          tag_error(platforms.error());
        }
      }
      result.tags.push_back(std::move(tag));
    }
    return result;
  }

  std::filesystem::path dir_;
};

}  // namespace

std::unique_ptr<Registry> make_layout_registry(std::filesystem::path dir) {
  return std::make_unique<LayoutRegistry>(std::move(dir));
}

}  // namespace imagegate::registry
