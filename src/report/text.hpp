// Human-readable rendering of findings: one line per finding, colour only when the stream is a
// terminal and NO_COLOR is unset. Every untrusted string is escaped.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "findings/findings.hpp"

namespace imagegate::report {

// The findings model is its own module below report/; renderers use its types by name.
using findings::Finding;
using findings::Findings;
using findings::Severity;

struct Style {
  bool color = false;
  std::string red(std::string_view s) const;
  std::string green(std::string_view s) const;
  std::string yellow(std::string_view s) const;
  std::string bold(std::string_view s) const;
  std::string dim(std::string_view s) const;
};

// Colour when `stream` is a TTY, NO_COLOR is unset or empty, TERM is not "dumb" and the user did
// not pass --no-color.
Style detect_style(std::FILE* stream, bool no_color_flag);

// "error[CODE] image subject: message"
std::string render_finding(const Finding& finding, const Style& style);
std::string render_findings(const Findings& findings, const Style& style);

// "N errors, M warnings"
std::string summary_counts(const Findings& findings);

nlohmann::json findings_json(const Findings& findings);

}  // namespace imagegate::report
