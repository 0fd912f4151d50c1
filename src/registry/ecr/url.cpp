// ECR registry URLs. The host form is what `docker push` uses, so a pipeline can pass the same
// registry host it pushes to; the account and region are read from it rather than guessed.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "registry/ecr/ecr.hpp"
#include "util/text.hpp"

namespace imagegate::registry::ecr {
namespace {

constexpr std::string_view kAccepted =
    "expected 'ecr', 'ecr://REGION' (e.g. ecr://eu-central-1) or "
    "'ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com' (ACCOUNT: 12 digits)";

// Partition prefixes (us, eu, ap, cn, us-gov, ...), a direction or name, a number.
const std::regex& region_pattern() {
  static const std::regex pattern("[a-z]{2}(-[a-z]+)+-[0-9]{1,2}");
  return pattern;
}

const std::regex& host_pattern() {
  static const std::regex pattern(
      "([0-9]{12})\\.dkr\\.ecr(-fips)?\\.([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?");
  return pattern;
}

}  // namespace

std::string EcrLocation::to_string() const {
  if (!registry_id.empty() && !region.empty()) {
    return fmt::format("ecr://{}.dkr.ecr.{}.amazonaws.com", registry_id, region);
  }
  if (!region.empty()) return "ecr://" + region;
  return "ecr";
}

Result<EcrLocation> parse_ecr_url(std::string_view url) {
  if (url == "ecr") return EcrLocation{};
  constexpr std::string_view scheme = "ecr://";
  if (!url.starts_with(scheme)) {
    return fail("REGISTRY_URL_INVALID",
                fmt::format("registry {} is not an ECR URL: {}", util::quote(url), kAccepted));
  }
  const std::string rest(url.substr(scheme.size()));
  if (std::regex_match(rest, region_pattern())) return EcrLocation{rest, ""};
  std::smatch match;
  if (std::regex_match(rest, match, host_pattern()) &&
      std::regex_match(match[3].str(), region_pattern())) {
    return EcrLocation{match[3].str(), match[1].str()};
  }
  return fail("REGISTRY_URL_INVALID", fmt::format("registry {}: {}", util::quote(url), kAccepted));
}

}  // namespace imagegate::registry::ecr
