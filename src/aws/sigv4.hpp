// AWS Signature Version 4 (header signing), checked against the official test suite in
// tests/data/sigv4. Used by the AWS JSON 1.1 client and, to verify signatures, by the fake AWS.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "http/http.hpp"

namespace imagegate::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged or printed
  std::string session_token;      // sent as X-Amz-Security-Token when set; never logged
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string source;  // where they came from, e.g. "environment", "profile default"
};

struct SigningParams {
  std::string region;
  std::string service;  // "ecr", "ecs", "sts"
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;  // S3 is the only service that turns this off
};

// A request as it goes on the wire: path and query exactly as sent (already percent-encoded).
struct SigningRequest {
  std::string method;
  std::string path;       // e.g. "/"
  std::string query;      // without '?', may be empty
  http::Headers headers;  // must include Host
  std::string body;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // full Authorization header value
};

// Computes the signature of request (whose headers already hold X-Amz-Date and, when a session
// token is used, X-Amz-Security-Token).
Signature compute_signature(const SigningRequest& request, const Credentials& credentials,
                            const SigningParams& params);

// Adds X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization to
// request.headers and returns the signature.
Signature sign(SigningRequest& request, const Credentials& credentials,
               const SigningParams& params);

// Helpers shared with the verifier in the fake AWS.
std::string sha256_hex(std::string_view data);
std::string format_amz_date(std::chrono::system_clock::time_point time);  // 20150830T123600Z

}  // namespace imagegate::aws
