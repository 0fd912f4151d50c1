#include "aws/sso.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/sigv4_detail.hpp"
#include "aws/sts.hpp"

namespace imagegate::aws::sso {
namespace {

using nlohmann::json;

std::string format_time(std::chrono::system_clock::time_point time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(time));
}

// expiresAt as the CLI writes it ("2026-12-02T01:00:00Z"), and as older versions did
// ("2026-12-02T01:00:00UTC").
std::optional<std::chrono::system_clock::time_point> parse_expires_at(std::string text) {
  if (text.ends_with("UTC")) text = text.substr(0, text.size() - 3) + "Z";
  return detail::parse_iso8601(text);
}

}  // namespace

bool configured(const SharedConfig& profile) {
  return profile.config_value("sso_session") || profile.config_value("sso_start_url") ||
         profile.config_value("sso_account_id");
}

std::string cache_file_name(const std::string& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex + ".json";
}

Result<Credentials> resolve(const CredentialChainOptions& options, const SharedConfig& profile) {
  const std::string label = "profile " + profile.profile_name;
  const std::string login = fmt::format("run `aws sso login --profile {}`", profile.profile_name);
  std::string start_url, sso_region, cache_key, token_of;
  if (auto session = profile.config_value("sso_session")) {
    auto section = profile.sso_session(*session);
    if (!section) {
      return fail("AUTH_FAILED",
                  fmt::format("{}: sso_session {} has no [sso-session {}] section in {}", label,
                              *session, *session, profile.config_file));
    }
    start_url = section->contains("sso_start_url") ? section->at("sso_start_url") : "";
    sso_region = section->contains("sso_region") ? section->at("sso_region") : "";
    cache_key = *session;
    token_of = "sso-session " + *session;
  } else {
    start_url = profile.config_value("sso_start_url").value_or("");
    sso_region = profile.config_value("sso_region").value_or("");
    cache_key = start_url;
    token_of = "start URL " + start_url;
  }
  auto account = profile.config_value("sso_account_id");
  auto role = profile.config_value("sso_role_name");
  std::vector<std::string> missing;
  if (start_url.empty()) missing.emplace_back("sso_start_url");
  if (sso_region.empty()) missing.emplace_back("sso_region");
  if (!account) missing.emplace_back("sso_account_id");
  if (!role) missing.emplace_back("sso_role_name");
  if (!missing.empty()) {
    return fail("AUTH_FAILED",
                fmt::format("{}: SSO configuration lacks {}", label, fmt::join(missing, ", ")));
  }

  const std::string cache_path =
      options.env->get_or("HOME", "") + "/.aws/sso/cache/" + cache_file_name(cache_key);
  std::ifstream in(cache_path, std::ios::binary);
  if (!in) {
    return fail("AUTH_FAILED", fmt::format("{}: no cached SSO token for {} ({}); {}", label,
                                           token_of, cache_path, login));
  }
  std::ostringstream text;
  text << in.rdbuf();
  const json cached = json::parse(text.str(), nullptr, false);
  if (!cached.is_object() || !cached.contains("accessToken") ||
      !cached["accessToken"].is_string() || !cached.contains("expiresAt") ||
      !cached["expiresAt"].is_string()) {
    return fail("AUTH_FAILED", fmt::format("{}: the cached SSO token {} has no accessToken and "
                                           "expiresAt; {}",
                                           label, cache_path, login));
  }
  const std::string token = cached["accessToken"].get<std::string>();
  auto expires = parse_expires_at(cached["expiresAt"].get<std::string>());
  if (!expires) {
    return fail("AUTH_FAILED", fmt::format("{}: the cached SSO token {} has an unreadable "
                                           "expiresAt; {}",
                                           label, cache_path, login));
  }
  if (*expires <= options.now()) {
    return fail("AUTH_FAILED", fmt::format("{}: the SSO token for {} expired at {}; {}", label,
                                           token_of, format_time(*expires), login));
  }

  if (options.sts_http == nullptr) {
    return fail("AUTH_FAILED", label + ": no HTTP client for the SSO portal");
  }
  const std::string endpoint = resolve_endpoint("sso", sso_region, std::nullopt, *options.env);
  http::Request request;
  request.url = fmt::format("{}/federation/credentials?account_id={}&role_name={}", endpoint,
                            detail::uri_encode(*account, false), detail::uri_encode(*role, false));
  request.headers = {{"x-amz-sso_bearer_token", token}, {"Accept", "application/json"}};
  request.follow_redirects = false;
  const http::Response response = options.sts_http->run_one(request);
  const std::string what = fmt::format("{}: SSO GetRoleCredentials at {} for account {} role {}",
                                       label, sts::origin_of(endpoint), *account, *role);
  if (!response.error_code.empty()) {
    return fail(response.error_code,
                redact(fmt::format("{} failed: {}", what, response.error), {token}));
  }
  const json doc = json::parse(response.body, nullptr, false);
  if (response.status != 200) {
    std::string code = "unknown error";
    std::string message;
    for (const auto& [key, value] : response.headers) {
      if (key == "x-amzn-errortype") code = value.substr(0, value.find(':'));
    }
    if (doc.is_object() && doc.contains("message") && doc["message"].is_string()) {
      message = doc["message"].get<std::string>();
    }
    const bool unauthorized = response.status == 401 || code == "UnauthorizedException";
    return fail("AUTH_FAILED",
                redact(fmt::format("{} failed: HTTP {} {}: {}{}", what, response.status, code,
                                   message, unauthorized ? "; " + login : std::string()),
                       {token}));
  }
  const json* creds =
      doc.is_object() && doc.contains("roleCredentials") && doc["roleCredentials"].is_object()
          ? &doc["roleCredentials"]
          : nullptr;
  auto field = [&](const char* key) {
    return creds && creds->contains(key) && (*creds)[key].is_string()
               ? (*creds)[key].get<std::string>()
               : std::string();
  };
  Credentials credentials{field("accessKeyId"), field("secretAccessKey"), field("sessionToken"),
                          std::nullopt,
                          fmt::format("{} sso (account {}, role {})", label, *account, *role)};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return fail("BAD_RESPONSE", fmt::format("{}: answer has no complete roleCredentials", what));
  }
  if (creds->contains("expiration") && (*creds)["expiration"].is_number()) {
    credentials.expiration = std::chrono::system_clock::time_point(
        std::chrono::milliseconds((*creds)["expiration"].get<long long>()));
  }
  return credentials;
}

}  // namespace imagegate::aws::sso
