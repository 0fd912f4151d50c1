// Picks the registry backend by URL scheme: "ecr", "ecr://...", "https://", "http://",
// "oci-layout:DIR". An unknown scheme is a usage error that lists the known ones.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/http.hpp"
#include "http/stats.hpp"
#include "registry/registry.hpp"

namespace imagegate::aws {
class Session;
}

namespace imagegate::registry {

struct RegistrySettings {
  std::string url;                          // as given by --registry or the manifest
  std::filesystem::path base_dir;           // relative oci-layout paths resolve against it
  http::ClientOptions http;                 // concurrency, timeouts, CA file, -v callback
  std::optional<std::string> region;        // ECR: --region
  std::optional<std::string> endpoint_url;  // ECR: --endpoint-url
  std::optional<std::string> profile;       // ECR: --registry-profile instead of AWS_PROFILE
  // ECR, -v: told each AWS credential source used (a name, never a value).
  std::function<void(const std::string& source, bool refresh)> on_credentials;
};

// Owns everything a backend needs (HTTP client, AWS session) for as long as it lives.
class OpenedRegistry {
 public:
  OpenedRegistry();
  ~OpenedRegistry();
  OpenedRegistry(OpenedRegistry&&) noexcept;
  OpenedRegistry& operator=(OpenedRegistry&&) noexcept;

  Registry& get() { return *registry_; }
  const std::string& kind() const { return kind_; }  // "ecr", "oci", "oci-layout"
  // What its HTTP clients did so far (all zero for oci-layout).
  http::ClientStats http_stats() const;

 private:
  friend OpenedRegistry open_registry(const RegistrySettings& settings);
  std::string kind_;
  std::shared_ptr<http::Client> http_;
  std::shared_ptr<http::Client> metadata_http_;  // ECR: container/instance credentials
  std::unique_ptr<aws::Session> session_;
  std::unique_ptr<Registry> registry_;
};

// Throws UsageError for an unknown scheme or a malformed URL (before anything connects).
OpenedRegistry open_registry(const RegistrySettings& settings);

// The registry to use when --registry is not given: the manifest's "registry", else "ecr" when
// it lists ecrRepositories; nullopt when neither.
std::optional<std::string> default_registry_url(const std::optional<std::string>& manifest_registry,
                                                bool has_ecr_repositories);

}  // namespace imagegate::registry
