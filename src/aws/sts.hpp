// STS credential calls of the credential chain (query protocol, XML answers): AssumeRole, signed
// with SigV4 by the source credentials, and AssumeRoleWithWebIdentity, unsigned. Internal to the
// credential chain; messages name the profile, the endpoint's origin and the role, never a token
// or key.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"

namespace imagegate::aws::sts {

struct Call {
  std::string action;  // "AssumeRole" or "AssumeRoleWithWebIdentity"
  std::vector<std::pair<std::string, std::string>> params;  // besides Action and Version
  std::string endpoint;                                     // base URL, no trailing slash
  std::string signing_region;
  const Credentials* signer = nullptr;  // nullptr: unsigned
  std::string label;                    // "profile x", "web identity"
  std::string role_arn;
  std::vector<std::string> secrets;  // redacted from every message (tokens, external id)
};

// Credentials from the answer's <Credentials>, with their Expiration; source is left empty.
Result<Credentials> call(const CredentialChainOptions& options, const Call& call);

// The STS endpoint for region: sts_endpoint from the options when region is the session's,
// AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, the global https://sts.amazonaws.com for
// sts_regional_endpoints=legacy (signed for us-east-1) or without a region, else the regional one.
// Returns the endpoint and the signing region.
std::pair<std::string, std::string> endpoint_for(const CredentialChainOptions& options,
                                                 const std::string& region, bool legacy);

// "imagegate-<unix time>": the session name when the profile sets none.
std::string default_session_name(const CredentialChainOptions& options);

// Scheme and host[:port] of url: what messages show of an endpoint.
std::string origin_of(const std::string& url);

}  // namespace imagegate::aws::sts
