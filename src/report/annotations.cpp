// GitHub workflow annotations. The runner treats any stdout line that starts with "::" as a
// command, so the one thing that matters is that no untrusted string can end the line or the
// property list: data is percent-encoded (% \r \n), properties also (: ,), and control
// characters never reach the line at all (see escape.hpp).
#include <fmt/format.h>

#include "report/escape.hpp"
#include "report/reports.hpp"

namespace imagegate::report {
namespace {

std::string_view command_for(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "notice";
  }
  return "error";
}

}  // namespace

std::string render_annotations(const ReportInput& input) {
  std::string out;
  for (const auto& f : input.findings.items()) {
    std::string text;
    if (!f.image_id.empty()) text += f.image_id + " ";
    if (!f.subject.empty()) text += f.subject + " ";
    if (!text.empty()) text.back() = ':', text += ' ';
    text += f.message;
    out += fmt::format("::{} title={}::{}\n", command_for(f.severity),
                       annotation_property("imagegate " + f.code), annotation_data(text));
  }
  return out;
}

}  // namespace imagegate::report
