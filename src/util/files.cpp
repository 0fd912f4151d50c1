#include "util/files.hpp"

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

}  // namespace imagegate::util
