// Identity part of the fake AWS's state: roles STS AssumeRole may assume, the SSO portal's token
// and role assignments, and which services a credential may call (so a cross-account run can be
// shown: ECR answers only the tooling account's credentials, ECS only production's). State keys:
//   "roles": [{"arn": "arn:aws:iam::ACCOUNT:role/NAME", "externalId"?, "trustedKeys"?: [akid...]
//              (default: any known caller), "services"?: ["ecr", "ecs", "sts"] (default: all),
//              "credentialSeconds"?: N (lifetime of the credentials issued, default
//              DurationSeconds)}]
//   "sso": {"accessToken": "...", "roles": [{"accountId", "roleName", "services"?}]}
//   credentials[].account (GetCallerIdentity's Account, default the state's), .services
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "state.hpp"

namespace imagegate::fake_aws {

inline bool service_allowed(const std::vector<std::string>& services, const std::string& service) {
  return services.empty() || std::ranges::find(services, service) != services.end();
}

inline std::vector<std::string> string_list(const Json& j, const char* key,
                                            const std::string& where) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) throw StateError(where + "." + key + ": expected an array of strings");
  for (const auto& v : j[key]) {
    if (!v.is_string()) throw StateError(where + "." + key + ": expected an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// The 12-digit account of an ARN (arn:aws:iam::ACCOUNT:...), or fallback.
inline std::string arn_account(const std::string& arn, const std::string& fallback) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':', start);
    if (colon == std::string::npos) return fallback;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  return parts[4].size() == 12 ? parts[4] : fallback;
}

inline Identity parse_identity(const Json& j) {
  Identity id;
  for (const auto& rj : j.value("roles", Json::array())) {
    const std::string where = "state.roles[]";
    Role r;
    if (!rj.is_object() || !rj.contains("arn") || !rj["arn"].is_string()) {
      throw StateError(where + ": arn is required");
    }
    for (const auto& [key, value] : rj.items()) {
      if (key != "arn" && key != "externalId" && key != "trustedKeys" && key != "services" &&
          key != "credentialSeconds" && key != "accessKeyId") {
        throw StateError(fmt::format("{}: unknown key '{}'", where, key));
      }
    }
    r.arn = rj["arn"].get<std::string>();
    r.external_id = rj.value("externalId", "");
    r.trusted_keys = string_list(rj, "trustedKeys", where);
    r.services = string_list(rj, "services", where);
    if (rj.contains("credentialSeconds")) r.credential_seconds = rj["credentialSeconds"].get<int>();
    r.access_key_id = rj.value("accessKeyId", "");
    id.roles.push_back(std::move(r));
  }
  if (j.contains("sso")) {
    const Json& sj = j["sso"];
    id.sso_access_token = sj.value("accessToken", "");
    for (const auto& rj : sj.value("roles", Json::array())) {
      id.sso_roles.push_back({rj.value("accountId", ""), rj.value("roleName", ""),
                              string_list(rj, "services", "state.sso.roles[]"),
                              rj.value("accessKeyId", "")});
    }
  }
  if (j.contains("container")) {
    id.container_token = j["container"].value("authorizationToken", "");
    id.container_key = j["container"].value("accessKeyId", "");
  }
  if (j.contains("instanceMetadata")) {
    id.imds_token = j["instanceMetadata"].value("token", "");
    id.imds_role = j["instanceMetadata"].value("roleName", "");
    id.imds_key = j["instanceMetadata"].value("accessKeyId", "");
  }
  return id;
}

inline void dump_identity(const Identity& id, Json& j) {
  j["roles"] = Json::array();
  for (const auto& r : id.roles) {
    Json rj = {{"arn", r.arn}};
    if (!r.external_id.empty()) rj["externalId"] = r.external_id;
    if (!r.trusted_keys.empty()) rj["trustedKeys"] = r.trusted_keys;
    if (!r.services.empty()) rj["services"] = r.services;
    if (r.credential_seconds) rj["credentialSeconds"] = *r.credential_seconds;
    if (!r.access_key_id.empty()) rj["accessKeyId"] = r.access_key_id;
    j["roles"].push_back(rj);
  }
  Json sso = {{"accessToken", id.sso_access_token}, {"roles", Json::array()}};
  for (const auto& r : id.sso_roles) {
    Json rj = {{"accountId", r.account_id}, {"roleName", r.role_name}};
    if (!r.services.empty()) rj["services"] = r.services;
    if (!r.access_key_id.empty()) rj["accessKeyId"] = r.access_key_id;
    sso["roles"].push_back(rj);
  }
  j["sso"] = sso;
  if (!id.container_key.empty()) {
    j["container"] = {{"authorizationToken", id.container_token},
                      {"accessKeyId", id.container_key}};
  }
  if (!id.imds_key.empty()) {
    j["instanceMetadata"] = {
        {"token", id.imds_token}, {"roleName", id.imds_role}, {"accessKeyId", id.imds_key}};
  }
}

// Temporary credentials as STS and the SSO portal issue them, known to the state from then on.
inline std::pair<std::string, Credential> issue_credentials(State& s, const std::string& account,
                                                            const std::string& arn,
                                                            const std::string& user_id, int seconds,
                                                            std::vector<std::string> services,
                                                            const std::string& fixed_key = "") {
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string mixed = upper + "abcdefghijklmnopqrstuvwxyz+/";
  Credential c;
  std::string akid = fixed_key.empty() ? "ASIA" + random_string(16, upper) : fixed_key;
  c.secret = random_string(40, mixed);
  c.session_token = random_string(300, mixed);
  c.expiration = std::floor(now_epoch()) + seconds;
  c.arn = arn;
  c.user_id = user_id;
  c.account = account;
  c.services = std::move(services);
  s.credentials[akid] = c;
  return {akid, c};
}

// The ECS/EKS container credentials endpoint: {AccessKeyId, SecretAccessKey, Token, Expiration}
// of state.container.accessKeyId when the Authorization header is state.container's token.
inline Json container_credentials(const State& s, const std::string& authorization) {
  if (s.identity.container_key.empty() || authorization != s.identity.container_token) {
    throw AwsError{401, "Unauthorized", "invalid authorization token"};
  }
  const Credential& c = s.credentials.at(s.identity.container_key);
  Json out = {{"AccessKeyId", s.identity.container_key}, {"SecretAccessKey", c.secret}};
  if (!c.session_token.empty()) out["Token"] = c.session_token;
  out["Expiration"] = format_iso8601(c.expiration.value_or(std::floor(now_epoch()) + 3600));
  return out;
}

// IMDSv2 role credentials (GET /latest/meta-data/iam/security-credentials/ROLE with the session
// token): {Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration}.
inline Json instance_credentials(const State& s, const std::string& token) {
  if (s.identity.imds_key.empty() || token != s.identity.imds_token) {
    throw AwsError{401, "Unauthorized", ""};
  }
  const Credential& c = s.credentials.at(s.identity.imds_key);
  Json out = {{"Code", "Success"},
              {"LastUpdated", format_iso8601(std::floor(now_epoch()))},
              {"Type", "AWS-HMAC"},
              {"AccessKeyId", s.identity.imds_key},
              {"SecretAccessKey", c.secret}};
  if (!c.session_token.empty()) out["Token"] = c.session_token;
  out["Expiration"] = format_iso8601(c.expiration.value_or(std::floor(now_epoch()) + 3600));
  return out;
}

}  // namespace imagegate::fake_aws
