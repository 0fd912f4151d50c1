#include "util/text.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace imagegate::util {
namespace {

std::string fmt_hex(unsigned char c) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {kDigits[c >> 4], kDigits[c & 0xf]};
}

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

// sha256_hex hashes without EVP; it must give EVP's SHA-256 at every length that matters to the
// padding (55, 56, 63, 64, 65 bytes) and across many blocks.
TEST(Text, Sha256AgreesWithEvp) {
  std::string data;
  for (std::size_t i = 0; i < (1u << 20) + 3; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);
  for (const std::size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 1000u, 1u << 20}) {
    const std::string_view part(data.data(), length);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ASSERT_EQ(EVP_Digest(part.data(), part.size(), md, &n, EVP_sha256(), nullptr), 1);
    std::string want;
    for (unsigned int i = 0; i < n; ++i) want += fmt_hex(md[i]);
    EXPECT_EQ(sha256_hex(part), want) << length << " bytes";
  }
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace imagegate::util
