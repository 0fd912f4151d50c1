#include "util/duration.hpp"

#include <fmt/format.h>

#include <string>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::util {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
  auto bad = [&] {
    return UsageError(fmt::format(
        "{} {} is not a duration; expected e.g. 90s, 10m, 1h30m, 500ms or whole seconds", option,
        quote(text)));
  };
  if (text.empty()) throw bad();
  long long total_ms = 0;
  std::size_t i = 0;
  bool bare = true;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 9) throw bad();
    const long long value = std::stoll(std::string(text.substr(start, i - start)));
    std::size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    const auto unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (!bare || i != text.size() || start != 0) throw bad();
      total_ms = value * 1000;
      break;
    }
    bare = false;
    if (unit == "ms") {
      total_ms += value;
    } else if (unit == "s") {
      total_ms += value * 1000;
    } else if (unit == "m") {
      total_ms += value * 60 * 1000;
    } else if (unit == "h") {
      total_ms += value * 3600 * 1000;
    } else {
      throw bad();
    }
  }
  if (total_ms > 24LL * 3600 * 1000) {
    throw UsageError(fmt::format("{} {} is longer than 24h", option, quote(text)));
  }
  return std::chrono::milliseconds(total_ms);
}

}  // namespace imagegate::util
