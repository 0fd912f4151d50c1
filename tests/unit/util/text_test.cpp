#include "util/text.hpp"

#include <gtest/gtest.h>

namespace imagegate::util {
namespace {

TEST(Text, EscapesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(escape_display("a\nb\r\t\x1b[31m\x7f"), "a\\nb\\r\\t\\x1b[31m\\x7f");
  EXPECT_EQ(escape_display("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 kept
  EXPECT_EQ(escape_display("\xc2\x9b"), "\\xc2\\x9b");      // C1 CSI
  EXPECT_EQ(escape_display("\xff"), "\\xff");
  EXPECT_EQ(quote("x'y"), "'x'y'");
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain \xe2\x9c\x93"));
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xe2\x9c"));  // truncated
}

TEST(Text, Sha256) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(random_hex(16).size(), 32u);
  EXPECT_NE(random_hex(16), random_hex(16));
}

}  // namespace
}  // namespace imagegate::util
