// The SSO portal's GetRoleCredentials (REST JSON, as botocore's sso/2019-06-10 model describes
// it): GET /federation/credentials?account_id=&role_name= with the bearer token from
// `aws sso login` in x-amz-sso_bearer_token; unsigned. Answers {"roleCredentials": {accessKeyId,
// secretAccessKey, sessionToken, expiration (epoch milliseconds)}}; a wrong token is 401
// UnauthorizedException, an unassigned role 403 ForbiddenException.
#pragma once

#include <string>

#include "identity.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::sso {

inline Json get_role_credentials(State& s, const std::string& token, const std::string& account,
                                 const std::string& role_name) {
  if (token.empty() || s.identity.sso_access_token.empty() ||
      token != s.identity.sso_access_token) {
    throw AwsError{401, "UnauthorizedException", "Session token not found or invalid"};
  }
  if (account.empty() || role_name.empty()) {
    throw AwsError{400, "InvalidRequestException", "account_id and role_name are required"};
  }
  const SsoRole* role = nullptr;
  for (const auto& r : s.identity.sso_roles) {
    if (r.account_id == account && r.role_name == role_name) role = &r;
  }
  if (role == nullptr) throw AwsError{403, "ForbiddenException", "No access"};
  auto [akid, c] = issue_credentials(
      s, account,
      fmt::format("arn:aws:sts::{}:assumed-role/AWSReservedSSO_{}_0123456789abcdef/ci", account,
                  role_name),
      "AROASSOROLEID0000000:ci", 3600, role->services, role->access_key_id);
  return {{"roleCredentials",
           {{"accessKeyId", akid},
            {"secretAccessKey", c.secret},
            {"sessionToken", c.session_token},
            {"expiration", static_cast<long long>(*c.expiration) * 1000}}}};
}

}  // namespace imagegate::fake_aws::sso
