// Durations on the command line: "500ms", "90s", "10m", "1h30m", or a whole number of seconds.
#pragma once

#include <chrono>
#include <string_view>

namespace imagegate::util {

// Throws UsageError naming `option` when text is not a duration or is longer than 24h.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option);

}  // namespace imagegate::util
