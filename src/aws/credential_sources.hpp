// The credential sources outside the shared files: environment keys, STS web identity, the ECS
// container endpoint, EC2 instance metadata; internal to the credential chain in credentials.cpp.
#pragma once

#include <optional>
#include <string>

#include "aws/credentials.hpp"

namespace imagegate::aws::sources {

// What one source gave: credentials, or a short reason for the final "tried:" list. An error
// (the Result's) means the source is configured but broken and the chain stops.
struct Attempt {
  std::optional<Credentials> found;
  std::string note;
};

struct WebIdentityConfig {
  std::string role_arn;
  std::string token_file;
  std::string session_name;  // empty: "imagegate-<unix time>"
  std::string label;         // "web identity" or "profile x web identity"
  std::string region;        // the profile's region; empty: the session's
  bool legacy_sts = false;   // sts_regional_endpoints = legacy
  std::optional<int> duration_seconds;
};

Result<Attempt> web_identity(const CredentialChainOptions& options,
                             const WebIdentityConfig& config);
Result<Attempt> container(const CredentialChainOptions& options);
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN).
Attempt environment(const Environment& env);
Attempt instance_metadata(const CredentialChainOptions& options);

// Expired credentials are reported as absent with a note naming the source.
Attempt accept_unless_expired(Credentials credentials, const CredentialChainOptions& options);

}  // namespace imagegate::aws::sources
