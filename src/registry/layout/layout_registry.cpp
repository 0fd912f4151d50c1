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
  std::string referrers_source() const override { return "layout subject scan"; }

  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override {
    // Without the root, every repository would read as missing, and an optional image as merely
    // absent: a mistyped DIR would pass. It is a registry that cannot be reached instead.
    std::error_code ec;
    const bool root_ok = std::filesystem::is_directory(dir_, ec);
    std::vector<RepositoryResult> results;
    for (const auto& query : queries) {
      if (root_ok) {
        results.push_back(resolve_one(query));
        continue;
      }
      RepositoryResult result;
      result.repository = query.repository;
      result.uri = query.repository;
      result.status = RepositoryStatus::kError;
      result.error =
          Error{"UNREACHABLE", fmt::format("oci-layout root {} is not a directory", dir_.string())};
      results.push_back(std::move(result));
    }
    return results;
  }

  std::vector<ContentResult> fetch(const std::vector<ContentRequest>& requests) override {
    std::vector<ContentResult> results;
    for (const auto& r : requests) results.push_back(fetch_one(r));
    return results;
  }

 private:
  static ContentResult error_result(Error error) {
    ContentResult r;
    r.status = ContentStatus::kError;
    r.error = std::move(error);
    return r;
  }

  // index.json's manifests[] of one layout; BAD_RESPONSE when the file is not an index.
  Result<nlohmann::json> read_index(const std::filesystem::path& layout,
                                    std::string_view what) const {
    auto text = read_file(layout / "index.json", what);
    if (!text) return std::unexpected(text.error());
    auto index = nlohmann::json::parse(*text, nullptr, false);
    if (index.is_discarded() || !index.is_object() || !index.contains("manifests") ||
        !index["manifests"].is_array()) {
      return fail("BAD_RESPONSE",
                  fmt::format("{}: index.json is not an image index with manifests[]", what));
    }
    return std::move(index["manifests"]);
  }

  ContentResult fetch_one(const ContentRequest& r) const {
    const std::string what = fmt::format("oci-layout {}@{}", r.repository, r.reference);
    if (!is_valid_repository_name(r.repository)) {
      return error_result(Error{"INVALID_REFERENCE", what + ": not a valid repository name"});
    }
    const auto layout = dir_ / r.repository;
    std::error_code ec;
    if (!std::filesystem::is_directory(layout, ec)) {
      return error_result(Error{"UNREACHABLE", what + ": the layout is not a directory"});
    }
    std::string digest = r.reference;
    if (r.kind == ContentKind::kManifest && !is_sha256_digest(r.reference)) {
      if (!is_valid_tag(r.reference)) {
        return error_result(Error{"INVALID_REFERENCE", what + ": not a valid tag"});
      }
      auto index = read_index(layout, what);
      if (!index) return error_result(index.error());
      digest.clear();
      for (const auto& entry : *index) {
        if (!entry.is_object() || !entry.contains("annotations") ||
            !entry["annotations"].is_object()) {
          continue;
        }
        const auto& annotations = entry["annotations"];
        const auto ref = annotations.find(kRefName);
        if (ref == annotations.end() || *ref != r.reference) continue;
        const std::string d = entry.value("digest", "");
        if (!digest.empty() && d != digest) {
          return error_result(
              Error{"BAD_RESPONSE", what + ": index.json names the tag on different digests"});
        }
        digest = d;
      }
      if (digest.empty()) return ContentResult{ContentStatus::kMissing, "", "", "", {}};
    }
    if (r.kind == ContentKind::kReferrers) return referrers(layout, r, what);
    if (!is_sha256_digest(digest)) {
      return error_result(Error{"INVALID_REFERENCE", what + ": not a sha256 digest"});
    }
    if (!std::filesystem::exists(layout / "blobs" / "sha256" / digest.substr(7), ec)) {
      return ContentResult{ContentStatus::kMissing, "", "", "", {}};
    }
    auto bytes = read_blob(layout, digest, -1, what);
    if (!bytes) return error_result(bytes.error());
    ContentResult result;
    result.status = ContentStatus::kFound;
    result.digest = digest;
    if (r.kind == ContentKind::kManifest) {
      auto content = parse_manifest(*bytes, what);
      if (!content) return error_result(content.error());
      result.media_type = content->media_type;
    }
    result.body = std::move(*bytes);
    return result;
  }

  // The layout's answer to the referrers API: an index of every manifest in index.json whose
  // subject is the digest (what `oras copy --to-oci-layout` and skopeo keep there).
  ContentResult referrers(const std::filesystem::path& layout, const ContentRequest& r,
                          const std::string& what) const {
    if (!is_sha256_digest(r.reference)) {
      return error_result(Error{"INVALID_REFERENCE", what + ": not a sha256 digest"});
    }
    auto index = read_index(layout, what);
    if (!index) return error_result(index.error());
    nlohmann::json found = nlohmann::json::array();
    for (const auto& entry : *index) {
      if (!entry.is_object()) continue;
      const std::string digest = entry.value("digest", "");
      auto bytes = read_blob(layout, digest, -1, what);
      if (!bytes) return error_result(bytes.error());
      const auto doc = nlohmann::json::parse(*bytes, nullptr, false);
      if (doc.is_discarded() || !doc.is_object() || !doc.contains("subject") ||
          !doc["subject"].is_object() || doc["subject"].value("digest", "") != r.reference) {
        continue;
      }
      std::string artifact_type = doc.value("artifactType", "");
      if (artifact_type.empty() && doc.contains("config") && doc["config"].is_object()) {
        artifact_type = doc["config"].value("mediaType", "");
      }
      if (!r.artifact_type.empty() && artifact_type != r.artifact_type) continue;
      nlohmann::json descriptor = {{"mediaType", doc.value("mediaType", std::string(kOciManifest))},
                                   {"digest", digest},
                                   {"size", bytes->size()},
                                   {"artifactType", artifact_type}};
      if (doc.contains("annotations")) descriptor["annotations"] = doc["annotations"];
      found.push_back(std::move(descriptor));
    }
    ContentResult result;
    result.status = ContentStatus::kFound;
    result.media_type = std::string(kOciIndex);
    result.body =
        nlohmann::json{
            {"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", std::move(found)}}
            .dump();
    return result;
  }

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
                                             const std::string& manifest, std::string_view what,
                                             std::vector<IndexEntry>& entries) const {
    auto content = parse_manifest(manifest, what);
    if (!content) return std::unexpected(content.error());
    if (content->is_index) {
      entries = content->entries;
      return content->platforms;
    }
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
      if (query.want_manifest) tag.manifest = *manifest;
      if (query.want_platforms) {
        auto platforms = platforms_of(layout, *manifest, tag_what, tag.entries);
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
