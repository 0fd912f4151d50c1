// Durations on the command line: "500ms", "30s", "5m", "1h", or a plain number of seconds.
#pragma once

#include <chrono>
#include <string_view>

namespace imagegate::util {

// Throws UsageError naming `option` when text is not a duration.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option);

}  // namespace imagegate::util
