// The gate's image x tag matrix as data, so the Markdown, HTML and JUnit reports show the same
// cells: per image and expected tag either the digest it names or the finding that explains why
// it could not be verified.
#pragma once

#include <string>
#include <vector>

#include "evidence/evidence.hpp"

namespace imagegate::report {

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
};

struct GateMatrix {
  std::vector<std::string> tags;  // every expected tag, in evidence order
  std::vector<MatrixRow> rows;    // one per image
};

// A tag short enough for a column header: "prod-0123456789…4567" (the full tags are listed
// beside the matrix).
std::string column_label(const std::string& tag);

// The matrix of an evidence document; the evidence must outlive it (cells point into it).
GateMatrix build_matrix(const evidence::Evidence& evidence);

}  // namespace imagegate::report
