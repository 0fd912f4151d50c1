#include "report/reports.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "evidence/timing.hpp"
#include "report/gate_text.hpp"
#include "report/text.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

namespace imagegate::report {
namespace {

std::string known_formats() {
  return util::join(report_formats(), ", ");
}

void replace_file(const std::string& path, const std::string& content) {
  if (!util::write_file_atomically(path, content)) {
    throw UsageError(fmt::format("--report: cannot write {}", util::quote(path)));
  }
}

// A blank line first when the file already has content: the summary of an earlier step may not
// end with a newline, and a heading must start a line.
void append_file(const std::string& path, const std::string& content) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out || !(out << (!ec && size > 0 ? "\n" : "") << content) || !out.flush()) {
    throw UsageError(fmt::format("--report: cannot append to {}", util::quote(path)));
  }
}

}  // namespace

const std::vector<std::string_view>& report_formats() {
  static const std::vector<std::string_view> formats{"text",     "json",   "junit",
                                                     "markdown", "github", "html"};
  return formats;
}

ReportSpec parse_report_spec(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    throw UsageError(
        fmt::format("--report {}: expected FORMAT=PATH (PATH - is stdout); formats: {}",
                    util::quote(spec), known_formats()));
  }
  ReportSpec out{std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1))};
  bool known = false;
  for (const auto f : report_formats()) known = known || f == out.format;
  if (!known) {
    throw UsageError(fmt::format("--report: unknown format {}; formats: {}",
                                 util::quote(out.format), known_formats()));
  }
  if (out.path.empty()) {
    throw UsageError(
        fmt::format("--report {}: the path is empty (use - for stdout)", util::quote(spec)));
  }
  return out;
}

std::vector<ReportSpec> parse_report_specs(const std::vector<std::string>& specs) {
  std::vector<ReportSpec> out;
  for (const auto& s : specs) out.push_back(parse_report_spec(s));
  return out;
}

std::string render_report(std::string_view format, const ReportInput& input) {
  if (format == "text") return render_text_report(input);
  if (format == "json") return render_json_report(input);
  if (format == "junit") return render_junit(input);
  if (format == "markdown") return render_markdown(input);
  if (format == "github") return render_annotations(input);
  if (format == "html") return render_html(input);
  throw UsageError(fmt::format("--report: unknown format {}; formats: {}", util::quote(format),
                               known_formats()));
}

std::string render_text_report(const ReportInput& input) {
  const Style plain;
  if (input.evidence) {
    std::string out = render_gate_text(*input.evidence, plain);
    if (const auto timing = evidence::timing_of(input.document)) {
      out += "timing: " + util::escape_display(evidence::timing_summary(*timing)) + "\n";
    }
    return out;
  }
  std::string out = render_findings(input.findings, plain);
  out += fmt::format("{} {}: {}\n", input.verdict == "pass" ? "✓" : "✗",
                     util::escape_display(input.command),
                     input.verdict == "pass" ? "passed" : "failed");
  if (!input.findings.empty())
    out.insert(out.size() - 1, " (" + summary_counts(input.findings) + ")");
  return out;
}

std::string render_json_report(const ReportInput& input) {
  if (input.document) return input.document->dump(2) + "\n";
  if (input.evidence) return evidence::to_json(*input.evidence).dump(2) + "\n";
  const nlohmann::json doc{{"command", input.command},
                           {"verdict", input.verdict},
                           {"findings", findings_json(input.findings)}};
  return doc.dump(2) + "\n";
}

void write_reports(const std::vector<std::string>& report_specs, const ReportInput& input) {
  for (const auto& spec : parse_report_specs(report_specs)) {
    const std::string content = render_report(spec.format, input);
    if (spec.path == "-") {
      std::cout << content << std::flush;
    } else if (spec.format == "markdown") {
      append_file(spec.path, content);
    } else {
      replace_file(spec.path, content);
    }
  }
}

bool running_in_github_actions() {
  const char* value = std::getenv("GITHUB_ACTIONS");
  return value != nullptr && std::string_view(value) == "true";
}

}  // namespace imagegate::report
