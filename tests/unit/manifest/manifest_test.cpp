#include "manifest/manifest.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace imagegate::manifest {
namespace {

namespace fs = std::filesystem;

const char* kSeed = R"({
  "version": "1.0.0",
  "images": [
    {"id": "a", "name": "afu9/a", "dockerfile": "a/Dockerfile", "context": ".",
     "required": true, "taskDefContainerName": "a"},
    {"id": "b", "name": "afu9/b", "dockerfile": "b/Dockerfile", "context": "b",
     "required": false, "taskDefContainerName": "b", "platforms": ["linux/arm64"]}
  ],
  "ecrRepositories": ["afu9/a", "afu9/b"],
  "tagging": {"strategy": "git-sha", "prefixes": {"production": "prod"},
              "alwaysTag": ["{prefix}-{full_sha}", "{prefix}-latest"]},
  "platforms": ["linux/amd64"]
})";

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("imagegate-manifest-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "a");
    fs::create_directories(root_ / "b");
    std::ofstream(root_ / "a/Dockerfile") << "FROM scratch\n";
    std::ofstream(root_ / "b/Dockerfile") << "FROM scratch\n";
  }
  void TearDown() override { fs::remove_all(root_); }

  Manifest parsed(const std::string& text) {
    auto m = parse(text, "images-manifest.json");
    EXPECT_TRUE(m.has_value()) << m.error().message;
    return *m;
  }
  std::vector<std::string> codes(const std::string& text) {
    std::vector<std::string> out;
    const auto findings = validate(parsed(text), root_);
    for (const auto& f : findings.items()) out.push_back(f.code);
    return out;
  }
  static std::string seed_with(const std::string& from, const std::string& to) {
    std::string s = kSeed;
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return s.replace(pos, from.size(), to);
  }

  fs::path root_;
};

TEST_F(ManifestTest, BuildsTheModel) {
  const auto m = parsed(kSeed);
  ASSERT_EQ(m.images.size(), 2u);
  EXPECT_EQ(m.images[1].id, "b");
  EXPECT_FALSE(m.images[1].required);
  EXPECT_EQ(m.images[0].platforms, std::vector<std::string>{"linux/amd64"});  // default
  EXPECT_EQ(m.images[1].platforms, std::vector<std::string>{"linux/arm64"});  // own
  EXPECT_EQ(*m.tagging.prefix_for("production"), "prod");
  EXPECT_EQ(m.sha256.size(), 64u);
  EXPECT_TRUE(validate(m, root_).empty());
}

TEST_F(ManifestTest, InvalidJsonHasLineAndColumn) {
  const auto m = parse("{\n  \"version\": 1,\n  oops\n}", "m.json");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, "MANIFEST_INVALID_JSON");
  EXPECT_NE(m.error().message.find("line 3, column 3"), std::string::npos) << m.error().message;
}

TEST_F(ManifestTest, RejectsInvalidUtf8AndOversize) {
  EXPECT_EQ(parse("{\"v\": \"\xc3\x28\"}", "m").error().code, "MANIFEST_NOT_UTF8");
  EXPECT_EQ(parse("\xed\xa0\x80", "m").error().code, "MANIFEST_NOT_UTF8");  // surrogate
  EXPECT_EQ(parse(std::string(kMaxManifestBytes + 1, ' '), "m").error().code, "MANIFEST_TOO_LARGE");
}

TEST_F(ManifestTest, LoadReportsMissingFile) {
  const auto m = load(root_ / "nope.json");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, "MANIFEST_NOT_FOUND");
  EXPECT_EQ(load(root_).error().code, "MANIFEST_UNREADABLE");  // a directory
}

TEST_F(ManifestTest, SchemaViolationsCarryPointers) {
  report::Findings f;
  check_schema(parsed(seed_with("\"required\": true", "\"required\": 1")), f);
  ASSERT_EQ(f.items().size(), 1u);
  EXPECT_EQ(f.items()[0].subject, "/images/0/required");
  EXPECT_EQ(f.items()[0].image_id, "a");
  EXPECT_NE(f.items()[0].message.find("expected \"boolean\"; found number 1"), std::string::npos)
      << f.items()[0].message;
}

