// A fresh temporary directory per test, removed with everything in it on destruction.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace imagegate::testing {

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/relative (parents created); returns the full path.
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view content,
                              bool executable = false) const;

 private:
  std::filesystem::path path_;
};

}  // namespace imagegate::testing
