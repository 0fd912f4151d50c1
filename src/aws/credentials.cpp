// The chain follows the SDKs (botocore, Go v2, Java v2): static environment keys, then web
// identity from the environment, then the selected profile (profile_chain.cpp: assume-role,
// web identity, SSO, static keys, credential_process), then the container endpoint and instance
// metadata. The first source that yields usable credentials wins.
#include "aws/credentials.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <vector>

#include "aws/credential_sources.hpp"
#include "aws/profile_chain.hpp"
#include "aws/sigv4_detail.hpp"

namespace imagegate::aws {
namespace {

using sources::Attempt;

std::string tried_entry(const std::string& name, const std::string& note) {
  return note.empty() ? name : name + " (" + note + ")";
}

// The selected profile. A profile AWS_PROFILE (or --registry-profile) names must exist: falling
// through to other sources would use credentials the user did not choose.
Result<Attempt> from_profile(const CredentialChainOptions& options) {
  const SharedConfig& shared = *options.shared;
  if (!shared.has_profile()) {
    if (shared.profile_from_env) {
      throw UsageError(fmt::format("{} names profile '{}', which is in neither {} nor {}",
                                   shared.profile_origin, shared.profile_name,
                                   shared.credentials_file, shared.config_file));
    }
    return Attempt{};
  }
  return profiles::resolve(options, shared);
}

}  // namespace

http::ClientOptions metadata_client_options() {
  http::ClientOptions options;
  options.concurrency = 1;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.request_timeout = std::chrono::milliseconds(1000);
  options.retry.max_attempts = 1;
  return options;
}

Result<Credentials> resolve_credentials(const CredentialChainOptions& options) {
  const Environment& env = *options.env;
  std::vector<std::string> tried;

  const bool explicit_profile = options.shared->profile_explicit;
  Attempt env_attempt = explicit_profile ? Attempt{} : sources::environment(env);
  if (env_attempt.found) return *env_attempt.found;
  tried.push_back(explicit_profile ? "environment (not used: " + options.shared->profile_origin +
                                         " names the profile)"
                                   : tried_entry("environment", env_attempt.note));

  auto role_arn = explicit_profile ? std::nullopt : env.get("AWS_ROLE_ARN");
  auto token_file = explicit_profile ? std::nullopt : env.get("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (role_arn && token_file) {
    auto attempt = sources::web_identity(
        options, {*role_arn, *token_file, env.get_or("AWS_ROLE_SESSION_NAME", ""), "web identity",
                  "", false, std::nullopt});
    if (!attempt) return std::unexpected(attempt.error());
    if (attempt->found) return *attempt->found;
    tried.push_back(tried_entry("web identity", attempt->note));
  } else if (token_file) {
    tried.push_back("web identity (AWS_WEB_IDENTITY_TOKEN_FILE set without AWS_ROLE_ARN)");
  } else {
    tried.push_back("web identity");
  }

  auto profile = from_profile(options);
  if (!profile) return std::unexpected(profile.error());
  if (profile->found) return *profile->found;
  tried.push_back("shared credentials file " + options.shared->credentials_file);
  tried.push_back(tried_entry(fmt::format("config file {} profile {}", options.shared->config_file,
                                          options.shared->profile_name),
                              profile->note));

  auto container = sources::container(options);
  if (!container) return std::unexpected(container.error());
  if (container->found) return *container->found;
  tried.push_back(tried_entry("container credentials", container->note));

  Attempt imds = sources::instance_metadata(options);
  if (imds.found) return *imds.found;
  tried.push_back(tried_entry("instance metadata", imds.note));

  return fail("AUTH_FAILED",
              fmt::format("no AWS credentials found (tried: {})", fmt::join(tried, ", ")));
}

Result<Credentials> CredentialProvider::get() {
  std::lock_guard lock(mutex_);
  const bool refreshing = cached_.has_value();
  if (cached_) {
    if (!options_ || !cached_->expiration) return *cached_;
    auto now = options_->now ? options_->now() : std::chrono::system_clock::now();
    if (*cached_->expiration - refresh_margin_ > now) return *cached_;
  }
  if (!options_) return fail("AUTH_FAILED", "the fixed AWS credentials have expired");
  auto resolved = resolve_credentials(*options_);
  if (!resolved) return resolved;
  cached_ = *resolved;
  ++resolutions_;
  if (options_->on_resolved) options_->on_resolved(resolved->source, refreshing);
  return resolved;
}

bool CredentialProvider::invalidate(const std::string& access_key_id) {
  std::lock_guard lock(mutex_);
  if (!options_) return false;
  if (cached_ && cached_->access_key_id == access_key_id) cached_.reset();
  return true;
}

int CredentialProvider::resolutions() const {
  std::lock_guard lock(mutex_);
  return resolutions_;
}

namespace detail {

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (rest.starts_with('.')) {
    std::size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    if (digits == 1) return std::nullopt;
    rest = rest.substr(digits);
  }
  long offset_seconds = 0;
  if (rest == "Z" || rest == "z") {
    offset_seconds = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours = 0, minutes = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2) {
      return std::nullopt;
    }
    offset_seconds = (hours * 3600L + minutes * 60L) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  // system_clock counts nanoseconds in 64 bits and ends in 2262: later times (a "never expires"
  // placeholder) would wrap into the past.
  if (tm.tm_year >= 2200) return std::chrono::system_clock::time_point::max();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm) - offset_seconds);
}

std::optional<std::string> xml_value(std::string_view xml, std::string_view tag) {
  // Appended piece by piece: `"<" + std::string(tag)` (operator+ on a literal and a temporary)
  // trips g++ 12's -Wrestrict false positive at -O3 (GCC bug 105651).
  const std::string open = std::string("<").append(tag).append(">");
  const std::string close = std::string("</").append(tag).append(">");
  auto start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  start += open.size();
  auto end = xml.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view raw = xml.substr(start, end - start);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool decoded = false;
    for (const auto& [entity, c] : kEntities) {
      if (raw.substr(i).starts_with(entity)) {
        out.push_back(c);
        i += entity.size() - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) out.push_back('&');
  }
  return out;
}

std::string form_encode(std::string_view value) {
  return uri_encode(value, false);
}

}  // namespace detail
}  // namespace imagegate::aws
