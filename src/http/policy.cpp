#include "http/policy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <memory>

namespace imagegate::http::policy {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

std::optional<std::string> get_part(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) {
    return std::nullopt;
  }
  std::string out(value);
  curl_free(value);
  return out;
}

// Scheme, host and port: what decides whether credentials may be sent along.
struct Origin {
  std::string scheme;
  std::string host;
  std::string port;
  bool operator==(const Origin&) const = default;
};

std::optional<Origin> origin_of(CURLU* url) {
  auto scheme = get_part(url, CURLUPART_SCHEME);
  auto host = get_part(url, CURLUPART_HOST);
  auto port = get_part(url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) return std::nullopt;
  return Origin{lower(*scheme), lower(*host), *port};
}

UrlHandle parse(std::string_view url) {
  UrlHandle handle(curl_url());
  if (!handle ||
      curl_url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) {
    return nullptr;
  }
  return handle;
}

}  // namespace

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry_index,
                                        std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  // Shifting past ~2^30 gains nothing (max_delay caps it long before) and would overflow.
  int shift = std::clamp(retry_index, 0, 30);
  long long base = std::max<long long>(policy.base_delay.count(), 0);
  long long cap = std::max<long long>(policy.max_delay.count(), 0);
  long long ceiling = base > (cap >> shift) ? cap : std::min(cap, base << shift);
  std::uniform_int_distribution<long long> pick(0, ceiling);
  return milliseconds(pick(rng));
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    // More than a day is as good as forever for a deploy gate; clamping avoids overflow.
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range || seconds > 86400) seconds = 86400;
    (void)ptr;
    return std::chrono::seconds(seconds);
  }
  time_t date = curl_getdate(std::string(value).c_str(), nullptr);
  if (date == -1) return std::nullopt;
  // Compared in seconds first: a date past 2262 (or before 1678) does not fit the clock's
  // nanoseconds, and from_time_t would overflow.
  const time_t now_seconds = std::chrono::system_clock::to_time_t(now);
  if (date <= now_seconds) return std::chrono::milliseconds(0);
  if (date - now_seconds > 86400 + 1) return std::chrono::hours(24);
  auto delta = std::chrono::system_clock::from_time_t(date) - now;
  if (delta <= std::chrono::system_clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(delta), std::chrono::hours(24));
}

std::string scheduling_origin(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string out = lower(url.substr(0, authority_start));
  out += lower(authority);
  return out;
}

bool is_credential_header(std::string_view name) {
  std::string key = lower(name);
  return key == "authorization" || key == "cookie" || key == "proxy-authorization";
}

bool is_redirect_status(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<RedirectPlan> plan_redirect(std::string_view original_url, std::string_view current_url,
                                   std::string_view location) {
  UrlHandle original = parse(original_url);
  UrlHandle target = parse(current_url);
  if (!original || !target) {
    return fail("BAD_RESPONSE", "cannot parse request URL " + redact_url(current_url));
  }
  std::optional<Origin> from = origin_of(target.get());
  if (curl_url_set(target.get(), CURLUPART_URL, std::string(location).c_str(), 0) != CURLUE_OK) {
    return fail("BAD_RESPONSE", "redirect from " + redact_url(current_url) +
                                    " has an invalid Location: " + redact_url(location));
  }
  auto resolved = get_part(target.get(), CURLUPART_URL);
  auto scheme = get_part(target.get(), CURLUPART_SCHEME);
  if (resolved && scheme && lower(*scheme) != "http" && lower(*scheme) != "https") {
    return fail("BAD_RESPONSE", "refusing redirect from " + redact_url(current_url) +
                                    " to unsupported scheme: " + redact_url(*resolved));
  }
  std::optional<Origin> to = origin_of(target.get());
  std::optional<Origin> first = origin_of(original.get());
  if (!from || !to || !first || !resolved) {
    return fail("BAD_RESPONSE", "redirect from " + redact_url(current_url) +
                                    " has an invalid Location: " + redact_url(location));
  }
  if (from->scheme == "https" && to->scheme == "http") {
    return fail("BAD_RESPONSE",
                "refusing redirect from https to http (would send the request "
                "unencrypted): " +
                    redact_url(current_url) + " -> " + redact_url(*resolved));
  }
  RedirectPlan plan;
  plan.drop_credentials = !(*to == *first);
  if (plan.drop_credentials) {
    // A relative Location inherits userinfo from the base URL; it must not travel either.
    curl_url_set(target.get(), CURLUPART_USER, nullptr, 0);
    curl_url_set(target.get(), CURLUPART_PASSWORD, nullptr, 0);
    resolved = get_part(target.get(), CURLUPART_URL);
    if (!resolved) return fail("BAD_RESPONSE", "cannot build redirect URL");
  }
  plan.url = *resolved;
  return plan;
}

}  // namespace imagegate::http::policy
