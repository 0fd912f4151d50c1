// util::write_file_atomically: the file is either what it was or the whole new content, and no
// temporary file is left beside it, whether the write succeeds or not.
#include "util/files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/scratch_dir.hpp"

namespace imagegate::util {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WriteFileAtomically, WritesANewFile) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "pinned.json";
  ASSERT_TRUE(write_file_atomically(path.string(), "{\"family\": \"afu9\"}\n"));
  EXPECT_EQ(read(path), "{\"family\": \"afu9\"}\n");
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"pinned.json"});
}

TEST(WriteFileAtomically, ReplacesTheWholeOldContent) {
  testing::ScratchDir dir;
  const auto path = dir.write("report.md", std::string(10000, 'x'));
  ASSERT_TRUE(write_file_atomically(path.string(), "short"));
  EXPECT_EQ(read(path), "short");
  ASSERT_TRUE(write_file_atomically(path.string(), ""));
  EXPECT_EQ(read(path), "");
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"report.md"});
}

TEST(WriteFileAtomically, KeepsBinaryBytesExactly) {
  testing::ScratchDir dir;
  const std::string bytes("a\0b\r\n\xff", 6);
  const auto path = dir.path() / "blob";
  ASSERT_TRUE(write_file_atomically(path.string(), bytes));
  EXPECT_EQ(read(path), bytes);
}

TEST(WriteFileAtomically, AMissingDirectoryFailsAndCreatesNothing) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "missing" / "evidence.json";
  EXPECT_FALSE(write_file_atomically(path.string(), "{}"));
  EXPECT_FALSE(fs::exists(dir.path() / "missing"));
  EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(WriteFileAtomically, ADirectoryInTheWayStaysAndNoTemporaryIsLeft) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "evidence.json";
  fs::create_directory(path);
  dir.write("evidence.json/keep", "kept");
  EXPECT_FALSE(write_file_atomically(path.string(), "{}"));
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(read(path / "keep"), "kept");
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"evidence.json"});
}

TEST(WriteFileAtomically, ASymlinkIsReplacedNotWrittenThrough) {
  testing::ScratchDir dir;
  const auto target = dir.write("elsewhere.json", "untouched");
  const auto link = dir.path() / "out.json";
  fs::create_symlink(target, link);
  ASSERT_TRUE(write_file_atomically(link.string(), "new"));
  EXPECT_FALSE(fs::is_symlink(link));
  EXPECT_EQ(read(link), "new");
  EXPECT_EQ(read(target), "untouched");
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"elsewhere.json", "out.json"}));
}

TEST(WriteFileAtomically, ManyWritesLeaveOneFileWithTheLastContent) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "summary.md";
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(write_file_atomically(path.string(), "round " + std::to_string(i)));
  }
  EXPECT_EQ(read(path), "round 49");
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"summary.md"});
}

}  // namespace
}  // namespace imagegate::util
