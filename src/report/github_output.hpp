// $GITHUB_OUTPUT: name/value pairs appended as heredocs with a random delimiter, so no value can
// end the heredoc early and inject another output.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace imagegate::report {

using Outputs = std::vector<std::pair<std::string, std::string>>;

// The text to append for these outputs (exposed for tests).
std::string format_github_outputs(const Outputs& outputs);

// Appends to the file named by $GITHUB_OUTPUT; throws UsageError when it is unset or cannot be
// opened.
void append_github_outputs(const Outputs& outputs);

// An output name GitHub accepts: letters, digits, '_' and '-'; anything else becomes '_'.
std::string output_name(std::string_view name);

}  // namespace imagegate::report
