#include "registry/factory.hpp"

#include <fmt/format.h>

#include "auth/auth.hpp"
#include "aws/credentials.hpp"
#include "aws/session.hpp"
#include "registry/ecr/ecr.hpp"
#include "registry/layout/layout.hpp"
#include "registry/oci/oci.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::registry {

OpenedRegistry::OpenedRegistry() = default;
OpenedRegistry::~OpenedRegistry() = default;
OpenedRegistry::OpenedRegistry(OpenedRegistry&&) noexcept = default;
OpenedRegistry& OpenedRegistry::operator=(OpenedRegistry&&) noexcept = default;

http::ClientStats OpenedRegistry::http_stats() const {
  http::ClientStats stats;
  if (http_) stats += http::client_stats(*http_);
  if (metadata_http_) stats += http::client_stats(*metadata_http_);
  return stats;
}

OpenedRegistry open_registry(const RegistrySettings& s) {
  OpenedRegistry out;
  const std::string_view url = s.url;
  if (s.profile && url != "ecr" && !url.starts_with("ecr://")) {
    throw UsageError(fmt::format("--registry-profile {} applies only to ECR registries, not {}",
                                 util::quote(*s.profile), util::quote(s.url)));
  }
  if (url.starts_with("oci-layout:")) {
    std::filesystem::path dir(url.substr(std::string_view("oci-layout:").size()));
    if (dir.empty()) throw UsageError("--registry oci-layout: needs a directory: oci-layout:DIR");
    if (dir.is_relative()) dir = s.base_dir / dir;
    out.kind_ = "oci-layout";
    out.registry_ = make_layout_registry(dir);
    return out;
  }
  if (url.starts_with("https://") || url.starts_with("http://")) {
    out.kind_ = "oci";
    out.http_ = http::make_curl_client(s.http);
    OciOptions options;
    options.url = s.url;
    options.client = out.http_;
    options.credentials =
        std::make_shared<auth::CredentialStore>(auth::credential_store_options_from_environment());
    out.registry_ = make_oci_registry(options);
    return out;
  }
  if (url == "ecr" || url.starts_with("ecr://")) {
    auto location = ecr::parse_ecr_url(url);
    if (!location) throw UsageError("--" + location.error().message);
    // The URL's region names where the repositories live; a different --region would sign for
    // another region and find nothing, so the two must agree.
    if (!location->region.empty() && s.region && *s.region != location->region) {
      throw UsageError(fmt::format("--region {} contradicts --registry {} (region {})",
                                   util::quote(*s.region), util::quote(s.url),
                                   util::quote(location->region)));
    }
    out.kind_ = "ecr";
    out.http_ = http::make_curl_client(s.http);
    out.metadata_http_ = http::make_curl_client(aws::metadata_client_options());
    aws::SessionOptions session;
    session.region = s.region;
    if (!session.region && !location->region.empty()) session.region = location->region;
    session.endpoint_url = s.endpoint_url;
    session.profile = s.profile;
    session.on_credentials = s.on_credentials;
    session.http = out.http_.get();
    session.metadata_http = out.metadata_http_.get();
    out.session_ = std::make_unique<aws::Session>(session, aws::Environment::system());
    // Every call in one batch: the HTTP client already keeps s.http.concurrency in flight, and
    // smaller batches would wait for their slowest call before the next could start.
    out.registry_ =
        ecr::make_ecr_registry({out.session_.get(), location->registry_id, 0, out.http_.get()});
    return out;
  }
  throw UsageError(fmt::format(
      "--registry {} has an unknown scheme; known: ecr, ecr://REGION, "
      "ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com, https://HOST[:PORT], http://HOST[:PORT], "
      "oci-layout:DIR",
      util::quote(s.url)));
}

std::optional<std::string> default_registry_url(const std::optional<std::string>& manifest_registry,
                                                bool has_ecr_repositories) {
  if (manifest_registry) return manifest_registry;
  if (has_ecr_repositories) return std::string("ecr");
  return std::nullopt;
}

}  // namespace imagegate::registry
