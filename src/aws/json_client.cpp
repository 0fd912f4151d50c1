// Retries happen here and nowhere else: every request goes out with http::Request::retry=false so
// the http::Client's own policy never multiplies attempts, and each retried request is signed
// again because a SigV4 signature is only valid for minutes around its X-Amz-Date.
#include "aws/json_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <memory>
#include <random>
#include <span>
#include <thread>

#include "aws/config.hpp"
#include "aws/sigv4.hpp"
#include "util/text.hpp"

namespace imagegate::aws {
namespace {

using nlohmann::json;

constexpr std::string_view kThrottlingCodes[] = {"Throttling",
                                                 "ThrottlingException",
                                                 "ThrottledException",
                                                 "RequestThrottledException",
                                                 "TooManyRequestsException",
                                                 "ProvisionedThroughputExceededException",
                                                 "TransactionInProgressException",
                                                 "RequestLimitExceeded",
                                                 "BandwidthLimitExceeded",
                                                 "LimitExceededException",
                                                 "RequestThrottled",
                                                 "SlowDown",
                                                 "PriorRequestNotComplete",
                                                 "EC2ThrottledException"};
constexpr std::string_view kTransientCodes[] = {"RequestTimeout", "RequestTimeoutException",
                                                "InternalError", "InternalFailure",
                                                "ServiceUnavailable"};
constexpr std::string_view kAuthCodes[] = {
    "AccessDeniedException",       "AccessDenied",
    "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredTokenException",       "ExpiredToken",
    "SignatureDoesNotMatch",       "IncompleteSignature",
    "InvalidClientTokenId",        "MissingAuthenticationTokenException",
    "MissingAuthenticationToken"};

bool contains(std::span<const std::string_view> list, std::string_view code) {
  return std::ranges::find(list, code) != list.end();
}

std::optional<std::string> find_header(const http::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && std::ranges::equal(key, name, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

struct Endpoint {
  std::string url;   // where the request goes (base URL and path)
  std::string host;  // Host header: host[:port] without the scheme's default port
  std::string path;
};

Endpoint parse_endpoint(const std::string& base) {
  const auto scheme_end = base.find("://");
  const std::string scheme = base.substr(0, scheme_end);
  std::string rest = base.substr(scheme_end + 3);
  const auto path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : rest.substr(path_start);
  if (!path.ends_with('/')) path.push_back('/');
  std::string host = authority;
  if ((scheme == "https" && host.ends_with(":443")) ||
      (scheme == "http" && host.ends_with(":80"))) {
    host = host.substr(0, host.rfind(':'));
  }
  return {scheme + "://" + authority + path, host, path};
}

std::string operation_of(const JsonCall& call) {
  const auto dot = call.target.rfind('.');
  return call.service + " " +
         (dot == std::string::npos ? call.target : call.target.substr(dot + 1));
}

// What one attempt gave and whether another attempt may help.
struct Outcome {
  std::optional<json> value;
  AwsError error;
  bool retryable = false;
  bool timeout = false;
  bool throttled = false;
};

Outcome classify(const JsonCall& call, const http::Response& response) {
  Outcome out;
  const std::string operation = operation_of(call);
  AwsError& error = out.error;
  error.http_status = response.status;
  error.request_id = find_header(response.headers, "x-amzn-requestid").value_or("");
  const std::string request_id = error.request_id.empty() ? "none" : error.request_id;

  if (!response.error_code.empty()) {
    error.code = response.error_code;
    error.message = fmt::format("{}: no usable answer: {}", operation, response.error);
    const bool deadline = response.error.find("deadline") != std::string::npos;
    // As the SDKs do, a connection reset or a body cut short is retried like no answer at all.
    out.retryable = (response.error_code == "UNREACHABLE" || response.transient) && !deadline;
    out.timeout = response.error.find("timed out") != std::string::npos ||
                  response.error.find("timeout") != std::string::npos;
    return out;
  }

  json body = json::parse(response.body, nullptr, false);
  if (response.status >= 200 && response.status < 300) {
    if (body.is_object()) {
      out.value = std::move(body);
      return out;
    }
    error.code = "BAD_RESPONSE";
    error.message = fmt::format("{}: answer is not a JSON object (HTTP {}, request id {})",
                                operation, response.status, request_id);
    return out;
  }

  error.aws_code = detail::aws_error_code(body, response.headers);
  std::string message;
  if (body.is_object()) {
    for (const char* key : {"message", "Message"}) {
      if (body.contains(key) && body[key].is_string()) {
        message = body[key].get<std::string>();
        break;
      }
    }
  }
  out.throttled = detail::is_throttling_code(error.aws_code) ||
                  (error.aws_code.empty() && response.status == 429);
  const bool server_error = response.status == 500 || response.status == 502 ||
                            response.status == 503 || response.status == 504;
  out.retryable = out.throttled || detail::is_transient_code(error.aws_code) || server_error;
  // A gateway error without an AWS error shape (an HTML page, nothing) came from a proxy or load
  // balancer in between: AWS itself was not reached.
  const bool gateway = error.aws_code.empty() && !body.is_object() &&
                       (response.status == 502 || response.status == 503 || response.status == 504);
  if (detail::is_auth_code(error.aws_code) ||
      (error.aws_code.empty() && (response.status == 401 || response.status == 403))) {
    error.code = "AUTH_FAILED";
    out.retryable = false;
  } else if (gateway) {
    error.code = "UNREACHABLE";
    const std::string type = find_header(response.headers, "content-type").value_or("");
    error.message = fmt::format(
        "{}: HTTP {} from a proxy or gateway, not an AWS answer ({}, no AWS error code, request id "
        "{})",
        operation, response.status,
        response.body.empty() ? std::string("empty body")
        : type.empty()        ? std::string("no Content-Type")
                              : util::escape_display(type.substr(0, type.find(';'))),
        request_id);
    return out;
  } else if (out.throttled) {
    error.code = "THROTTLED";
  } else {
    error.code = "AWS_ERROR";
  }
  const std::string what = error.aws_code.empty() ? "service error" : error.aws_code;
  error.message = fmt::format("{}: {}{}{} (HTTP {}, request id {})", operation, what,
                              message.empty() ? "" : ": ", message, response.status, request_id);
  return out;
}

}  // namespace

namespace detail {

std::string aws_error_code(const json& body, const http::Headers& headers) {
  std::string code;
  if (body.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (body.contains(key) && body[key].is_string()) {
        code = body[key].get<std::string>();
        break;
      }
    }
  }
  if (code.empty()) code = find_header(headers, "x-amzn-errortype").value_or("");
  if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  return code;
}

bool is_throttling_code(std::string_view code) {
  return contains(kThrottlingCodes, code);
}
bool is_transient_code(std::string_view code) {
  return contains(kTransientCodes, code);
}
bool is_auth_code(std::string_view code) {
  return contains(kAuthCodes, code);
}

bool is_clock_skew_code(std::string_view code) {
  return code == "RequestTimeTooSkewed" || code == "RequestExpired" ||
         code == "InvalidSignatureException" || code == "SignatureDoesNotMatch" ||
         code == "AuthFailure";
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  // No server clock is outside 1970-2199; past +-292 years from 1970 the conversion to
  // system_clock's nanoseconds would overflow.
  if (tm.tm_year < 70 || tm.tm_year >= 300) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace detail

JsonClient::JsonClient(JsonClientOptions options)
    : options_(std::move(options)), tokens_(options_.retry.quota) {
  if (!options_.now) options_.now = [] { return std::chrono::system_clock::now(); };
  if (!options_.sleep) options_.sleep = [](auto delay) { std::this_thread::sleep_for(delay); };
  if (!options_.random) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    auto engine_mutex = std::make_shared<std::mutex>();
    options_.random = [engine, engine_mutex] {
      std::lock_guard lock(*engine_mutex);
      return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
    };
  }
}

int JsonClient::retry_tokens_left() const {
  std::lock_guard lock(mutex_);
  return tokens_;
}

AwsResult<json> JsonClient::call(const JsonCall& call) {
  return call_batch({call}).front();
}

std::vector<AwsResult<json>> JsonClient::call_batch(const std::vector<JsonCall>& calls) {
  std::vector<AwsResult<json>> results(calls.size(), std::unexpected(AwsError{}));
  std::vector<int> attempts(calls.size(), 0);
  std::vector<int> last_cost(calls.size(), 0);
  std::vector<bool> refreshed(calls.size(), false);
  std::vector<std::size_t> pending(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) pending[i] = i;

  for (int round = 1; !pending.empty(); ++round) {
    auto credentials = options_.credentials->get();
    if (!credentials) {
      for (std::size_t i : pending) {
        results[i] = std::unexpected(
            AwsError{credentials.error().code, "", 0, "",
                     fmt::format("{}: {}", operation_of(calls[i]), credentials.error().message),
                     attempts[i]});
      }
      break;
    }
    std::chrono::system_clock::duration skew;
    {
      std::lock_guard lock(mutex_);
      skew = clock_skew_;
    }
    const auto signed_at = options_.now() + skew;
    const auto secrets = {std::string_view(credentials->secret_access_key),
                          std::string_view(credentials->session_token)};

    std::vector<http::Request> requests;
    for (std::size_t i : pending) {
      const JsonCall& call = calls[i];
      auto base = options_.endpoints.find(call.service);
      const Endpoint endpoint =
          parse_endpoint(base != options_.endpoints.end()
                             ? base->second
                             : resolve_endpoint(call.service, options_.region, std::nullopt,
                                                Environment::from_map({})));
      SigningRequest signing{"POST",
                             endpoint.path,
                             "",
                             {{"Host", endpoint.host},
                              {"Content-Type", "application/x-amz-json-1.1"},
                              {"X-Amz-Target", call.target}},
                             call.body.is_null()
                                 ? std::string("{}")  // JSON 1.1 wants an object, even empty
                                 : call.body.dump(-1, ' ', false, json::error_handler_t::replace)};
      sign(signing, *credentials, {options_.region, call.service, signed_at, true});
      http::Request request;
      request.method = "POST";
      request.url = endpoint.url;
      request.headers = std::move(signing.headers);
      request.body = std::move(signing.body);
      request.max_body_bytes = options_.max_response_bytes;
      // An AWS API never redirects; following one would carry the Authorization header along.
      request.follow_redirects = false;
      request.retry = false;
      requests.push_back(std::move(request));
    }

    const std::vector<http::Response> responses = options_.http->run(requests);
    std::vector<std::size_t> retry_next;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      const std::size_t i = pending[k];
      ++attempts[i];
      http::Response missing;  // a client that broke its one-response-per-request contract
      missing.error_code = "BAD_RESPONSE";
      missing.error = "no response";
      const http::Response& response = k < responses.size() ? responses[k] : missing;
      Outcome outcome = classify(calls[i], response);
      if (outcome.value) {
        std::lock_guard lock(mutex_);
        tokens_ = std::min(
            options_.retry.quota,
            tokens_ + (attempts[i] > 1 ? last_cost[i] : options_.retry.no_retry_increment));
        results[i] = std::move(*outcome.value);
        continue;
      }
      AwsError& error = outcome.error;
      error.attempts = attempts[i];
      if (detail::is_clock_skew_code(error.aws_code)) {
        // Retry a rejected signature only when the server's clock explains it (> 4 minutes
        // apart); a wrong key stays a plain AUTH_FAILED.
        auto date = find_header(response.headers, "date");
        auto server_time = date ? detail::parse_http_date(*date) : std::nullopt;
        if (server_time && std::chrono::abs(*server_time - signed_at) > std::chrono::minutes(4)) {
          const auto local_now = options_.now();
          const auto seconds =
              std::chrono::duration_cast<std::chrono::seconds>(*server_time - local_now);
          {
            std::lock_guard lock(mutex_);
            clock_skew_ = *server_time - local_now;
          }
          error.message += fmt::format(" (the local clock is {} s {} the server's)",
                                       std::chrono::abs(seconds).count(),
                                       seconds.count() > 0 ? "behind" : "ahead of");
          outcome.retryable = true;
        }
      }
      // Credentials that expired earlier than they said (or a clock that is off): resolve them
      // again once and retry, as the SDKs do; fixed credentials cannot be refreshed.
      if ((error.aws_code == "ExpiredTokenException" || error.aws_code == "ExpiredToken") &&
          !refreshed[i] && options_.credentials->invalidate(credentials->access_key_id)) {
        refreshed[i] = true;
        retry_next.push_back(i);
        continue;
      }
      bool quota_exhausted = false;
      if (outcome.retryable && attempts[i] < options_.retry.max_attempts) {
        const int cost =
            outcome.timeout ? options_.retry.timeout_retry_cost : options_.retry.retry_cost;
        std::lock_guard lock(mutex_);
        if (tokens_ >= cost) {
          tokens_ -= cost;
          last_cost[i] = cost;
          retry_next.push_back(i);
          continue;
        }
        quota_exhausted = true;
      }
      if (attempts[i] > 1) error.message += fmt::format(" after {} attempts", attempts[i]);
      if (quota_exhausted) error.message += " (retry quota exhausted)";
      error.message = redact(std::move(error.message), secrets);
      results[i] = std::unexpected(std::move(error));
    }

    pending = std::move(retry_next);
    if (!pending.empty()) {
      // Full jitter: a random share of an exponentially growing, capped ceiling.
      const double ceiling = std::min<double>(
          static_cast<double>(options_.retry.base_delay.count()) * std::pow(2.0, round - 1),
          static_cast<double>(options_.retry.max_backoff.count()));
      options_.sleep(std::chrono::milliseconds(static_cast<long>(options_.random() * ceiling)));
    }
  }
  return results;
}

}  // namespace imagegate::aws
