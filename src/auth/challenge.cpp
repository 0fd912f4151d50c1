// The Distribution token flow: WWW-Authenticate challenges, the realm policy and token requests.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "auth/auth.hpp"

namespace imagegate::auth {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return lowered(a) == lowered(b);
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) {
    s.remove_prefix(1);
  }
}

// One challenge: scheme followed by comma-separated auth-params (token or quoted-string values).
std::optional<Challenge> parse_one(std::string_view text) {
  skip_spaces(text);
  const std::size_t end = text.find_first_of(" \t");
  const std::string_view scheme = text.substr(0, end);
  Challenge challenge;
  if (iequals(scheme, "basic")) {
    challenge.scheme = Scheme::kBasic;
    return challenge;
  }
  if (!iequals(scheme, "bearer")) return std::nullopt;
  challenge.scheme = Scheme::kBearer;
  text = end == std::string_view::npos ? std::string_view() : text.substr(end);
  while (true) {
    skip_spaces(text);
    if (text.empty()) break;
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key = lowered(text.substr(0, eq));
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    text.remove_prefix(eq + 1);
    std::string value;
    if (!text.empty() && text.front() == '"') {
      text.remove_prefix(1);
      bool closed = false;
      while (!text.empty()) {
        const char c = text.front();
        text.remove_prefix(1);
        if (c == '\\' && !text.empty()) {
          value.push_back(text.front());
          text.remove_prefix(1);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const std::size_t stop = text.find(',');
      value = std::string(text.substr(0, stop));
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      text = stop == std::string_view::npos ? std::string_view() : text.substr(stop);
    }
    if (key == "realm") challenge.realm = value;
    if (key == "service") challenge.service = value;
    if (key == "scope") challenge.scope = value;
  }
  if (challenge.realm.empty()) return std::nullopt;
  return challenge;
}

}  // namespace

std::optional<UrlParts> split_url(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  UrlParts parts;
  parts.scheme = lowered(url.substr(0, sep));
  if (parts.scheme != "http" && parts.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  const std::size_t path_start = rest.find_first_of("/?#");
  parts.host = lowered(rest.substr(0, path_start));
  if (path_start != std::string_view::npos) parts.path = std::string(rest.substr(path_start));
  // userinfo in a URL would put a secret where it gets logged.
  if (parts.host.empty() || parts.host.find('@') != std::string::npos) return std::nullopt;
  return parts;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  std::string h = lowered(host);
  if (h.starts_with("[")) {
    const std::size_t close = h.find(']');
    if (close == std::string::npos) return false;
    return h.substr(1, close - 1) == "::1";
  }
  h = h.substr(0, h.find(':'));
  if (h == "localhost") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (!h.starts_with("127.")) return false;
  int dots = 0;
  for (const char c : h) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Result<Challenge> parse_challenge(const http::Response& response) {
  bool any = false;
  for (const auto& [name, value] : response.headers) {
    if (name != "www-authenticate") continue;
    any = true;
    if (auto challenge = parse_one(value)) return *challenge;
  }
  return fail("AUTH_FAILED", any ? "registry answered 401 with a WWW-Authenticate challenge that "
                                   "is neither Basic nor Bearer with a realm"
                                 : "registry answered 401 without a WWW-Authenticate challenge");
}

Result<void> check_realm(std::string_view realm, std::string_view registry_scheme,
                         std::string_view registry_host) {
  const auto parts = split_url(realm);
  if (!parts) {
    return fail("AUTH_FAILED", "token realm in the registry's challenge is not an http(s) URL");
  }
  if (parts->scheme == "https") return {};
  if (registry_scheme == "http" && is_loopback_host(registry_host) &&
      is_loopback_host(parts->host)) {
    return {};
  }
  return fail("AUTH_FAILED",
              fmt::format("token realm http://{} is plain http: tokens and credentials are only "
                          "sent to an https realm (plain http only when the registry and the "
                          "realm are both on loopback)",
                          parts->host));
}

http::Request token_request(const Challenge& challenge, std::string_view scope,
                            const std::optional<Credential>& credential) {
  http::Request request;
  request.headers.emplace_back("Accept", "application/json");
  if (credential && !credential->identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does for an identity token.
    request.method = "POST";
    request.url = challenge.realm;
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = fmt::format("grant_type=refresh_token&client_id=imagegate&refresh_token={}",
                               url_encode(credential->identity_token));
    if (!challenge.service.empty()) request.body += "&service=" + url_encode(challenge.service);
    if (!scope.empty()) request.body += "&scope=" + url_encode(scope);
    return request;
  }
  request.method = "GET";
  std::string url = challenge.realm;
  char joiner = url.find('?') == std::string::npos ? '?' : '&';
  if (!challenge.service.empty()) {
    url += joiner + std::string("service=") + url_encode(challenge.service);
    joiner = '&';
  }
  if (!scope.empty()) url += joiner + std::string("scope=") + url_encode(scope);
  request.url = std::move(url);
  if (credential) request.headers.emplace_back("Authorization", basic_authorization(*credential));
  return request;
}

Result<std::string> parse_token_response(const http::Response& response, std::string_view scope) {
  if (!response.error_code.empty()) {
    return fail(response.error_code,
                fmt::format("token endpoint for {}: {}", scope, response.error));
  }
  if (response.status == 401 || response.status == 403) {
    return fail("AUTH_FAILED", fmt::format("token endpoint for {} denied access (HTTP {})", scope,
                                           response.status));
  }
  if (response.status >= 500 || response.status == 429) {
    return fail("UNREACHABLE",
                fmt::format("token endpoint for {} answered HTTP {}", scope, response.status));
  }
  if (response.status != 200) {
    return fail("AUTH_FAILED",
                fmt::format("token endpoint for {} answered HTTP {}", scope, response.status));
  }
  const auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("BAD_RESPONSE",
                fmt::format("token endpoint for {} answered with something not JSON", scope));
  }
  for (const char* key : {"token", "access_token"}) {
    const auto it = doc.find(key);
    if (it != doc.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return fail("BAD_RESPONSE", fmt::format("token endpoint for {} answered without a token", scope));
}

}  // namespace imagegate::auth
