#include "report/github_output.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::report {

std::string format_github_outputs(const Outputs& outputs) {
  std::string out;
  for (const auto& [name, value] : outputs) {
    std::string delimiter;
    do {
      delimiter = "ghadelimiter_" + util::random_hex(16);
    } while (value.find(delimiter) != std::string::npos);
    out += fmt::format("{}<<{}\n{}\n{}\n", output_name(name), delimiter, value, delimiter);
  }
  return out;
}

void append_github_outputs(const Outputs& outputs) {
  const char* path = std::getenv("GITHUB_OUTPUT");
  if (path == nullptr || *path == '\0') {
    throw UsageError("GITHUB_OUTPUT is not set; the github format appends step outputs to it");
  }
  std::ofstream file(path, std::ios::app | std::ios::binary);
  if (!file) {
    throw UsageError(fmt::format("cannot open GITHUB_OUTPUT {} for appending", util::quote(path)));
  }
  file << format_github_outputs(outputs);
  if (!file.flush()) {
    throw UsageError(fmt::format("cannot write GITHUB_OUTPUT {}", util::quote(path)));
  }
}

std::string output_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

}  // namespace imagegate::report
