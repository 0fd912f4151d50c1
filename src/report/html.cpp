// One self-contained HTML page (inline CSS, no scripts, no external assets) for CI artifacts.
// A Content-Security-Policy that allows nothing but the inline style keeps the page inert even
// if an escaping bug ever let markup through.
#include <fmt/format.h>

#include "evidence/timing.hpp"
#include "report/escape.hpp"
#include "report/gate_text.hpp"
#include "report/matrix.hpp"
#include "report/reports.hpp"
#include "report/text.hpp"

namespace imagegate::report {
namespace {

constexpr std::string_view kStyle =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1f2328;background:#fff}"
    "h1{font-size:1.5em;margin:0 0 .4em}.pass{color:#1a7f37}.fail{color:#cf222e}"
    ".warn{color:#9a6700}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}code{font:12px ui-monospace,monospace}"
    "td.ok{background:#dafbe1}td.bad{background:#ffebe9}td.absent{background:#fff8c5}"
    "ul{padding-left:1.2em}li{margin:.2em 0}.meta{color:#59636e}";

std::string cell_html(const MatrixCell& cell) {
  switch (cell.state) {
    case CellState::kVerified:
      return "<td class=\"ok\">✓ <code>" + html_escape(short_digest(cell.digest)) + "</code></td>";
    case CellState::kAbsent:
      return "<td class=\"absent\">– " + html_escape(cell.code) + "</td>";
    case CellState::kFailed:
      break;
  }
  std::string title;
  if (cell.finding != nullptr) title = " title=\"" + html_escape(cell.finding->message) + "\"";
  return "<td class=\"bad\"" + title + ">✗ " + html_escape(cell.code) + "</td>";
}

std::string provenance_html(const MatrixCell& cell) {
  switch (cell.state) {
    case CellState::kVerified:
      return "<td class=\"ok\">✓ <code>" + html_escape(provenance_summary(cell)) + "</code></td>";
    case CellState::kAbsent:
      return "<td>–</td>";
    case CellState::kFailed:
      break;
  }
  std::string title;
  if (cell.finding != nullptr) title = " title=\"" + html_escape(cell.finding->message) + "\"";
  return "<td class=\"bad\"" + title + ">✗ " + html_escape(cell.code) + "</td>";
}

std::string gate_section(const evidence::Evidence& e) {
  std::string out = fmt::format(
      "<p class=\"meta\">environment <b>{}</b> · commit <code>{}</code> · registry <code>{}</code>"
      " · {} images · {}</p>\n",
      html_escape(e.env), html_escape(e.sha), html_escape(e.registry), e.images.size(),
      html_escape(e.time));
  const auto matrix = build_matrix(e);
  if (matrix.tags.empty()) return out;
  out += "<table>\n<tr><th>image</th>";
  for (const auto& t : matrix.tags) out += "<th><code>" + html_escape(t) + "</code></th>";
  if (matrix.provenance) out += "<th>provenance</th>";
  out += "<th>digest</th></tr>\n";
  for (const auto& row : matrix.rows) {
    out += "<tr><th>" + html_escape(row.image->id) + (row.image->required ? "" : " (optional)") +
           "<br><code class=\"meta\">" + html_escape(row.image->repository) + "</code></th>";
    for (const auto& cell : row.cells) out += cell_html(cell);
    if (matrix.provenance) out += provenance_html(row.provenance);
    out += row.image->digest.empty()
               ? std::string("<td>–</td></tr>\n")
               : "<td><code>" + html_escape(row.image->digest) + "</code></td></tr>\n";
  }
  return out + "</table>\n";
}

std::string finding_html(const Finding& f) {
  const std::string_view cls = f.severity == Severity::kError ? "fail" : "warn";
  std::string out = fmt::format("<li><b class=\"{}\">{}[{}]</b>", cls, to_string(f.severity),
                                html_escape(f.code));
  if (!f.image_id.empty()) out += " " + html_escape(f.image_id);
  if (!f.subject.empty()) out += " <code>" + html_escape(f.subject) + "</code>";
  return out + ": " + html_escape(f.message) + "</li>\n";
}

}  // namespace

std::string render_html(const ReportInput& input) {
  const bool pass = input.verdict == "pass";
  const bool skipped = input.verdict == "skipped";  // SKIP_IMAGE_GATE: nothing was verified
  const std::string title = fmt::format("imagegate {}: {}", html_escape(input.command),
                                        pass      ? "passed"
                                        : skipped ? "skipped"
                                                  : "failed");
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n"
      "<h1 class=\"{}\">{} {}</h1>\n",
      title, kStyle, pass ? "pass" : "fail", pass ? "✓" : "✗", title);
  if (input.evidence) out += gate_section(*input.evidence);
  if (input.findings.empty()) {
    out += "<p>No findings.</p>\n";
  } else {
    out += "<h2>Findings (" + summary_counts(input.findings) + ")</h2>\n<ul>\n";
    for (const auto& f : input.findings.items()) out += finding_html(f);
    out += "</ul>\n";
  }
  if (const auto timing = evidence::timing_of(input.document); input.evidence && timing) {
    out += "<p class=\"meta\">timing: " + html_escape(evidence::timing_summary(*timing)) + "</p>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace imagegate::report
