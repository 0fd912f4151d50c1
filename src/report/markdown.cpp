// Markdown for $GITHUB_STEP_SUMMARY: verdict heading, the image x tag matrix as a table, then the
// findings. Only escaped text and code spans of plain machine values reach the document, so a
// hostile tag or registry message cannot add HTML, links or table cells.
#include <fmt/format.h>

#include "evidence/timing.hpp"
#include "report/escape.hpp"
#include "report/gate_text.hpp"
#include "report/matrix.hpp"
#include "report/reports.hpp"
#include "report/text.hpp"
#include "util/text.hpp"

namespace imagegate::report {
namespace {

std::string cell_text(const MatrixCell& cell) {
  switch (cell.state) {
    case CellState::kVerified:
      return "✓ " + markdown_code(short_digest(cell.digest));
    case CellState::kAbsent:
      return "– " + markdown_code(cell.code);
    case CellState::kFailed:
      break;
  }
  return "✗ " + markdown_code(cell.code);
}

std::string provenance_text(const MatrixCell& cell) {
  switch (cell.state) {
    case CellState::kVerified:
      return "✓ " + markdown_code(provenance_summary(cell));
    case CellState::kAbsent:
      return "–";
    case CellState::kFailed:
      break;
  }
  return "✗ " + markdown_code(cell.code);
}

std::string gate_section(const evidence::Evidence& e) {
  std::string out =
      fmt::format("**{}** @ {} on {} · {} images\n\n", markdown_escape(e.env),
                  markdown_code(e.sha.substr(0, 12)), markdown_code(e.registry), e.images.size());
  const auto matrix = build_matrix(e);
  if (matrix.tags.empty()) return out;
  std::vector<std::string> listed;
  for (const auto& t : matrix.tags) listed.push_back(markdown_code(t));
  out += "Tags: " + util::join(listed, ", ") + "\n\n";
  out += "| image |";
  for (const auto& t : matrix.tags) out += " " + markdown_code(column_label(t)) + " |";
  if (matrix.provenance) out += " provenance |";
  out += "\n| --- |";
  for (std::size_t i = 0; i < matrix.tags.size(); ++i) out += " --- |";
  if (matrix.provenance) out += " --- |";
  out += "\n";
  for (const auto& row : matrix.rows) {
    out += "| **" + markdown_escape(row.image->id) + "**" +
           (row.image->required ? "" : " (optional)") + " |";
    for (const auto& cell : row.cells) out += " " + cell_text(cell) + " |";
    if (matrix.provenance) out += " " + provenance_text(row.provenance) + " |";
    out += "\n";
  }
  return out + "\n";
}

std::string finding_item(const Finding& f) {
  const std::string_view icon = f.severity == Severity::kError     ? "❌"
                                : f.severity == Severity::kWarning ? "⚠️"
                                                                   : "ℹ️";
  std::string out = fmt::format("- {} **{}**", icon, markdown_code(f.code));
  if (!f.image_id.empty()) out += " " + markdown_escape(f.image_id);
  if (!f.subject.empty()) out += " " + markdown_code(f.subject);
  return out + ": " + markdown_escape(f.message) + "\n";
}

}  // namespace

std::string render_markdown(const ReportInput& input) {
  const bool pass = input.verdict == "pass";
  // SKIP_IMAGE_GATE: nothing was verified, which is neither a pass nor a failure of the images.
  const bool skipped = input.verdict == "skipped";
  std::string out = fmt::format("## {} imagegate {}: {}\n\n",
                                pass      ? "✅"
                                : skipped ? "⚠️"
                                          : "❌",
                                markdown_escape(input.command),
                                pass      ? "passed"
                                : skipped ? "skipped"
                                          : "failed");
  if (input.evidence) out += gate_section(*input.evidence);
  if (input.findings.empty()) {
    out += "No findings.\n\n";
  } else {
    out += fmt::format("**Findings** ({})\n\n", summary_counts(input.findings));
    for (const auto& f : input.findings.items()) out += finding_item(f);
    out += "\n";
  }
  if (const auto timing = evidence::timing_of(input.document); input.evidence && timing) {
    // Our own words and numbers: a code span keeps GitHub from reading ':' or '(' as markup.
    const std::string line = evidence::timing_summary(*timing);
    const bool spannable = line.find_first_of("`|\r\n") == std::string::npos;
    out += "Timing: " + (spannable ? "`" + line + "`" : markdown_escape(line)) + "\n\n";
  }
  return out;
}

}  // namespace imagegate::report
