#include "aws/credential_sources.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/sts.hpp"

namespace imagegate::aws::sources {
namespace {

using nlohmann::json;

std::optional<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string format_time(std::chrono::system_clock::time_point time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(time));
}

// Scheme and host[:port] only: the path of a container credentials URI is not for logs.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(invalid URL)";
  auto path_start = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path_start);
}

std::string host_of(const std::string& url) {
  auto scheme_end = url.find("://");
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

bool is_allowed_http_container_host(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" ||
      host == "169.254.170.23" || host == "[fd00:ec2::23]") {
    return true;
  }
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  return std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 &&
         b < 256 && c < 256 && d < 256;
}

// Parses {AccessKeyId, SecretAccessKey, Token, Expiration}, the shape shared by the container
// endpoint and instance metadata.
Result<Credentials> credentials_from_json(const std::string& body, const std::string& source) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("AccessKeyId") || !doc.contains("SecretAccessKey") ||
      !doc["AccessKeyId"].is_string() || !doc["SecretAccessKey"].is_string()) {
    return fail("BAD_RESPONSE", fmt::format("{}: answer is not a credentials document", source));
  }
  Credentials credentials;
  credentials.access_key_id = doc["AccessKeyId"].get<std::string>();
  credentials.secret_access_key = doc["SecretAccessKey"].get<std::string>();
  if (doc.contains("Token") && doc["Token"].is_string()) {
    credentials.session_token = doc["Token"].get<std::string>();
  }
  if (doc.contains("Expiration") && doc["Expiration"].is_string()) {
    credentials.expiration = detail::parse_iso8601(doc["Expiration"].get<std::string>());
    if (!credentials.expiration) {
      return fail("BAD_RESPONSE", fmt::format("{}: unreadable Expiration", source));
    }
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return fail("BAD_RESPONSE", fmt::format("{}: empty access key in answer", source));
  }
  credentials.source = source;
  return credentials;
}

}  // namespace

Attempt accept_unless_expired(Credentials credentials, const CredentialChainOptions& options) {
  if (credentials.expiration && *credentials.expiration <= options.now()) {
    return {std::nullopt, "expired at " + format_time(*credentials.expiration)};
  }
  return {std::move(credentials), ""};
}

Result<Attempt> web_identity(const CredentialChainOptions& options,
                             const WebIdentityConfig& config) {
  auto token = read_secret_file(config.token_file);
  if (!token || token->empty()) {
    return fail("AUTH_FAILED",
                fmt::format("{}: cannot read the token file {}", config.label, config.token_file));
  }
  const std::string region = config.region.empty() ? options.region : config.region;
  const auto [endpoint, signing_region] = sts::endpoint_for(options, region, config.legacy_sts);
  sts::Call call;
  call.action = "AssumeRoleWithWebIdentity";
  call.params = {
      {"RoleArn", config.role_arn},
      {"RoleSessionName",
       config.session_name.empty() ? sts::default_session_name(options) : config.session_name},
      {"WebIdentityToken", *token}};
  if (config.duration_seconds) {
    call.params.emplace_back("DurationSeconds", std::to_string(*config.duration_seconds));
  }
  call.endpoint = endpoint;
  call.signing_region = signing_region;
  call.label = config.label;
  call.role_arn = config.role_arn;
  call.secrets = {*token};
  auto credentials = sts::call(options, call);
  if (!credentials) return std::unexpected(credentials.error());
  credentials->source = fmt::format("{} (role {})", config.label, config.role_arn);
  return accept_unless_expired(std::move(*credentials), options);
}

Attempt environment(const Environment& env) {
  auto key_id = env.get("AWS_ACCESS_KEY_ID");
  auto secret = env.get("AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    return {Credentials{*key_id, *secret, env.get_or("AWS_SESSION_TOKEN", ""), std::nullopt,
                        "environment"},
            ""};
  }
  if (key_id) return {std::nullopt, "AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY"};
  if (secret) return {std::nullopt, "AWS_SECRET_ACCESS_KEY set without AWS_ACCESS_KEY_ID"};
  return {};
}

