// Registry content: OCI and Docker manifests and indexes (manifest lists), as the OCI and
// oci-layout backends read them and as the ECR backend reads BatchGetImage's imageManifest, and
// image config blobs. The first byte picks the media type ECR declares for the manifest.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "registry/content.hpp"
#include "registry/ecr/answers.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kDeclared[] = {
      "",
      registry::kOciIndex,
      registry::kOciManifest,
      registry::kDockerList,
      registry::kDockerManifest,
      "application/vnd.oci.image.manifest.v1+json; charset=utf-8"};
  const std::string_view declared = kDeclared[data[0] % std::size(kDeclared)];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (const auto content = registry::parse_manifest(body, "manifest afu9/x:prod")) {
    (void)registry::is_sha256_digest(content->config_digest);
  }
  (void)registry::ecr::detail::read_manifest(body, declared);
  (void)registry::parse_config_platform(body, "config blob");
  const std::string digest = registry::sha256_digest(body);
  (void)registry::ecr::detail::read_config_platform(body, digest);
  (void)registry::ecr::detail::check_manifest_digest(body, digest);
  (void)registry::strip_media_type_params(body);
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("manifests") && doc["manifests"].is_array()) {
    for (const auto& entry : doc["manifests"]) (void)registry::is_attestation_entry(entry);
  }
  return 0;
}
