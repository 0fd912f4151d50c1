#include "util/duration.hpp"

#include <fmt/format.h>

#include <charconv>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::util {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
  long long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
  long long factor = -1;
  if (unit.empty() || unit == "s") {
    factor = 1000;
  } else if (unit == "ms") {
    factor = 1;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  }
  if (ec != std::errc{} || ptr == text.data() || factor < 0 || value < 0 ||
      value > 7LL * 24 * 3600 * 1000 / factor) {
    throw UsageError(fmt::format("{} {} is not a duration; expected e.g. 500ms, 30s, 5m, 1h",
                                 option, quote(text)));
  }
  return std::chrono::milliseconds(value * factor);
}

}  // namespace imagegate::util
