// An in-memory Registry for the provenance tests: content by (repository, reference), answers
// that can be made to fail per reference, and a count of fetch batches and requests.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "registry/content.hpp"
#include "registry/registry.hpp"

namespace imagegate::provenance::testing {

class ContentRegistry final : public registry::Registry {
 public:
  std::vector<registry::RepositoryResult> resolve(const std::vector<registry::TagQuery>&) override {
    return {};
  }
  std::string describe() const override { return "memory"; }

  std::vector<registry::ContentResult> fetch(
      const std::vector<registry::ContentRequest>& requests) override {
    ++batches;
    std::vector<registry::ContentResult> out;
    for (const auto& r : requests) {
      ++requests_seen;
      const auto key = std::make_pair(r.repository, r.reference);
      if (r.kind == registry::ContentKind::kReferrers) {
        if (referrer_error) {
          out.push_back({registry::ContentStatus::kError, "", "", "", *referrer_error});
        } else if (auto it = referrers.find(r.reference); it != referrers.end()) {
          out.push_back({registry::ContentStatus::kFound, it->second, "", "", {}});
        } else {
          out.push_back({registry::ContentStatus::kUnsupported, "", "", "", {}});
        }
        continue;
      }
      if (auto e = errors.find(key); e != errors.end()) {
        out.push_back({registry::ContentStatus::kError, "", "", "", e->second});
        continue;
      }
      const auto it = content.find(key);
      if (it == content.end()) {
        out.push_back({r.kind == registry::ContentKind::kReferrers
                           ? registry::ContentStatus::kUnsupported
                           : registry::ContentStatus::kMissing,
                       "",
                       "",
                       "",
                       {}});
        continue;
      }
      out.push_back({registry::ContentStatus::kFound,
                     it->second,
                     registry::sha256_digest(it->second),
                     "",
                     {}});
    }
    return out;
  }

  // Stores bytes under their digest (and a tag, if given); returns the digest.
  std::string put(const std::string& repository, const std::string& bytes,
                  const std::string& tag = "") {
    const std::string digest = registry::sha256_digest(bytes);
    content[{repository, digest}] = bytes;
    if (!tag.empty()) content[{repository, tag}] = bytes;
    return digest;
  }

  // An image: config (with the label when revision is not empty), manifest (with the annotation
  // when manifest_revision is not empty); returns the manifest digest.
  std::string put_image(const std::string& repository, const std::string& revision,
                        const std::string& manifest_revision = "",
                        const std::string& arch = "amd64") {
    nlohmann::json config = {
        {"os", "linux"}, {"architecture", arch}, {"config", nlohmann::json::object()}};
    if (!revision.empty())
      config["config"]["Labels"] = {{"org.opencontainers.image.revision", revision}};
    const std::string config_digest = put(repository, config.dump());
    nlohmann::json manifest = {{"schemaVersion", 2},
                               {"mediaType", registry::kOciManifest},
                               {"config",
                                {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                 {"digest", config_digest},
                                 {"size", config.dump().size()}}},
                               {"layers", nlohmann::json::array()}};
    if (!manifest_revision.empty()) {
      manifest["annotations"] = {{"org.opencontainers.image.revision", manifest_revision}};
    }
    last_config = config_digest;
    return put(repository, manifest.dump());
  }

  std::map<std::pair<std::string, std::string>, std::string> content;
  std::map<std::pair<std::string, std::string>, Error> errors;
  // The referrers API: subject digest -> index; empty: the registry has none (kUnsupported).
  std::map<std::string, std::string> referrers;
  std::optional<Error> referrer_error;
  std::string last_config;
  int batches = 0;
  int requests_seen = 0;
};

}  // namespace imagegate::provenance::testing
