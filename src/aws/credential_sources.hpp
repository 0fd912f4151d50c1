// The credential sources that need the network (STS web identity, ECS container endpoint, EC2
// instance metadata); internal to the credential chain in credentials.cpp.
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
};

Result<Attempt> web_identity(const CredentialChainOptions& options,
                             const WebIdentityConfig& config);
Result<Attempt> container(const CredentialChainOptions& options);
Attempt instance_metadata(const CredentialChainOptions& options);

// Expired credentials are reported as absent with a note naming the source.
Attempt accept_unless_expired(Credentials credentials, const CredentialChainOptions& options);

}  // namespace imagegate::aws::sources