TEST_F(ManifestTest, SemanticChecks) {
  EXPECT_EQ(codes(seed_with("a/Dockerfile", "a/Nope")),
            std::vector<std::string>{"DOCKERFILE_MISSING"});
  EXPECT_EQ(codes(seed_with("a/Dockerfile", "a")), std::vector<std::string>{"DOCKERFILE_NOT_FILE"});
  EXPECT_EQ(codes(seed_with("\"context\": \"b\"", "\"context\": \"b/Dockerfile\"")),
            std::vector<std::string>{"CONTEXT_NOT_DIRECTORY"});
  EXPECT_EQ(codes(seed_with("\"context\": \"b\"", "\"context\": \"zz\"")),
            std::vector<std::string>{"CONTEXT_MISSING"});
  EXPECT_EQ(codes(seed_with("a/Dockerfile", "a/../../x")), std::vector<std::string>{"PATH_ESCAPE"});
  EXPECT_EQ(codes(seed_with("a/Dockerfile", "/etc/hostname")),
            std::vector<std::string>{"PATH_ABSOLUTE"});
  // `..` that stays inside the root is fine.
  EXPECT_TRUE(codes(seed_with("a/Dockerfile", "b/../a/Dockerfile")).empty());
  EXPECT_EQ(codes(seed_with("\"id\": \"b\"", "\"id\": \"a\"")),
            std::vector<std::string>{"DUPLICATE_ID"});
  EXPECT_EQ(codes(seed_with("[\"afu9/a\", \"afu9/b\"]", "[\"afu9/a\"]")),
            std::vector<std::string>{"REPOSITORY_UNLISTED"});
  EXPECT_EQ(codes(seed_with("[\"afu9/a\", \"afu9/b\"]", "[\"afu9/a\", \"afu9/b\", \"afu9/c\"]")),
            std::vector<std::string>{"REPOSITORY_UNUSED"});
  EXPECT_EQ(codes(seed_with("\"git-sha\"", "\"semver\"")),
            std::vector<std::string>{"UNKNOWN_STRATEGY"});
  EXPECT_EQ(codes(seed_with("\"{prefix}-{full_sha}\", ", "")),
            std::vector<std::string>{"NO_FULL_SHA_TEMPLATE"});
  EXPECT_EQ(codes(seed_with("\"{prefix}-latest\"", "\"{prefix}-{sha}\"")),
            std::vector<std::string>{"UNKNOWN_PLACEHOLDER"});
  EXPECT_EQ(codes(seed_with("\"prod\"", "\".prod\"")), std::vector<std::string>{"BAD_PREFIX"});
  EXPECT_EQ(codes(seed_with("\"{prefix}-latest\"", "\"{prefix}-latest\", \"{prefix}-latest\"")),
            std::vector<std::string>{"DUPLICATE_TEMPLATE"});
}

TEST_F(ManifestTest, SymlinkOutsideTheRootIsAnEscape) {
  fs::create_directory_symlink("/etc", root_ / "link");
  EXPECT_EQ(codes(seed_with("\"context\": \"b\"", "\"context\": \"link\"")),
            std::vector<std::string>{"PATH_ESCAPE"});
  fs::create_directory_symlink(root_ / "b", root_ / "inside");
  EXPECT_TRUE(codes(seed_with("\"context\": \"b\"", "\"context\": \"inside\"")).empty());
}

TEST_F(ManifestTest, EveryFindingIsReportedNotOnlyTheFirst) {
  auto text = seed_with("a/Dockerfile", "a/Nope");
  text.replace(text.find("\"git-sha\""), 9, "\"semver\"");
  EXPECT_EQ(codes(text), (std::vector<std::string>{"DOCKERFILE_MISSING", "UNKNOWN_STRATEGY"}));
}

}  // namespace
}  // namespace imagegate::manifest
