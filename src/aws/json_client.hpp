// AWS JSON 1.1 protocol client (ECR, ECS): signs each attempt with SigV4, runs many calls
// concurrently through one http::Client batch, and retries them in rounds under the SDKs'
// "standard" retry mode (3 attempts, full-jitter backoff, a shared retry quota). Errors keep the
// AWS error code, HTTP status and request id so callers can tell e.g. RepositoryNotFoundException
// apart; no message ever holds a secret.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/credentials.hpp"
#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::aws {

struct AwsError {
  // Finding code: AUTH_FAILED (denied, bad or expired credentials), THROTTLED (still throttled
  // after every attempt), UNREACHABLE (no answer), BAD_RESPONSE (answer not understood),
  // AWS_ERROR (any other service error: look at aws_code).
  std::string code;
  std::string aws_code;  // e.g. "RepositoryNotFoundException"; empty without a service answer
  long http_status = 0;
  std::string request_id;  // x-amzn-requestid, empty if none
  std::string message;     // complete, for people: operation, AWS code, status, request id
  int attempts = 0;

  Error to_error() const { return Error{code, message}; }
};

template <typename T>
using AwsResult = std::expected<T, AwsError>;

struct JsonCall {
  std::string service;  // signing name and endpoint key: "ecr", "ecs"
  std::string target;   // X-Amz-Target, e.g. "AmazonEC2ContainerRegistry_V20150921.BatchGetImage"
  nlohmann::json body = nlohmann::json::object();
};

// The SDKs' standard retry mode.
struct RetryOptions {
  int max_attempts = 3;  // AWS_MAX_ATTEMPTS
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_backoff{20000};
  int quota = 500;              // retry tokens shared by every call of one client
  int retry_cost = 5;           // taken per retry
  int timeout_retry_cost = 10;  // taken per retry after a timeout
  int no_retry_increment = 1;   // given back by a call that succeeds at once
};

struct JsonClientOptions {
  http::Client* http = nullptr;                  // required
  CredentialProvider* credentials = nullptr;     // required
  std::string region;                            // required
  std::map<std::string, std::string> endpoints;  // service -> base URL (resolve_endpoint)
  RetryOptions retry;
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  std::function<std::chrono::system_clock::time_point()> now;  // default: system clock
  std::function<void(std::chrono::milliseconds)> sleep;        // default: sleep_for
  std::function<double()> random;                              // in [0, 1); default: mt19937
};

class JsonClient {
 public:
  explicit JsonClient(JsonClientOptions options);

  AwsResult<nlohmann::json> call(const JsonCall& call);
  // Runs every call concurrently (one http::Client::run per round) and returns one result per
  // call, in order; only failed retryable calls go into the next round, re-signed.
  std::vector<AwsResult<nlohmann::json>> call_batch(const std::vector<JsonCall>& calls);

  int retry_tokens_left() const;

 private:
  JsonClientOptions options_;
  int tokens_;
  // Server time minus local time, learnt from a rejected signature's Date header: later
  // attempts are signed with the server's idea of now, as the SDKs do.
  std::chrono::system_clock::duration clock_skew_{0};
  mutable std::mutex mutex_;
};

namespace detail {
// Error code from a JSON 1.1 error answer: __type (namespace before '#' removed), else code,
// else the X-Amzn-ErrorType header (anything after ':' removed).
std::string aws_error_code(const nlohmann::json& body, const http::Headers& headers);
bool is_throttling_code(std::string_view code);
bool is_transient_code(std::string_view code);
bool is_auth_code(std::string_view code);
// Codes with which AWS rejects a request signed at the wrong time.
bool is_clock_skew_code(std::string_view code);
// RFC 7231 HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT").
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);
}  // namespace detail

}  // namespace imagegate::aws
