// Credentials of a profile in the shared files, in botocore's order: assume-role (role_arn with
// source_profile or credential_source, chained through further profiles, cycles refused, depth
// bounded), web identity (role_arn with web_identity_token_file), SSO, static keys of the
// credentials file, credential_process, static keys of the config file. Internal to the chain.
#pragma once

#include <string>
#include <vector>

#include "aws/config.hpp"
#include "aws/credential_sources.hpp"

namespace imagegate::aws::profiles {

// At most this many profiles in one source_profile chain (the selected one included).
inline constexpr std::size_t kMaxChainLength = 10;

// The selected profile (shared.profile_name). No credentials configured: an Attempt without
// credentials; configured but failing: an error naming the profile.
Result<sources::Attempt> resolve(const CredentialChainOptions& options, const SharedConfig& shared);

}  // namespace imagegate::aws::profiles
