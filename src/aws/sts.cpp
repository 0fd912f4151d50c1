#include "aws/sts.hpp"

#include <fmt/format.h>

#include "aws/sigv4_detail.hpp"

namespace imagegate::aws::sts {
namespace {

std::optional<std::string> find_header(const http::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string redact_all(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) text = redact(std::move(text), {secret});
  return text;
}

// The Host header and path SigV4 signs for a base URL.
std::pair<std::string, std::string> host_and_path(const std::string& base) {
  const auto scheme_end = base.find("://");
  const std::string scheme = base.substr(0, scheme_end);
  std::string rest = base.substr(scheme_end + 3);
  const auto path_start = rest.find('/');
  std::string host = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : rest.substr(path_start);
  if (!path.ends_with('/')) path.push_back('/');
  if ((scheme == "https" && host.ends_with(":443")) ||
      (scheme == "http" && host.ends_with(":80"))) {
    host = host.substr(0, host.rfind(':'));
  }
  return {host, path};
}

}  // namespace

std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(invalid URL)";
  auto path_start = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path_start);
}

std::pair<std::string, std::string> endpoint_for(const CredentialChainOptions& options,
                                                 const std::string& region, bool legacy) {
  const Environment& env = *options.env;
  const bool configured = !env.get_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", false) &&
                          (env.get("AWS_ENDPOINT_URL_STS") || env.get("AWS_ENDPOINT_URL"));
  if (options.sts_endpoint && region == options.region && (configured || !legacy)) {
    return {*options.sts_endpoint, region.empty() ? std::string("us-east-1") : region};
  }
  if (region.empty()) return {"https://sts.amazonaws.com", "us-east-1"};
  if (legacy && !configured) return {"https://sts.amazonaws.com", "us-east-1"};
  return {resolve_endpoint("sts", region, std::nullopt, env), region};
}

std::string default_session_name(const CredentialChainOptions& options) {
  return fmt::format(
      "imagegate-{}",
      std::chrono::duration_cast<std::chrono::seconds>(options.now().time_since_epoch()).count());
}

Result<Credentials> call(const CredentialChainOptions& options, const Call& c) {
  const std::string what = fmt::format("{}: STS {} at {} for role {}", c.label, c.action,
                                       origin_of(c.endpoint), c.role_arn);
  if (options.sts_http == nullptr) {
    return fail("AUTH_FAILED", fmt::format("{}: no HTTP client for STS", c.label));
  }
  std::string body = "Action=" + c.action + "&Version=2011-06-15";
  for (const auto& [key, value] : c.params) {
    body += "&" + key + "=" + detail::form_encode(value);
  }
  const auto [host, path] = host_and_path(c.endpoint);
  SigningRequest signing{"POST",
                         path,
                         "",
                         {{"Host", host},
                          {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                          {"Accept", "text/xml"}},
                         std::move(body)};
  if (c.signer != nullptr) {
    sign(signing, *c.signer, {c.signing_region, "sts", options.now(), true});
  }
  http::Request request;
  request.method = "POST";
  // The base URL with its path ending in '/', as signed.
  const auto authority_start = c.endpoint.find("://") + 3;
  request.url = c.endpoint.substr(0, c.endpoint.find('/', authority_start)) + path;
  request.headers = std::move(signing.headers);
  request.body = std::move(signing.body);
  request.follow_redirects = false;
  const http::Response response = options.sts_http->run_one(request);

  std::vector<std::string> secrets = c.secrets;
  if (c.signer != nullptr) {
    secrets.push_back(c.signer->secret_access_key);
    secrets.push_back(c.signer->session_token);
  }
  if (!response.error_code.empty()) {
    return fail(response.error_code,
                redact_all(fmt::format("{} failed: {}", what, response.error), secrets));
  }
  const std::string request_id =
      detail::xml_value(response.body, "RequestId")
          .or_else([&] { return find_header(response, "x-amzn-requestid"); })
          .value_or("none");
  if (response.status != 200) {
    const std::string code = detail::xml_value(response.body, "Code").value_or("unknown error");
    const std::string message = detail::xml_value(response.body, "Message").value_or("");
    return fail("AUTH_FAILED",
                redact_all(fmt::format("{} failed: HTTP {} {}: {} (request id {})", what,
                                       response.status, code, message, request_id),
                           secrets));
  }
  auto key_id = detail::xml_value(response.body, "AccessKeyId");
  auto secret = detail::xml_value(response.body, "SecretAccessKey");
  auto session = detail::xml_value(response.body, "SessionToken");
  auto expiration = detail::xml_value(response.body, "Expiration");
  if (!key_id || !secret || !session || key_id->empty() || secret->empty() || session->empty()) {
    return fail(
        "BAD_RESPONSE",
        fmt::format("{}: answer has no complete Credentials (request id {})", what, request_id));
  }
  Credentials credentials{*key_id, *secret, *session, std::nullopt, ""};
  if (expiration) {
    credentials.expiration = detail::parse_iso8601(*expiration);
    if (!credentials.expiration) {
      return fail("BAD_RESPONSE", fmt::format("{}: unreadable Expiration", what));
    }
  }
  return credentials;
}

}  // namespace imagegate::aws::sts
