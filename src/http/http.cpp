#include "http/http.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "http/stats.hpp"

namespace imagegate::http {
namespace {

// Query parameters that carry credentials: presigned S3/GCS URLs (registries redirect blob
// downloads to them) and OAuth-style tokens.
constexpr std::array<std::string_view, 11> kSecretQueryParams = {"x-amz-signature",
                                                                 "x-amz-credential",
                                                                 "x-amz-security-token",
                                                                 "x-goog-signature",
                                                                 "x-goog-credential",
                                                                 "signature",
                                                                 "sig",
                                                                 "token",
                                                                 "access_token",
                                                                 "password",
                                                                 "client_secret"};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool is_secret_param(std::string_view name) {
  return std::any_of(kSecretQueryParams.begin(), kSecretQueryParams.end(),
                     [&](std::string_view secret) { return iequals(name, secret); });
}

std::string redact_query(std::string_view query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    std::size_t eq = pair.find('=');
    if (start > 0) out += '&';
    if (eq != std::string_view::npos && is_secret_param(pair.substr(0, eq))) {
      out += pair.substr(0, eq);
      out += "=REDACTED";
    } else {
      out += pair;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

ClientStats& ClientStats::operator+=(const ClientStats& other) {
  requests += other.requests;
  attempts += other.attempts;
  retries += other.retries;
  throttled += other.throttled;
  connections += other.connections;
  for (const auto& [kind, n] : other.by_kind) by_kind[kind] += n;
  for (const auto& [protocol, n] : other.by_protocol) by_protocol[protocol] += n;
  return *this;
}

std::string request_kind(const Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (!iequals(name, "x-amz-target")) continue;
    // "AmazonEC2ContainerRegistry_V20150921.BatchGetImage" -> "BatchGetImage"
    const std::size_t dot = value.rfind('.');
    return request.method + " " + (dot == std::string::npos ? value : value.substr(dot + 1));
  }
  std::string_view url = request.url;
  const std::size_t scheme_end = url.find("://");
  const std::size_t path_start =
      url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  std::string_view path = path_start == std::string_view::npos ? "/" : url.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  std::string_view kind = "other";
  if (path == "/v2/" || path == "/v2") {
    kind = "ping";
  } else if (path.starts_with("/v2/")) {
    if (path.find("/manifests/") != std::string_view::npos) {
      kind = "manifest";
    } else if (path.find("/blobs/") != std::string_view::npos) {
      kind = "blob";
    } else if (path.ends_with("/tags/list")) {
      kind = "tags";
    } else if (path.find("/referrers/") != std::string_view::npos) {
      kind = "referrers";
    }
  } else if (path.ends_with("/token")) {
    kind = "token";
  }
  return request.method + " " + std::string(kind);
}

void Client::run_each(const std::vector<Request>& requests, const OnResponse& on_response) {
  std::vector<Response> responses = run(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i < responses.size()) {
      on_response(i, std::move(responses[i]));
      continue;
    }
    // A client that answered fewer requests than it was given: never an empty success.
    Response missing;
    missing.error_code = "BAD_RESPONSE";
    missing.error = requests[i].method + " " + redact_url(requests[i].url) +
                    ": the HTTP client returned no answer";
    on_response(i, std::move(missing));
  }
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::string redact_url(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();

  std::string out(url.substr(0, authority_start));
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  // The last '@' ends the userinfo: a password may itself contain an unencoded '@'.
  std::size_t at = authority.rfind('@');
  out += at == std::string_view::npos ? authority : authority.substr(at + 1);

  std::string_view rest = url.substr(authority_end);
  std::size_t fragment = rest.find('#');
  std::string_view before_fragment = rest.substr(0, fragment);
  std::size_t question = before_fragment.find('?');
  if (question == std::string_view::npos) {
    out += rest;
    return out;
  }
  out += before_fragment.substr(0, question + 1);
  out += redact_query(before_fragment.substr(question + 1));
  if (fragment != std::string_view::npos) out += rest.substr(fragment);
  return out;
}

}  // namespace imagegate::http
