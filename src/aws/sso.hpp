// IAM Identity Center (SSO) profiles, resolved as the AWS CLI resolves them: an sso_session
// section or the legacy sso_start_url/sso_region in the profile, the token `aws sso login` cached
// in ~/.aws/sso/cache/<sha1>.json, and GetRoleCredentials from the portal endpoint. imagegate
// never logs in or refreshes the token itself: an absent or expired token is AUTH_FAILED telling
// the user to run `aws sso login`.
#pragma once

#include <string>

#include "aws/config.hpp"
#include "aws/credentials.hpp"

namespace imagegate::aws::sso {

// True when the profile is an SSO profile (sso_session, sso_start_url or sso_account_id).
bool configured(const SharedConfig& profile);

// The cache file name of a session name or legacy start URL: lower-case hex SHA-1 + ".json".
std::string cache_file_name(const std::string& key);

Result<Credentials> resolve(const CredentialChainOptions& options, const SharedConfig& profile);

}  // namespace imagegate::aws::sso
