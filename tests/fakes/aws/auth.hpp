// SigV4 verification for the fake AWS: parses the Authorization header, recomputes the signature
// with the project's signer and the secret the state knows for the access key, and checks the
// credential scope, the clock skew and session tokens the way AWS does. Failures come back as a
// kind; the caller renders it in its protocol's error shape (JSON 1.1 or query XML).
#pragma once

#include <openssl/crypto.h>

#include <optional>
#include <string>
#include <vector>

#include "aws/sigv4.hpp"
#include "httplib.h"
#include "state.hpp"

namespace imagegate::fake_aws {

enum class AuthFailure { kMissing, kIncomplete, kUnknownKey, kBadSignature, kExpired };

struct AuthResult {
  std::optional<AuthFailure> failure;
  std::string message;        // for kBadSignature / kIncomplete: AWS's wording
  std::string access_key_id;  // on success
  bool skewed = false;        // kBadSignature because the signing time is 15 minutes off
};

inline std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

// Parses "20150830T123600Z".
inline std::optional<double> parse_amz_date(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  std::string iso =
      fmt::format("{}-{}-{}T{}:{}:{}Z", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2),
                  text.substr(9, 2), text.substr(11, 2), text.substr(13, 2));
  return parse_iso8601(iso);
}

// now: the fake's clock (epoch seconds), which tests may set off the real one.
inline AuthResult verify_request(const httplib::Request& req, const State& state,
                                 const std::string& service, double now) {
  auto bad = [](AuthFailure f, std::string msg = "") { return AuthResult{f, std::move(msg), ""}; };
  std::string header = req.get_header_value("Authorization");
  if (header.empty()) return bad(AuthFailure::kMissing);
  const std::string scheme = "AWS4-HMAC-SHA256 ";
  if (!header.starts_with(scheme)) {
    return bad(AuthFailure::kIncomplete,
               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
               "header.");
  }
  std::string credential, signed_headers, signature;
  for (const auto& part : split(header.substr(scheme.size()), ',')) {
    std::string p = trim(part);
    if (p.starts_with("Credential=")) credential = p.substr(11);
    if (p.starts_with("SignedHeaders=")) signed_headers = p.substr(14);
    if (p.starts_with("Signature=")) signature = p.substr(10);
  }
  for (auto [name, value] :
       {std::pair{"Credential", &credential}, std::pair{"SignedHeaders", &signed_headers},
        std::pair{"Signature", &signature}}) {
    if (value->empty()) {
      return bad(AuthFailure::kIncomplete,
                 fmt::format("Authorization header requires '{}' parameter.", name));
    }
  }
  auto scope = split(credential, '/');
  if (scope.size() != 5 || scope[4] != "aws4_request") {
    return bad(AuthFailure::kIncomplete,
               "Credential should be scoped to a valid region, not a malformed scope.");
  }
  const std::string& akid = scope[0];
  auto cred = state.credentials.find(akid);
  if (cred == state.credentials.end()) return bad(AuthFailure::kUnknownKey);
  const Credential& known = cred->second;
  // Session credentials only work with their token, long-term keys only without one.
  if (req.get_header_value("X-Amz-Security-Token") != known.session_token) {
    return bad(AuthFailure::kUnknownKey);
  }
  std::string amz_date = req.get_header_value("X-Amz-Date");
  auto when = parse_amz_date(amz_date);
  if (!when) {
    return bad(AuthFailure::kIncomplete,
               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
               "header.");
  }
  if (scope[1] != amz_date.substr(0, 8)) {
    return bad(AuthFailure::kBadSignature,
               fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                           "of date from HTTP: '{}' != '{}', from '{}'.",
                           scope[1], amz_date.substr(0, 8), amz_date));
  }
  if (scope[2] != state.region) {
    return bad(AuthFailure::kBadSignature,
               fmt::format("Credential should be scoped to a valid region. "));
  }
  if (scope[3] != service) {
    return bad(AuthFailure::kBadSignature,
               fmt::format("Credential should be scoped to correct service: '{}'. ", service));
  }
  auto fmt_date = [](double t) {
    return aws::format_amz_date(
        std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(t))));
  };
  if (*when < now - 15 * 60) {
    AuthResult skew = bad(AuthFailure::kBadSignature,
                          fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)",
                                      amz_date, fmt_date(now - 15 * 60), fmt_date(now)));
    skew.skewed = true;
    return skew;
  }
  if (*when > now + 15 * 60) {
    AuthResult skew =
        bad(AuthFailure::kBadSignature,
            fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                        amz_date, fmt_date(now + 15 * 60), fmt_date(now)));
    skew.skewed = true;
    return skew;
  }

  aws::SigningRequest sreq;
  sreq.method = req.method;
  auto q = req.target.find('?');
  sreq.path = req.target.substr(0, q);
  sreq.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  sreq.body = req.body;
  for (const auto& name : split(signed_headers, ';')) {
    auto count = req.get_header_value_count(name);
    std::string joined;
    for (std::size_t i = 0; i < count; ++i) {
      if (i) joined += ',';
      joined += req.get_header_value(name, i);
    }
    if (count == 0) {
      return bad(AuthFailure::kBadSignature,
                 fmt::format("The request signature we calculated does not match the signature "
                             "you provided. Signed header '{}' is not in the request.",
                             name));
    }
    sreq.headers.emplace_back(name, joined);
  }
  aws::Credentials creds;
  creds.access_key_id = akid;
  creds.secret_access_key = known.secret;
  creds.session_token = known.session_token;
  aws::SigningParams params;
  params.region = scope[2];
  params.service = scope[3];
  params.time =
      std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(*when)));
  std::string expected = aws::compute_signature(sreq, creds, params).signature;
  if (expected.size() != signature.size() ||
      CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return bad(AuthFailure::kBadSignature,
               "The request signature we calculated does not match the signature you provided. "
               "Check your AWS Secret Access Key and signing method. Consult the service "
               "documentation for details.");
  }
  // Checked after the signature, as AWS does: an expired token is only reported for requests
  // that are otherwise valid.
  if (known.expiration && *known.expiration < now) return bad(AuthFailure::kExpired);
  return AuthResult{std::nullopt, "", akid};
}

}  // namespace imagegate::fake_aws