Result<Attempt> container(const CredentialChainOptions& options) {
  const Environment& env = *options.env;
  std::string url;
  if (auto relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + (relative->starts_with('/') ? *relative : "/" + *relative);
  } else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    const bool https = url.starts_with("https://");
    if (!https && !(url.starts_with("http://") && is_allowed_http_container_host(host_of(url)))) {
      throw UsageError(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https://, or http:// to a loopback address, "
          "169.254.170.2, 169.254.170.23 or [fd00:ec2::23]; got " +
          origin_of(url));
    }
  } else {
    return Attempt{std::nullopt, ""};
  }
  const std::string label = "container credentials at " + origin_of(url);

  http::Request request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  request.follow_redirects = false;
  std::string token;
  if (auto file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto text = read_secret_file(*file);
    if (!text) {
      return fail(
          "AUTH_FAILED",
          fmt::format("{}: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}", label, *file));
    }
    token = *text;
  } else if (auto value = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *value;
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return fail("AUTH_FAILED", label + ": the authorization token contains a line break");
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", token);
  if (options.metadata_http == nullptr) {
    return fail("AUTH_FAILED", label + ": no HTTP client for metadata");
  }

  const http::Response response = options.metadata_http->run_one(request);
  if (!response.error_code.empty()) {
    return fail(response.error_code,
                redact(fmt::format("{} failed: {}", label, response.error), {token}));
  }
  if (response.status != 200) {
    return fail("AUTH_FAILED", fmt::format("{} answered HTTP {}", label, response.status));
  }
  auto credentials = credentials_from_json(response.body, label);
  if (!credentials) return std::unexpected(credentials.error());
  credentials->source = "container credentials";
  return accept_unless_expired(std::move(*credentials), options);
}

Attempt instance_metadata(const CredentialChainOptions& options) {
  const Environment& env = *options.env;
  if (env.get_bool("AWS_EC2_METADATA_DISABLED", false)) {
    return {std::nullopt, "disabled by AWS_EC2_METADATA_DISABLED"};
  }
  if (options.metadata_http == nullptr) return {std::nullopt, "no HTTP client"};
  std::string endpoint = env.get_or("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254");
  while (endpoint.ends_with('/')) endpoint.pop_back();
  const std::string where = origin_of(endpoint);

  http::Request token_request;
  token_request.method = "PUT";
  token_request.url = endpoint + "/latest/api/token";
  token_request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  token_request.retry = false;
  token_request.follow_redirects = false;
  const http::Response token_response = options.metadata_http->run_one(token_request);
  if (!token_response.error_code.empty()) return {std::nullopt, "not reachable at " + where};
  if (token_response.status != 200 || token_response.body.empty()) {
    return {std::nullopt,
            fmt::format("token request to {} answered HTTP {}", where, token_response.status)};
  }
  const std::string& token = token_response.body;

  auto get = [&](const std::string& path) {
    http::Request request;
    request.url = endpoint + path;
    request.headers = {{"X-aws-ec2-metadata-token", token}};
    request.retry = false;
    request.follow_redirects = false;
    return options.metadata_http->run_one(request);
  };
  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  const http::Response roles = get(roles_path);
  if (!roles.error_code.empty()) return {std::nullopt, "not reachable at " + where};
  if (roles.status == 404) return {std::nullopt, "no IAM role attached to the instance"};
  std::string role = roles.body.substr(0, roles.body.find_first_of("\r\n"));
  if (roles.status != 200 || role.empty() || role.find('/') != std::string::npos) {
    return {std::nullopt, fmt::format("role list at {} answered HTTP {}", where, roles.status)};
  }

  const http::Response answer = get(roles_path + role);
  if (!answer.error_code.empty() || answer.status != 200) {
    return {std::nullopt,
            fmt::format("credentials of role {} not available (HTTP {})", role, answer.status)};
  }
  json doc = json::parse(answer.body, nullptr, false);
  if (doc.is_object() && doc.contains("Code") && doc["Code"] != "Success") {
    return {std::nullopt, fmt::format("role {}: metadata says {}", role,
                                      doc["Code"].is_string() ? doc["Code"].get<std::string>()
                                                              : std::string("not Success"))};
  }
  auto credentials = credentials_from_json(answer.body, "instance metadata");
  if (!credentials) return {std::nullopt, credentials.error().message};
  credentials->source = fmt::format("instance metadata (role {})", role);
  return accept_unless_expired(std::move(*credentials), options);
}

}  // namespace imagegate::aws::sources
