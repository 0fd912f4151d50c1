// Multi-arch depth: an index only says which platforms it has; the child manifests and their
// configs say what is really there. A tag whose index lists linux/arm64 while the arm64 child was
// never pushed, or whose arm64 entry points at an amd64 image, fails at task start; the gate
// reads the children so it fails first. Written once over Registry::fetch, so every backend
// (OCI, ECR, oci-layout) is judged alike, in two batches (child manifests, then their configs),
// each distinct digest of a repository asked once.
#include <fmt/format.h>

#include <map>
#include <set>

#include "registry/content.hpp"
#include "registry/registry.hpp"

namespace imagegate::registry {
namespace {

using Key = std::pair<std::string, std::string>;  // repository, digest

// The content requests for a set of keys, in key order, and each key's position.
std::vector<ContentRequest> requests_for(const std::set<Key>& keys, ContentKind kind,
                                         std::map<Key, std::size_t>& position) {
  std::vector<ContentRequest> requests;
  for (const auto& key : keys) {
    position[key] = requests.size();
    requests.push_back({key.first, kind, key.second, ""});
  }
  return requests;
}

std::string short_hex(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(0, 19) : digest;
}

}  // namespace

void check_children(Registry& registry, const std::vector<TagQuery>& queries,
                    std::vector<RepositoryResult>& results) {
  // 1. Which entries are to be read: those claiming a required platform.
  std::set<Key> manifest_keys;
  for (std::size_t q = 0; q < queries.size() && q < results.size(); ++q) {
    if (queries[q].platforms.empty() || results[q].status != RepositoryStatus::kExists) continue;
    for (auto& tag : results[q].tags) {
      if (tag.status != TagStatus::kFound) continue;
      for (const auto& wanted : queries[q].platforms) {
        for (const auto& entry : tag.entries) {
          if (!entry.platform.satisfies(wanted)) continue;
          ChildCheck check{wanted, entry, {}, {}};
          if (!is_sha256_digest(entry.digest)) {
            check.error =
                Error{"BAD_RESPONSE", fmt::format("the index entry for {} has no sha256 digest",
                                                  entry.platform.to_string())};
          } else {
            manifest_keys.insert({queries[q].repository, entry.digest});
          }
          tag.children.push_back(std::move(check));
        }
      }
    }
  }
  if (manifest_keys.empty()) return;

  // 2. The child manifests, each once.
  std::map<Key, std::size_t> manifest_at;
  const auto manifests =
      registry.fetch(requests_for(manifest_keys, ContentKind::kManifest, manifest_at));
  std::map<Key, Result<std::string>> config_of;  // child key -> config digest or why not
  std::set<Key> config_keys;
  for (const auto& [key, at] : manifest_at) {
    const std::string what = fmt::format("child manifest {}", short_hex(key.second));
    const ContentResult* answer = at < manifests.size() ? &manifests[at] : nullptr;
    if (answer == nullptr) {
      config_of.emplace(key, fail("BAD_RESPONSE", what + ": no answer"));
    } else if (answer->status == ContentStatus::kMissing) {
      config_of.emplace(key, fail("CHILD_MISSING", what + " is not in the registry"));
    } else if (answer->status != ContentStatus::kFound) {
      const std::string code = answer->error.code.empty() ? "BAD_RESPONSE" : answer->error.code;
      config_of.emplace(key, fail(code, what + ": " + answer->error.message));
    } else if (auto content = parse_manifest(answer->body, what); !content) {
      config_of.emplace(key, std::unexpected(content.error()));
    } else if (content->is_index) {
      config_of.emplace(
          key, fail("BAD_RESPONSE", what + " is an index itself, not a single-image manifest"));
    } else {
      config_of.emplace(key, content->config_digest);
      config_keys.insert({key.first, content->config_digest});
    }
  }

  // 3. Their configs, each once (children of one repository may share a config).
  std::map<Key, std::size_t> config_at;
  const auto configs =
      config_keys.empty()
          ? std::vector<ContentResult>{}
          : registry.fetch(requests_for(config_keys, ContentKind::kBlob, config_at));
  std::map<Key, Result<Platform>> platform_of;  // config key -> its platform
  for (const auto& [key, at] : config_at) {
    const std::string what = fmt::format("config blob {}", short_hex(key.second));
    const ContentResult* answer = at < configs.size() ? &configs[at] : nullptr;
    if (answer == nullptr) {
      platform_of.emplace(key, fail("BAD_RESPONSE", what + ": no answer"));
    } else if (answer->status == ContentStatus::kMissing) {
      platform_of.emplace(key, fail("CHILD_MISSING", what + " is not in the registry"));
    } else if (answer->status != ContentStatus::kFound) {
      const std::string code = answer->error.code.empty() ? "BAD_RESPONSE" : answer->error.code;
      platform_of.emplace(key, fail(code, what + ": " + answer->error.message));
    } else if (sha256_digest(answer->body) != key.second) {
      platform_of.emplace(key, fail("BAD_RESPONSE", what + ": content does not hash to it"));
    } else {
      platform_of.emplace(key, parse_config_platform(answer->body, what));
    }
  }

  // 4. Each check's verdict.
  for (std::size_t q = 0; q < queries.size() && q < results.size(); ++q) {
    for (auto& tag : results[q].tags) {
      for (auto& check : tag.children) {
        if (!check.error.code.empty()) continue;
        const Key child{queries[q].repository, check.entry.digest};
        const auto config = config_of.find(child);
        if (config == config_of.end()) {
          check.error = Error{"BAD_RESPONSE", "the child manifest was not read"};
          continue;
        }
        if (!config->second) {
          check.error = config->second.error();
          continue;
        }
        const auto platform = platform_of.find({queries[q].repository, *config->second});
        if (platform == platform_of.end()) {
          check.error = Error{"BAD_RESPONSE", "the child's config was not read"};
        } else if (!platform->second) {
          check.error = platform->second.error();
        } else {
          check.actual = *platform->second;
          const auto& claimed = check.entry.platform;
          const bool same = check.actual.os == claimed.os &&
                            check.actual.architecture == claimed.architecture &&
                            (claimed.variant.empty() || check.actual.variant.empty() ||
                             check.actual.variant == claimed.variant);
          if (!same) {
            check.error =
                Error{"PLATFORM_MISMATCH",
                      fmt::format("the index entry claims {} but its image {} is built for {}",
                                  claimed.to_string(), short_hex(check.entry.digest),
                                  check.actual.to_string())};
          }
        }
      }
    }
  }
}

std::vector<RepositoryResult> resolve_deep(Registry& registry,
                                           const std::vector<TagQuery>& queries) {
  auto results = registry.resolve(queries);
  check_children(registry, queries, results);
  return results;
}

}  // namespace imagegate::registry
