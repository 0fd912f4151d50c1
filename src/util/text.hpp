// Text helpers for untrusted strings: escaping for display (no terminal escapes, no line
// injection), UTF-8 validation, hashing.
#pragma once

#include <string>
#include <string_view>

namespace imagegate::util {

// Control characters, DEL and invalid UTF-8 are shown as \n, \r, \t, \xNN; everything else as is.
std::string escape_display(std::string_view text);

// Quoted and escaped: 'value'.
std::string quote(std::string_view text);

bool is_valid_utf8(std::string_view text);

std::string sha256_hex(std::string_view data);

// Hex of n cryptographically random bytes (for heredoc delimiters and the like).
std::string random_hex(std::size_t bytes);

std::string join(const auto& items, std::string_view separator) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    out += item;
    first = false;
  }
  return out;
}

}  // namespace imagegate::util
