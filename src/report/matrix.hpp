// The gate's image x tag matrix as data, so the Markdown, HTML and JUnit reports show the same
// cells: per image and expected tag either the digest it names or the finding that explains why
// it could not be verified.
#pragma once

#include <string>
#include <vector>

#include "evidence/evidence.hpp"
#include "findings/findings.hpp"

namespace imagegate::report {

// The findings model is its own module below report/; renderers use its types by name.
using findings::Finding;
using findings::Findings;
using findings::Severity;

enum class CellState { kVerified, kFailed, kAbsent };

struct MatrixCell {
  CellState state = CellState::kFailed;
  std::string digest;  // kVerified: the digest the tag names
  std::string code;    // otherwise: the finding code (TAG_MISSING, REPOSITORY_MISSING, ...)
  const Finding* finding = nullptr;  // the finding behind a failed or absent cell, if any
};

struct MatrixRow {
  const evidence::ImageEvidence* image = nullptr;
  std::vector<MatrixCell> cells;  // one per GateMatrix::tags
  // The provenance column (when GateMatrix::provenance): kVerified with digest = the revision
  // found (may be empty) and code = what else was proven ("signed", "signed, attested"), kFailed
  // with the first provenance finding's code, kAbsent ("–") for an image whose provenance was not
  // judged because its tags did not pass.
  MatrixCell provenance;
};

struct GateMatrix {
  std::vector<std::string> tags;  // every expected tag, in evidence order
  std::vector<MatrixRow> rows;    // one per image
  bool provenance = false;        // some image had a provenance policy
};

// True for findings of the provenance step (subject revision, signature or attestation).
bool is_provenance_finding(const Finding& finding);

// The provenance cell of one image (see MatrixRow::provenance).
MatrixCell provenance_cell(const evidence::ImageEvidence& image);

// Text of a verified provenance cell: "rev 0123456789ab", "rev 0123456789ab, signed",
// "checked".
std::string provenance_summary(const MatrixCell& cell);

// A tag short enough for a column header: "prod-0123456789…4567" (the full tags are listed
// beside the matrix).
std::string column_label(const std::string& tag);

// The matrix of an evidence document; the evidence must outlive it (cells point into it).
GateMatrix build_matrix(const evidence::Evidence& evidence);

}  // namespace imagegate::report
