#include "report/gate_text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "report/matrix.hpp"
#include "util/text.hpp"

namespace imagegate::report {
namespace {

std::string pad(const std::string& painted, std::size_t width, std::size_t target) {
  return painted + std::string(target > width ? target - width : 0, ' ');
}

struct Cell {
  std::string plain;
  std::string painted;
};

Cell cell_for(const evidence::ImageEvidence& image, const evidence::TagEvidence* tag,
              const Style& style) {
  if (tag == nullptr) {
    // No per-tag answer: the repository is missing or could not be checked.
    std::string code = image.findings.empty() ? "UNKNOWN" : image.findings.front().code;
    const bool warn = image.status == "absent";
    std::string plain = (warn ? "- " : "✗ ") + code;
    return {plain, warn ? style.yellow(plain) : style.red(plain)};
  }
  if (tag->status == "found") {
    bool mismatch = false;
    for (const auto& f : image.findings) mismatch = mismatch || f.code == "DIGEST_MISMATCH";
    std::string plain = "✓ " + short_digest(tag->digest);
    return {plain, mismatch ? style.yellow(plain) : style.green(plain)};
  }
  std::string code = tag->status == "missing" ? "TAG_MISSING" : "ERROR";
  for (const auto& f : image.findings) {
    if (f.subject == tag->tag) {
      code = f.code;
      break;
    }
  }
  const bool warn = image.status == "absent";
  std::string plain = (warn ? "- " : "✗ ") + code;
  return {plain, warn ? style.yellow(plain) : style.red(plain)};
}

Cell provenance_text(const evidence::ImageEvidence& image, const Style& style) {
  const MatrixCell cell = provenance_cell(image);
  switch (cell.state) {
    case CellState::kVerified: {
      std::string plain = "✓ " + provenance_summary(cell);
      return {plain, style.green(plain)};
    }
    case CellState::kAbsent:
      return {"-", style.dim("-")};
    case CellState::kFailed:
      break;
  }
  std::string plain = "✗ " + cell.code;
  return {plain, style.red(plain)};
}

}  // namespace

std::string short_digest(std::string_view digest) {
  const auto colon = digest.find(':');
  if (colon == std::string_view::npos) return std::string(digest.substr(0, 19));
  return std::string(digest.substr(0, std::min(digest.size(), colon + 13)));
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (unsigned char c : text) width += (c & 0xc0) != 0x80 ? 1 : 0;
  return width;
}

std::string render_gate_text(const evidence::Evidence& e, const Style& style) {
  std::vector<std::string> tags;
  for (const auto& image : e.images) {
    for (const auto& t : image.tags) {
      if (std::find(tags.begin(), tags.end(), t.tag) == tags.end()) tags.push_back(t.tag);
    }
  }
  std::string out = fmt::format("gate {} @ {} on {} ({} images)\n", util::escape_display(e.env),
                                util::escape_display(e.sha.substr(0, 12)),
                                util::escape_display(e.registry), e.images.size());
  if (!tags.empty()) out += "tags: " + util::escape_display(util::join(tags, ", ")) + "\n";
  out += "\n";

  bool with_provenance = false;
  for (const auto& image : e.images) with_provenance = with_provenance || image.provenance.checked;
  std::vector<std::string> header{"image"};
  for (const auto& t : tags) header.push_back(util::escape_display(column_label(t)));
  if (with_provenance) header.emplace_back("provenance");
  std::vector<std::vector<Cell>> rows;
  for (const auto& image : e.images) {
    std::vector<Cell> row;
    const std::string id = util::escape_display(image.id) + (image.required ? "" : " (optional)");
    row.push_back({id, style.bold(id)});
    for (const auto& t : tags) {
      const evidence::TagEvidence* found = nullptr;
      for (const auto& it : image.tags) {
        if (it.tag == t) found = &it;
      }
      row.push_back(cell_for(image, found, style));
    }
    if (with_provenance) row.push_back(provenance_text(image, style));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = display_width(header[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c].plain));
    }
  }
  std::string head;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const bool last = c + 1 == header.size();
    head += last ? style.dim(header[c])
                 : pad(style.dim(header[c]), display_width(header[c]), widths[c] + 2);
  }
  out += head + "\n";
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += pad(row[c].painted, display_width(row[c].plain), widths[c] + 2);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }

  Findings findings;
  for (const auto& f : e.findings) findings.add(f);
  if (!findings.empty()) out += "\n" + render_findings(findings, style);
  out += "\n";
  for (const auto& x : e.excluded) {
    out += style.dim(fmt::format("  - {} excluded: {}", util::escape_display(x.id),
                                 util::escape_display(x.reason))) +
           "\n";
  }
  if (e.verdict == "skipped") {
    out += style.yellow("! gate skipped") +
           ": SKIP_IMAGE_GATE=true, nothing was checked; pin refuses this evidence";
  } else if (e.verdict == "pass") {
    out += style.green("✓ gate passed") + ": every required image has every tag on one digest";
    if (!findings.empty()) out += " (" + summary_counts(findings) + ")";
  } else {
    out += style.red("✗ gate failed") + ": " + summary_counts(findings);
  }
  return out + "\n";
}

}  // namespace imagegate::report
