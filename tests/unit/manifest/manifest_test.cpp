#include "manifest/manifest.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace imagegate::manifest {
namespace {

namespace fs = std::filesystem;

const char* kAfu9 = R"({
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
  static std::string afu9_with(const std::string& from, const std::string& to) {
    std::string s = kAfu9;
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return s.replace(pos, from.size(), to);
  }

  fs::path root_;
};

TEST_F(ManifestTest, BuildsTheModel) {
  const auto m = parsed(kAfu9);
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

TEST_F(ManifestTest, LoadReadsAFileAtTheLimitAndRefusesOnePast) {
  const auto at_limit = root_ / "at-limit.json";
  {
    std::ofstream out(at_limit, std::ios::binary);
    out << std::string(kMaxManifestBytes - 2, ' ') << "{}";
  }
  const auto m = load(at_limit);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->document.is_object());
  {
    std::ofstream out(at_limit, std::ios::binary | std::ios::app);
    out << ' ';
  }
  EXPECT_EQ(load(at_limit).error().code, "MANIFEST_TOO_LARGE");
}

TEST_F(ManifestTest, SchemaViolationsCarryPointers) {
  findings::Findings f;
  check_schema(parsed(afu9_with("\"required\": true", "\"required\": 1")), f);
  ASSERT_EQ(f.items().size(), 1u);
  EXPECT_EQ(f.items()[0].subject, "/images/0/required");
  EXPECT_EQ(f.items()[0].image_id, "a");
  EXPECT_NE(f.items()[0].message.find("expected \"boolean\"; found number 1"), std::string::npos)
      << f.items()[0].message;
}

TEST_F(ManifestTest, SemanticChecks) {
  EXPECT_EQ(codes(afu9_with("a/Dockerfile", "a/Nope")),
            std::vector<std::string>{"DOCKERFILE_MISSING"});
  EXPECT_EQ(codes(afu9_with("a/Dockerfile", "a")), std::vector<std::string>{"DOCKERFILE_NOT_FILE"});
  EXPECT_EQ(codes(afu9_with("\"context\": \"b\"", "\"context\": \"b/Dockerfile\"")),
            std::vector<std::string>{"CONTEXT_NOT_DIRECTORY"});
  EXPECT_EQ(codes(afu9_with("\"context\": \"b\"", "\"context\": \"zz\"")),
            std::vector<std::string>{"CONTEXT_MISSING"});
  EXPECT_EQ(codes(afu9_with("a/Dockerfile", "a/../../x")), std::vector<std::string>{"PATH_ESCAPE"});
  EXPECT_EQ(codes(afu9_with("a/Dockerfile", "/etc/hostname")),
            std::vector<std::string>{"PATH_ABSOLUTE"});
  // `..` that stays inside the root is fine.
  EXPECT_TRUE(codes(afu9_with("a/Dockerfile", "b/../a/Dockerfile")).empty());
  EXPECT_EQ(codes(afu9_with("\"id\": \"b\"", "\"id\": \"a\"")),
            std::vector<std::string>{"DUPLICATE_ID"});
  EXPECT_EQ(codes(afu9_with("[\"afu9/a\", \"afu9/b\"]", "[\"afu9/a\"]")),
            std::vector<std::string>{"REPOSITORY_UNLISTED"});
  EXPECT_EQ(codes(afu9_with("[\"afu9/a\", \"afu9/b\"]", "[\"afu9/a\", \"afu9/b\", \"afu9/c\"]")),
            std::vector<std::string>{"REPOSITORY_UNUSED"});
  EXPECT_EQ(codes(afu9_with("\"git-sha\"", "\"semver\"")),
            std::vector<std::string>{"UNKNOWN_STRATEGY"});
  EXPECT_EQ(codes(afu9_with("\"{prefix}-{full_sha}\", ", "")),
            std::vector<std::string>{"NO_FULL_SHA_TEMPLATE"});
  EXPECT_EQ(codes(afu9_with("\"{prefix}-latest\"", "\"{prefix}-{sha}\"")),
            std::vector<std::string>{"UNKNOWN_PLACEHOLDER"});
  EXPECT_EQ(codes(afu9_with("\"prod\"", "\".prod\"")), std::vector<std::string>{"BAD_PREFIX"});
  EXPECT_EQ(codes(afu9_with("\"{prefix}-latest\"", "\"{prefix}-latest\", \"{prefix}-latest\"")),
            std::vector<std::string>{"DUPLICATE_TEMPLATE"});
}

TEST_F(ManifestTest, SymlinkOutsideTheRootIsAnEscape) {
  fs::create_directory_symlink("/etc", root_ / "link");
  EXPECT_EQ(codes(afu9_with("\"context\": \"b\"", "\"context\": \"link\"")),
            std::vector<std::string>{"PATH_ESCAPE"});
  fs::create_directory_symlink(root_ / "b", root_ / "inside");
  EXPECT_TRUE(codes(afu9_with("\"context\": \"b\"", "\"context\": \"inside\"")).empty());
}

