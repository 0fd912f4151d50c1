#include "report/text.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "util/text.hpp"

namespace imagegate::report {
namespace {

std::string paint(bool on, std::string_view code, std::string_view s) {
  if (!on) return std::string(s);
  return fmt::format("\x1b[{}m{}\x1b[0m", code, s);
}

}  // namespace

std::string Style::red(std::string_view s) const {
  return paint(color, "31", s);
}
std::string Style::green(std::string_view s) const {
  return paint(color, "32", s);
}
std::string Style::yellow(std::string_view s) const {
  return paint(color, "33", s);
}
std::string Style::bold(std::string_view s) const {
  return paint(color, "1", s);
}
std::string Style::dim(std::string_view s) const {
  return paint(color, "2", s);
}

Style detect_style(std::FILE* stream, bool no_color_flag) {
  Style style;
  if (no_color_flag) return style;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return style;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return style;
  style.color = ::isatty(::fileno(stream)) == 1;
  return style;
}

std::string render_finding(const Finding& f, const Style& style) {
  const std::string label = fmt::format("{}[{}]", to_string(f.severity), f.code);
  std::string line;
  switch (f.severity) {
    case Severity::kError:
      line = style.red(label);
      break;
    case Severity::kWarning:
      line = style.yellow(label);
      break;
    case Severity::kInfo:
      line = style.dim(label);
      break;
  }
  if (!f.image_id.empty()) line += " " + style.bold(util::escape_display(f.image_id));
  if (!f.subject.empty()) line += " " + util::escape_display(f.subject);
  line += ": " + util::escape_display(f.message);
  return line;
}

std::string render_findings(const Findings& findings, const Style& style) {
  std::string out;
  for (const auto& f : findings.items()) out += render_finding(f, style) + "\n";
  return out;
}

std::string summary_counts(const Findings& findings) {
  const auto errors = findings.count(Severity::kError);
  const auto warnings = findings.count(Severity::kWarning);
  return fmt::format("{} error{}, {} warning{}", errors, errors == 1 ? "" : "s", warnings,
                     warnings == 1 ? "" : "s");
}

nlohmann::json findings_json(const Findings& findings) {
  auto out = nlohmann::json::array();
  for (const auto& f : findings.items()) out.push_back(f);
  return out;
}

}  // namespace imagegate::report
