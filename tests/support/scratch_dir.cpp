#include "support/scratch_dir.hpp"

#include <stdlib.h>

#include <stdexcept>

namespace imagegate::testing {

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "imagegate-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path ScratchDir::write(const std::filesystem::path& relative,
                                        std::string_view content, bool executable) const {
  const auto full = path_ / relative;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
  if (executable) {
    std::filesystem::permissions(full, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add);
  }
  return full;
}

}  // namespace imagegate::testing
