// Platforms, digests, names and manifest parsing shared by the registry backends.
#include "registry/content.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace imagegate::registry {
namespace {

using ::testing::ElementsAre;

TEST(Platform, ParsesAndPrints) {
  const auto p = Platform::parse("linux/arm64/v8");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (Platform{"linux", "arm64", "v8"}));
  EXPECT_EQ(p->to_string(), "linux/arm64/v8");
  EXPECT_EQ(Platform::parse("linux/amd64")->to_string(), "linux/amd64");
}

TEST(Platform, RejectsMalformedText) {
  for (const char* bad : {"", "linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/amd64",
                          "linux/amd 64", "linux//v8"}) {
    const auto p = Platform::parse(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_EQ(p.error().code, "INVALID_PLATFORM");
    EXPECT_EQ(p.error().message, std::string("invalid platform \"") + bad +
                                     "\": expected os/architecture[/variant], e.g. linux/amd64 "
                                     "or linux/arm64/v8");
  }
}

TEST(Platform, SatisfiesComparesVariantOnlyWhenWanted) {
  const Platform arm64v8{"linux", "arm64", "v8"};
  EXPECT_TRUE(arm64v8.satisfies({"linux", "arm64", ""}));
  EXPECT_TRUE(arm64v8.satisfies({"linux", "arm64", "v8"}));
  EXPECT_FALSE(arm64v8.satisfies({"linux", "arm64", "v9"}));
  EXPECT_FALSE(arm64v8.satisfies({"linux", "amd64", ""}));
  EXPECT_FALSE(arm64v8.satisfies({"windows", "arm64", ""}));
  EXPECT_FALSE((Platform{"linux", "arm64", ""}.satisfies({"linux", "arm64", "v8"})));
}

TEST(Digest, Sha256OfKnownVectors) {
  EXPECT_EQ(sha256_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, OnlyLowerCaseSha256IsWellFormed) {
  EXPECT_TRUE(is_sha256_digest(sha256_digest("x")));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(65, 'a')));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(64, 'g')));
  EXPECT_FALSE(is_sha256_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(is_sha256_digest(std::string(64, 'a')));
}

TEST(Names, RepositoryAndTagGrammar) {
  for (const char* ok : {"a", "afu9/control-center", "a/b/c", "a.b_c__d---e", "ns/x9"}) {
    EXPECT_TRUE(is_valid_repository_name(ok)) << ok;
  }
  for (const char* bad :
       {"", "/a", "a/", "a//b", "../a", "a/../b", "A", "a b", "a?x", "-a", "a/.", "a/_b", "a:1"}) {
    EXPECT_FALSE(is_valid_repository_name(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_tag("prod-0123abc"));
  EXPECT_TRUE(is_valid_tag("_x.Y-1"));
  EXPECT_TRUE(is_valid_tag(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_tag(""));
  EXPECT_FALSE(is_valid_tag(".x"));
  EXPECT_FALSE(is_valid_tag("a/b"));
  EXPECT_FALSE(is_valid_tag("a:b"));
}

// The hand-written checks accept exactly what the grammar's regular expressions accept, for every
// string of up to five characters over an alphabet that exercises each rule.
TEST(Names, GrammarMatchesTheRegularExpressions) {
  const std::regex name_re(
      "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
  const std::regex tag_re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  const std::string alphabet = "a0._-/A:";
  std::vector<std::string> strings = {""};
  for (std::size_t length = 1, begin = 0; length <= 5; ++length) {
    const std::size_t end = strings.size();
    for (std::size_t i = begin; i < end; ++i) {
      for (const char c : alphabet) strings.push_back(strings[i] + c);
    }
    begin = end;
  }
  for (const auto& s : strings) {
    EXPECT_EQ(std::regex_match(s, name_re), is_valid_repository_name(s)) << s;
    EXPECT_EQ(std::regex_match(s, tag_re), is_valid_tag(s)) << s;
  }
  EXPECT_TRUE(is_valid_repository_name(std::string(255, 'a')));
  EXPECT_FALSE(is_valid_repository_name(std::string(256, 'a')));
}

TEST(ManifestContent, IndexPlatformsSkipAttestations) {
  const auto c = parse_manifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json",
    "manifests":[
      {"digest":"sha256:1","platform":{"os":"linux","architecture":"amd64"}},
      {"digest":"sha256:2","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
      {"digest":"sha256:3","platform":{"os":"unknown","architecture":"unknown"},
       "annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]})",
                                "x");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->is_index);
  EXPECT_EQ(c->media_type, kOciIndex);
  EXPECT_THAT(c->platforms,
              ElementsAre(Platform{"linux", "amd64", ""}, Platform{"linux", "arm", "v7"}));
}

TEST(ManifestContent, ImageManifestNamesItsConfig) {
  const std::string config = sha256_digest("c");
  const auto c = parse_manifest(R"({"config":{"digest":")" + config + R"("},"layers":[]})", "x");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->is_index);
  EXPECT_EQ(c->config_digest, config);
}

TEST(ManifestContent, MalformedDocumentsAreBadResponse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nope", "x: manifest is not a JSON object"},
      {"[]", "x: manifest is not a JSON object"},
      {R"({"manifests":{}})", "x: index \"manifests\" is not an array"},
      {R"({"manifests":[1]})", "x: index entry is not an object"},
      {R"({"manifests":[{"platform":"linux"}]})", "x: index entry platform is not an object"},
      {R"({"manifests":[{"platform":{"os":"linux"}}]})",
       "x: index entry platform lacks os or architecture"},
      {R"({"layers":[]})", "x: neither an index (manifests) nor an image manifest (config)"},
      {R"({"config":{"digest":"md5:1"}})", "x: config digest is not a sha256 digest"},
  };
  for (const auto& [body, message] : cases) {
    const auto c = parse_manifest(body, "x");
    ASSERT_FALSE(c.has_value()) << body;
    EXPECT_EQ(c.error().code, "BAD_RESPONSE");
    EXPECT_EQ(c.error().message, message);
  }
  EXPECT_EQ(parse_config_platform(R"({"os":"linux"})", "x").error().message,
            "x: image config lacks os or architecture");
  EXPECT_EQ(parse_config_platform("[", "x").error().message,
            "x: image config is not a JSON object");
}

TEST(MediaType, ParametersAreStripped) {
  EXPECT_EQ(strip_media_type_params("application/json; charset=utf-8"), "application/json");
  EXPECT_EQ(strip_media_type_params(" a/b "), "a/b");
}

}  // namespace
}  // namespace imagegate::registry
