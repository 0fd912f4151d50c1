// Files compiled into the binary at build time (schema/*.json), and the version it was built as.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace imagegate::embedded {

extern const std::string_view kVersion;
extern const std::string_view kCommit;

// schema/<name> -> its text.
const std::map<std::string, std::string_view>& schemas();

}  // namespace imagegate::embedded
