#include "commands/build_args.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include "evidence/evidence.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::commands {

std::string build_timestamp() {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (epoch == nullptr || *epoch == '\0') return evidence::now_rfc3339();
  const std::string_view text(epoch);
  long long seconds = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc{} || ptr != text.data() + text.size() || seconds < 0) {
    throw UsageError(fmt::format(
        "SOURCE_DATE_EPOCH {} is not a number of seconds since 1970-01-01 UTC", util::quote(text)));
  }
  const std::chrono::sys_seconds at{std::chrono::seconds(seconds)};
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", at);
}

BuildArgResolver::BuildArgResolver(const std::vector<std::string>& given,
                                   const manifest::DeployTarget& target)
    : target_(target) {
  for (const auto& spec : given) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("--build-arg {} is not NAME=VALUE", util::quote(spec)));
    }
    given_.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
  }
}

std::string BuildArgResolver::known_value(const std::string& name) const {
  if (name == "BUILD_COMMIT_HASH" || name == "GIT_SHA") return target_.sha;
  if (name == "BUILD_ENV") return target_.env;
  if (name == "BUILD_VERSION" && target_.version) return target_.version->text;
  if (name == "BUILD_TIMESTAMP") {
    if (timestamp_.empty()) timestamp_ = build_timestamp();
    return timestamp_;
  }
  return {};
}

BuildArgs BuildArgResolver::values_for(const manifest::Image& image) const {
  BuildArgs out;
  std::vector<std::string> missing;
  for (const auto& name : image.build_args) {
    // The last --build-arg of a name wins, as with docker build.
    const auto it = std::find_if(given_.rbegin(), given_.rend(),
                                 [&](const auto& kv) { return kv.first == name; });
    if (it != given_.rend()) {
      out.emplace_back(name, it->second);
      continue;
    }
    if (const char* env = std::getenv(name.c_str()); env != nullptr) {
      out.emplace_back(name, env);
      continue;
    }
    auto value = known_value(name);
    if (value.empty()) {
      missing.push_back(name);
    } else {
      out.emplace_back(name, std::move(value));
    }
  }
  if (!missing.empty()) {
    std::vector<std::string> quoted;
    for (const auto& m : missing) quoted.push_back(util::quote(m));
    throw UsageError(
        fmt::format("build arg {} of image {} has no value: give --build-arg {}=VALUE or set the "
                    "environment variable {}",
                    util::join(quoted, ", "), util::quote(image.id),
                    util::escape_display(missing.front()), util::escape_display(missing.front())));
  }
  return out;
}

}  // namespace imagegate::commands
