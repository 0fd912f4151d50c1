// util::write_file_atomically: the file is either what it was or the whole new content, and no
// temporary file is left beside it, whether the write succeeds or not. util::read_at_most: the
// whole stream up to the bound, whatever size it was expected to have.
#include "util/files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <streambuf>

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

// A stream that fails while being read (badbit), as a read error of the file would.
class FailingBuffer : public std::streambuf {
 protected:
  int_type underflow() override { throw std::runtime_error("read error"); }
};

std::string bytes(std::size_t n) {
  std::string s(n, 'x');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST(ReadAtMost, ReadsTheWholeStreamWhateverSizeWasExpected) {
  for (const std::size_t size : {0UL, 1UL, 2UL, 100UL, 4096UL, 70000UL}) {
    const std::string content = bytes(size);
    // Expected right, too small (the file grew), zero (unknown) and too large (it shrank).
    for (const std::size_t expected : {size, size / 2, 0UL, size + 1000}) {
      std::istringstream in(content);
      const auto got = read_at_most(in, expected, 1 << 20);
      ASSERT_TRUE(got.has_value()) << size << " expected " << expected;
      EXPECT_EQ(*got, content) << size << " expected " << expected;
    }
  }
}

TEST(ReadAtMost, StopsAtTheBound) {
  const std::string content = bytes(5000);
  for (const std::size_t expected : {0UL, 10UL, 999UL, 1000UL, 5000UL}) {
    std::istringstream in(content);
    const auto got = read_at_most(in, expected, 1001);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, content.substr(0, 1001)) << "expected " << expected;
  }
  std::istringstream exact(bytes(1001));
  EXPECT_EQ(read_at_most(exact, 0, 1001)->size(), 1001U);
  std::istringstream none(content);
  EXPECT_EQ(*read_at_most(none, 5000, 0), "");
}

TEST(ReadAtMost, AFailingStreamIsNoText) {
  FailingBuffer buffer;
  std::istream in(&buffer);
  EXPECT_FALSE(read_at_most(in, 10, 100).has_value());
}

TEST(ReadAtMost, AHugeExpectedSizeIsBoundedNotAllocated) {
  std::istringstream in("{}");
  EXPECT_EQ(*read_at_most(in, static_cast<std::size_t>(-1), 64), "{}");
}

}  // namespace
}  // namespace imagegate::util
