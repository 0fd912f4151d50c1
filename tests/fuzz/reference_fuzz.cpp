// Image references ([registry/]repository[:tag][@digest]): parse, and what holds for every
// reference the parser accepts (it prints back as written, parses again to itself, and compares
// equal to itself).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reference/reference.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)reference::is_valid_digest(text);
  const auto parsed = reference::parse_reference(text);
  if (!parsed) return 0;
  if (parsed->to_string() != text) std::abort();
  const auto again = reference::parse_reference(parsed->to_string());
  if (!again || !(*again == *parsed)) std::abort();
  if (!reference::same_repository(*parsed, *again)) std::abort();
  return 0;
}
