// Retry and redirect decisions of the HTTP client, kept free of libcurl's transfer machinery so
// each rule can be tested on its own. Internal to src/http.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::http::policy {

// 408, 429, 500, 502, 503, 504: the statuses a later attempt may well answer differently.
bool is_retryable_status(long status);

// Delay before retry number retry_index (0 for the first retry): "full jitter", uniform in
// [0, min(max_delay, base_delay * 2^retry_index)], so clients throttled together spread out.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry_index,
                                        std::mt19937_64& rng);

// Retry-After as delay-seconds or an HTTP-date (relative to now); nullopt when unparseable.
// A date in the past means "now" (0).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Headers that carry credentials and must not follow a redirect to another origin.
bool is_credential_header(std::string_view name);

// "scheme://host:port" as written in the URL (lower-cased, userinfo dropped): the key the client
// schedules by and remembers an origin's protocol under. Cheap, no URL parsing: it runs for every
// request.
std::string scheduling_origin(std::string_view url);

inline constexpr int kMaxRedirects = 5;

bool is_redirect_status(long status);

struct RedirectPlan {
  std::string url;                // absolute target
  bool drop_credentials = false;  // scheme, host or port differ from the original request
};

// Resolves location against current_url and applies the rules: only http/https targets, never
// https -> http, credentials kept only for the original scheme, host and port.
// Errors are BAD_RESPONSE with the reason; URLs in messages are redacted.
Result<RedirectPlan> plan_redirect(std::string_view original_url, std::string_view current_url,
                                   std::string_view location);

}  // namespace imagegate::http::policy
