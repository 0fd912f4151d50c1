// STS operations of the fake AWS (query protocol, XML answers): AssumeRoleWithWebIdentity
// (unsigned; issues temporary credentials that are then accepted for signing), AssumeRole
// (signed; the roles of the state, their external id and trusted callers) and GetCallerIdentity.
#pragma once

#include <cctype>
#include <cmath>
#include <map>
#include <string>

#include "identity.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::sts {

inline constexpr const char* kNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

inline std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

inline std::string response(const std::string& action, const std::string& result_xml,
                            const std::string& request_id) {
  return fmt::format(
      "<{0}Response xmlns=\"{1}\">\n  <{0}Result>\n{2}  </{0}Result>\n  <ResponseMetadata>\n"
      "    <RequestId>{3}</RequestId>\n  </ResponseMetadata>\n</{0}Response>\n",
      action, kNamespace, result_xml, request_id);
}

inline std::string error_xml(const AwsError& e, const std::string& request_id) {
  return fmt::format(
      "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n"
      "    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
      kNamespace, e.status >= 500 ? "Receiver" : "Sender", xml_escape(e.type),
      xml_escape(e.message), request_id);
}

using Params = std::map<std::string, std::string>;

inline std::string param(const Params& p, const std::string& key) {
  auto it = p.find(key);
  if (it == p.end() || it->second.empty()) {
    std::string field = key;
    field[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(field[0])));
    throw AwsError{400, "ValidationError",
                   fmt::format("1 validation error detected: Value null at '{}' failed to satisfy "
                               "constraint: Member must not be null",
                               field)};
  }
  return it->second;
}

inline std::string assume_role_with_web_identity(State& s, const Params& p,
                                                 const std::string& request_id) {
  std::string role_arn = param(p, "RoleArn");
  std::string session = param(p, "RoleSessionName");
  std::string token = param(p, "WebIdentityToken");
  if (s.web_identity_token.empty() || token != s.web_identity_token) {
    throw AwsError{400, "InvalidIdentityToken",
                   "The ID Token provided is not a valid JWT. (You may see this error if you sent "
                   "an Access Token)"};
  }
  int duration = 3600;
  if (auto it = p.find("DurationSeconds"); it != p.end()) {
    try {
      duration = std::stoi(it->second);
    } catch (const std::exception&) {
      duration = -1;
    }
    if (duration < 900 || duration > 43200) {
      throw AwsError{400, "ValidationError",
                     fmt::format("1 validation error detected: Value '{}' at 'durationSeconds' "
                                 "failed to satisfy constraint: Member must have value between "
                                 "900 and 43200",
                                 it->second)};
    }
  }
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string mixed = upper + "abcdefghijklmnopqrstuvwxyz+/";
  std::string role_name = role_arn.substr(role_arn.rfind('/') + 1);
  Credential c;
  std::string akid = "ASIA" + random_string(16, upper);
  c.secret = random_string(40, mixed);
  c.session_token = random_string(300, mixed);
  c.expiration = std::floor(now_epoch()) + duration;
  c.arn = fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", s.account, role_name, session);
  std::string role_id = "AROA" + random_string(17, upper);
  c.user_id = role_id + ":" + session;
  c.account = arn_account(role_arn, "");
  s.credentials[akid] = c;
  std::string result = fmt::format(
      "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n"
      "      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n"
      "      <Expiration>{}</Expiration>\n    </Credentials>\n"
      "    <SubjectFromWebIdentityToken>system:serviceaccount:imagegate:ci</"
      "SubjectFromWebIdentityToken>\n"
      "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n"
      "    </AssumedRoleUser>\n    <Provider>sts.amazonaws.com</Provider>\n"
      "    <Audience>sts.amazonaws.com</Audience>\n",
      akid, xml_escape(c.secret), xml_escape(c.session_token), format_iso8601(*c.expiration),
      xml_escape(c.user_id), xml_escape(c.arn));
  return response("AssumeRoleWithWebIdentity", result, request_id);
}

inline int duration_param(const Params& p) {
  int duration = 3600;
  if (auto it = p.find("DurationSeconds"); it != p.end()) {
    try {
      duration = std::stoi(it->second);
    } catch (const std::exception&) {
      duration = -1;
    }
    if (duration < 900 || duration > 43200) {
      throw AwsError{400, "ValidationError",
                     fmt::format("1 validation error detected: Value '{}' at 'durationSeconds' "
                                 "failed to satisfy constraint: Member must have value between "
                                 "900 and 43200",
                                 it->second)};
    }
  }
  return duration;
}

// caller: the access key id that signed the request (verified).
inline std::string assume_role(State& s, const Params& p, const std::string& caller,
                               const std::string& request_id) {
  std::string role_arn = param(p, "RoleArn");
  std::string session = param(p, "RoleSessionName");
  const int duration = duration_param(p);
  const Credential& who = s.credentials.at(caller);
  const Role* role = nullptr;
  for (const auto& r : s.identity.roles) {
    if (r.arn == role_arn) role = &r;
  }
  auto external = p.find("ExternalId");
  const std::string external_id = external == p.end() ? "" : external->second;
  if (role == nullptr ||
      (!role->trusted_keys.empty() && !service_allowed(role->trusted_keys, caller)) ||
      role->external_id != external_id || !service_allowed(who.services, "sts")) {
    throw AwsError{403, "AccessDenied",
                   fmt::format("User: {} is not authorized to perform: sts:AssumeRole on "
                               "resource: {}",
                               who.arn, role_arn)};
  }
  const std::string account = arn_account(role_arn, s.account);
  const std::string role_name = role_arn.substr(role_arn.rfind('/') + 1);
  const std::string role_id = "AROA" + random_string(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  auto [akid, c] = issue_credentials(
      s, account, fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", account, role_name, session),
      role_id + ":" + session, role->credential_seconds.value_or(duration), role->services,
      role->access_key_id);
  std::string result = fmt::format(
      "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n"
      "      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n"
      "      <Expiration>{}</Expiration>\n    </Credentials>\n"
      "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n"
      "    </AssumedRoleUser>\n",
      akid, xml_escape(c.secret), xml_escape(c.session_token), format_iso8601(*c.expiration),
      xml_escape(c.user_id), xml_escape(c.arn));
  return response("AssumeRole", result, request_id);
}

inline std::string get_caller_identity(const State& s, const std::string& access_key_id,
                                       const std::string& request_id) {
  const Credential& c = s.credentials.at(access_key_id);
  std::string result = fmt::format(
      "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n", xml_escape(c.arn),
      xml_escape(c.user_id), c.account.empty() ? s.account : c.account);
  return response("GetCallerIdentity", result, request_id);
}

}  // namespace imagegate::fake_aws::sts
