// Values for the build arguments an image names (buildArgs): --build-arg NAME=VALUE first, then
// the environment variable NAME (docker's own convention), then what imagegate knows about the
// deploy. An argument without a value is a usage error naming it and the image.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "manifest/manifest.hpp"
#include "manifest/tagging.hpp"

namespace imagegate::commands {

using BuildArgs = std::vector<std::pair<std::string, std::string>>;  // in buildArgs order

// Throws UsageError for a --build-arg that is not NAME=VALUE.
class BuildArgResolver {
 public:
  BuildArgResolver(const std::vector<std::string>& given, const manifest::DeployTarget& target);

  // Throws UsageError listing every argument of the image that has no value.
  BuildArgs values_for(const manifest::Image& image) const;

 private:
  std::string known_value(const std::string& name) const;

  std::vector<std::pair<std::string, std::string>> given_;
  const manifest::DeployTarget& target_;
  mutable std::string timestamp_;  // computed once, on first use
};

// UTC ISO-8601 with Z, from SOURCE_DATE_EPOCH when set (UsageError unless it is whole seconds),
// else the current time.
std::string build_timestamp();

}  // namespace imagegate::commands
