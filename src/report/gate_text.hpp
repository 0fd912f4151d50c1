// The gate's human output: a compact image x tag matrix (✓ short digest / ✗ finding code), the
// findings, then the verdict.
#pragma once

#include <string>

#include "evidence/evidence.hpp"
#include "report/text.hpp"

namespace imagegate::report {

std::string render_gate_text(const evidence::Evidence& evidence, const Style& style);

// "sha256:0123456789ab" (algorithm + 12 hex).
std::string short_digest(std::string_view digest);

// Display width of UTF-8 text (code points; no wide characters are used here).
std::size_t display_width(std::string_view text);

}  // namespace imagegate::report
