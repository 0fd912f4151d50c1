#include <fmt/format.h>

#include "registry/registry.hpp"

namespace imagegate::registry {

std::string Platform::to_string() const {
  if (variant.empty()) return fmt::format("{}/{}", os, architecture);
  return fmt::format("{}/{}/{}", os, architecture, variant);
}

Result<Platform> Platform::parse(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const auto usage = [&] {
    return fail("INVALID_PLATFORM",
                fmt::format("invalid platform \"{}\": expected os/architecture[/variant], e.g. "
                            "linux/amd64 or linux/arm64/v8",
                            text));
  };
  if (parts.size() < 2 || parts.size() > 3) return usage();
  for (const auto& part : parts) {
    if (part.empty()) return usage();
    for (const char c : part) {
      // Lower-case letters, digits, '_' and '.' cover every GOOS/GOARCH value and variant.
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
      if (!ok) return usage();
    }
  }
  return Platform{parts[0], parts[1], parts.size() == 3 ? parts[2] : std::string()};
}

bool Platform::satisfies(const Platform& wanted) const {
  if (os != wanted.os || architecture != wanted.architecture) return false;
  return wanted.variant.empty() || variant == wanted.variant;
}

}  // namespace imagegate::registry
