// Reports for CI from the one findings model: every command hands its findings (and, for gate,
// its evidence) to write_reports, which renders each `--report FORMAT=PATH` the user asked for.
// Each renderer is a pure function of ReportInput; every untrusted string is escaped for its
// format (see report/escape.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evidence/evidence.hpp"
#include "findings/findings.hpp"

namespace imagegate::report {

// The findings model is its own module below report/; renderers use its types by name.
using findings::Finding;
using findings::Findings;
using findings::Severity;

struct ReportInput {
  std::string command;  // "gate", "validate", ...
  Findings findings;
  std::optional<evidence::Evidence> evidence;  // gate (and commands that read evidence)
  std::string verdict;                         // "pass" | "fail"
  // The command's own JSON document for the json format; default: the evidence when there is
  // one, else {command, verdict, findings}.
  std::optional<nlohmann::json> document;
};

// The formats --report accepts: text, json, junit, markdown, github, html.
const std::vector<std::string_view>& report_formats();

struct ReportSpec {
  std::string format;
  std::string path;  // "-" = stdout
};

// Parses "FORMAT=PATH"; throws UsageError naming the known formats when the format is unknown or
// '=' or the path is missing.
ReportSpec parse_report_spec(std::string_view spec);
std::vector<ReportSpec> parse_report_specs(const std::vector<std::string>& specs);

// Renders one format (one of report_formats()).
std::string render_report(std::string_view format, const ReportInput& input);

std::string render_text_report(const ReportInput& input);
std::string render_json_report(const ReportInput& input);
std::string render_junit(const ReportInput& input);
std::string render_markdown(const ReportInput& input);
// One workflow command per finding (::error / ::warning / ::notice), each on one line.
std::string render_annotations(const ReportInput& input);
std::string render_html(const ReportInput& input);

// Writes every report: markdown is appended (GITHUB_STEP_SUMMARY is shared by every step), the
// others replace the file atomically; "-" writes to stdout. Throws UsageError for a bad spec or
// an unwritable path.
void write_reports(const std::vector<std::string>& report_specs, const ReportInput& input);

// True when GitHub Actions runs us (GITHUB_ACTIONS=true): annotations are printed unasked.
bool running_in_github_actions();

}  // namespace imagegate::report