TEST_F(ManifestTest, EveryFindingIsReportedNotOnlyTheFirst) {
  auto text = afu9_with("a/Dockerfile", "a/Nope");
  text.replace(text.find("\"git-sha\""), 9, "\"semver\"");
  EXPECT_EQ(codes(text), (std::vector<std::string>{"DOCKERFILE_MISSING", "UNKNOWN_STRATEGY"}));
}

TEST_F(ManifestTest, ReadsTheAfu9ProjectFields) {
  const auto m = parsed(afu9_with(R"("taskDefContainerName": "a"})",
                                  R"("taskDefContainerName": "a", "buildArgs": ["BUILD_ENV"],
                                     "healthCheck": "/api/ready",
                                     "conditionalOn": {"environments": ["production"],
                                                       "feature": "enableX"}})"));
  EXPECT_EQ(m.images[0].build_args, std::vector<std::string>{"BUILD_ENV"});
  EXPECT_EQ(m.images[0].health_check, "/api/ready");
  ASSERT_TRUE(m.images[0].only_environments.has_value());
  EXPECT_EQ(*m.images[0].only_environments, std::vector<std::string>{"production"});
  EXPECT_EQ(m.images[0].only_feature, "enableX");
  EXPECT_FALSE(m.images[1].only_environments.has_value());
  EXPECT_TRUE(validate(m, root_).empty());
}

TEST_F(ManifestTest, UnknownKeysWarnNearMissesAreErrors) {
  auto findings = validate(parsed(afu9_with(R"("version")", R"("owner": "x", "version")")), root_);
  ASSERT_EQ(findings.items().size(), 1u);
  EXPECT_EQ(findings.items()[0].code, "UNKNOWN_FIELD");
  EXPECT_EQ(findings.items()[0].subject, "/owner");
  EXPECT_FALSE(findings.has_errors());
  findings = validate(parsed(afu9_with(R"("version")", R"("owner": "x", "version")")), root_,
                      {true, true});
  EXPECT_TRUE(findings.has_errors());
  findings =
      validate(parsed(afu9_with(R"("context": "b")", R"("context": "b", "Platforms": [])")), root_);
  ASSERT_EQ(findings.items().size(), 1u);
  EXPECT_TRUE(findings.has_errors());
  EXPECT_NE(findings.items()[0].message.find("did you mean 'platforms'?"), std::string::npos);
  EXPECT_EQ(findings.items()[0].image_id, "b");
  // Free-form maps (tagging.prefixes) have no unknown keys.
  findings = validate(
      parsed(afu9_with(R"({"production": "prod"})", R"({"production": "prod", "prodd": "p"})")),
      root_);
  EXPECT_TRUE(findings.empty());
}

TEST_F(ManifestTest, DuplicateKeysHaveLineAndColumn) {
  const auto m = parsed("{\n  \"images\": [{\"id\": \"a\",\n    \"id\": \"b\"}]}");
  ASSERT_EQ(m.duplicate_keys.size(), 1u);
  EXPECT_EQ(m.duplicate_keys[0].pointer, "/images/0/id");
  EXPECT_EQ(m.duplicate_keys[0].first_line, 2u);
  EXPECT_EQ(m.duplicate_keys[0].first_column, 15u);
  EXPECT_EQ(m.duplicate_keys[0].line, 3u);
  EXPECT_EQ(m.duplicate_keys[0].column, 5u);
  EXPECT_TRUE(parsed(kAfu9).duplicate_keys.empty());
}

TEST_F(ManifestTest, FilesAreCheckedOnlyWhenAsked) {
  fs::remove(root_ / "a/Dockerfile");
  EXPECT_TRUE(validate(parsed(kAfu9), root_).has_errors());
  EXPECT_FALSE(validate(parsed(kAfu9), root_, {false, false}).has_errors());
}

TEST_F(ManifestTest, SelectImagesByEnvironmentAndFeature) {
  auto m = parsed(afu9_with(R"("taskDefContainerName": "a"})",
                            R"("taskDefContainerName": "a",
                               "conditionalOn": {"environments": ["production"], "feature": "x"}})"));
  auto without = m;
  select_images(without, "production", {});
  ASSERT_EQ(without.images.size(), 1u);
  ASSERT_EQ(without.excluded.size(), 1u);
  EXPECT_EQ(without.excluded[0].id, "a");
  select_images(m, "production", {"x"});
  EXPECT_EQ(m.images.size(), 2u);
  EXPECT_TRUE(m.excluded.empty());
}

TEST(EditDistance, CountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("platfroms", "platforms"), 1u);
  EXPECT_EQ(edit_distance("requried", "required"), 1u);
  EXPECT_EQ(edit_distance("owner", "name"), 4u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

}  // namespace
}  // namespace imagegate::manifest
