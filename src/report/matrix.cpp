#include "report/matrix.hpp"

#include <algorithm>

namespace imagegate::report {
namespace {

// The finding that explains a tag that was not verified: the one about this tag, else the first
// one about the whole repository (REPOSITORY_MISSING, UNREACHABLE, ...).
const Finding* explaining_finding(const evidence::ImageEvidence& image, const std::string& tag) {
  for (const auto& f : image.findings) {
    if (f.subject == tag) return &f;
  }
  for (const auto& f : image.findings) {
    if (f.subject.empty() && f.code != "DIGEST_MISMATCH") return &f;
  }
  return nullptr;
}

MatrixCell cell_for(const evidence::ImageEvidence& image, const std::string& tag) {
  MatrixCell cell;
  const evidence::TagEvidence* found = nullptr;
  for (const auto& t : image.tags) {
    if (t.tag == tag) found = &t;
  }
  if (found != nullptr && found->status == "found") {
    cell.state = CellState::kVerified;
    cell.digest = found->digest;
    return cell;
  }
  cell.state = image.status == "absent" ? CellState::kAbsent : CellState::kFailed;
  cell.finding = explaining_finding(image, tag);
  if (cell.finding != nullptr) {
    cell.code = cell.finding->code;
  } else if (found != nullptr) {
    cell.code = found->status == "missing" ? "TAG_MISSING" : "ERROR";
  } else {
    cell.code = "UNKNOWN";
  }
  return cell;
}

}  // namespace

bool is_provenance_finding(const Finding& f) {
  return f.subject == "revision" || f.subject == "signature" || f.subject == "attestation" ||
         f.subject == "bundle";
}

MatrixCell provenance_cell(const evidence::ImageEvidence& image) {
  MatrixCell cell;
  if (!image.provenance.checked) {
    cell.state = CellState::kAbsent;
    cell.code = "–";
    return cell;
  }
  if (image.provenance.status == "pass") {
    cell.state = CellState::kVerified;
    cell.digest = image.provenance.revision;
    if (!image.provenance.signatures.empty()) cell.code = "signed";
    if (!image.provenance.attestations.empty()) {
      cell.code += cell.code.empty() ? "attested" : ", attested";
    }
    if (!image.provenance.keyless.empty()) {
      cell.code += cell.code.empty() ? "keyless" : ", keyless";
    }
    return cell;
  }
  cell.state = CellState::kFailed;
  cell.code = "PROVENANCE_FAILED";
  for (const auto& f : image.findings) {
    if (is_provenance_finding(f) && f.severity == Severity::kError) {
      cell.finding = &f;
      cell.code = f.code;
      break;
    }
  }
  return cell;
}

std::string provenance_summary(const MatrixCell& cell) {
  std::string out = cell.digest.empty() ? "" : "rev " + cell.digest.substr(0, 12);
  if (!cell.code.empty()) out += (out.empty() ? "" : ", ") + cell.code;
  return out.empty() ? "checked" : out;
}

std::string column_label(const std::string& tag) {
  if (tag.size() <= 18) return tag;
  return tag.substr(0, 12) + "…" + tag.substr(tag.size() - 4);
}

GateMatrix build_matrix(const evidence::Evidence& evidence) {
  GateMatrix matrix;
  for (const auto& image : evidence.images) {
    for (const auto& t : image.tags) {
      if (std::find(matrix.tags.begin(), matrix.tags.end(), t.tag) == matrix.tags.end()) {
        matrix.tags.push_back(t.tag);
      }
    }
  }
  for (const auto& image : evidence.images) {
    MatrixRow row{&image, {}, {}};
    for (const auto& tag : matrix.tags) row.cells.push_back(cell_for(image, tag));
    row.provenance = provenance_cell(image);
    matrix.provenance = matrix.provenance || image.provenance.checked;
    matrix.rows.push_back(std::move(row));
  }
  return matrix;
}

}  // namespace imagegate::report
