#include "util/files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "util/text.hpp"

namespace imagegate::util {

bool write_file_atomically(const std::string& path, std::string_view content) {
  const std::filesystem::path target(path);
  auto dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const auto tmp = dir / ("." + target.filename().string() + ".tmp-" + random_hex(6));
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

std::optional<std::string> read_at_most(std::istream& in, std::size_t expected,
                                        std::size_t max_bytes) {
  std::string text;
  std::size_t want = std::min(std::max(expected, expected + 1), max_bytes);
  while (true) {
    const std::size_t at = text.size();
    text.resize(want);
    in.read(text.data() + at, static_cast<std::streamsize>(want - at));
    text.resize(at + static_cast<std::size_t>(in.gcount()));
    if (in.bad()) return std::nullopt;
    if (text.size() < want || want >= max_bytes) return text;  // its end, or the bound
    want = std::min(std::max(want * 2, want + 1), max_bytes);
  }
}

}  // namespace imagegate::util
