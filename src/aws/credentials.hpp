// The AWS credential chain in the SDKs' order: environment, web identity (STS
// AssumeRoleWithWebIdentity), the shared credentials/config profile (static keys, assume-role
// chains, web identity, SSO, credential_process), ECS/EKS container credentials, EC2 instance
// metadata (IMDSv2). Failing to find credentials is AUTH_FAILED with every source tried; no message
// ever holds a secret.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "aws/config.hpp"
#include "aws/sigv4.hpp"
#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::aws {

struct CredentialChainOptions {
  const Environment* env = nullptr;         // required
  const SharedConfig* shared = nullptr;     // required (load_shared_config)
  http::Client* sts_http = nullptr;         // STS calls; required only for web identity
  http::Client* metadata_http = nullptr;    // container and instance metadata; short timeouts
  std::string region;                       // for the STS endpoint; empty = global endpoint
  std::optional<std::string> sts_endpoint;  // overrides resolve_endpoint("sts", ...)
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
  // credential_process is stopped after this long (IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT).
  std::chrono::milliseconds process_timeout{60000};
  // Told where credentials came from (a source's name, never a value) each time the provider
  // resolves them; refresh says whether they replace earlier ones. For -v output.
  std::function<void(const std::string& source, bool refresh)> on_resolved;
};

// ClientOptions for metadata_http: 1 s timeouts, one attempt, so a machine that is not on EC2 or
// ECS gives up at once instead of hanging.
http::ClientOptions metadata_client_options();

// Walks the chain once. Expired credentials count as absent from their source (and the final
// message says "expired"). A source that is configured but broken (unreadable token file,
// STS refusal, container endpoint error) fails right away instead of falling through to the
// next source: using other credentials than the configured ones would be surprising.
Result<Credentials> resolve_credentials(const CredentialChainOptions& options);

// Caches the chain's answer and resolves again when it expires within refresh_margin; shared by
// concurrent requests of one run.
class CredentialProvider {
 public:
  explicit CredentialProvider(CredentialChainOptions options,
                              std::chrono::seconds refresh_margin = std::chrono::seconds(300))
      : options_(std::move(options)), refresh_margin_(refresh_margin) {}
  // Fixed credentials (tests, or a caller that resolved them elsewhere); never refreshed.
  explicit CredentialProvider(Credentials fixed) : cached_(std::move(fixed)) {}

  Result<Credentials> get();
  // A service rejected access_key_id as expired: forget it so that the next get() resolves
  // again. False for fixed credentials, which cannot be refreshed.
  bool invalidate(const std::string& access_key_id);
  // How often the chain was walked (first resolution and refreshes).
  int resolutions() const;

 private:
  std::optional<CredentialChainOptions> options_;
  std::chrono::seconds refresh_margin_{300};
  std::optional<Credentials> cached_;
  int resolutions_ = 0;
  mutable std::mutex mutex_;
};

namespace detail {
// ISO 8601 times as AWS sends them: 2015-08-30T12:36:00Z, optional fraction, Z or +hh:mm.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);
// Text of the first <tag>...</tag> in xml, entities decoded.
std::optional<std::string> xml_value(std::string_view xml, std::string_view tag);
// application/x-www-form-urlencoded value encoding (RFC 3986 unreserved kept).
std::string form_encode(std::string_view value);
}  // namespace detail

}  // namespace imagegate::aws
