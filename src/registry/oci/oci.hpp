// The OCI Distribution backend: checks tags with HEAD/GET /v2/<name>/manifests/<ref> against any
// registry (docker-registry, GHCR, Docker Hub, Harbor, ECR), every request of a phase in one
// concurrent batch, with anonymous, Basic and Bearer-challenge authentication.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "auth/auth.hpp"
#include "http/http.hpp"
#include "registry/registry.hpp"
#include "util/error.hpp"

namespace imagegate::registry {

// Where the registry is: "https://HOST[:PORT]" or "http://HOST[:PORT]".
struct OciEndpoint {
  std::string scheme;  // "https" or "http"
  std::string host;    // "HOST[:PORT]", lower-case
  std::string base_url() const { return scheme + "://" + host; }
};

// Parses the --registry URL. INVALID_REGISTRY when it is not http(s)://HOST[:PORT] (a path
// prefix, credentials in the URL, a query are not supported and the message says so).
Result<OciEndpoint> parse_oci_url(std::string_view url);

struct OciOptions {
  std::string url;                       // as accepted by parse_oci_url
  std::shared_ptr<http::Client> client;  // required
  // Where credentials come from; null means anonymous only.
  std::shared_ptr<auth::CredentialStore> credentials;
};

// Throws UsageError when the URL is invalid or no client is given.
std::unique_ptr<Registry> make_oci_registry(const OciOptions& options);

}  // namespace imagegate::registry
