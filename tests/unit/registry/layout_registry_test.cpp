// The oci-layout backend on layouts written by the tests (blobs under their real sha256) and on
// a layout made by umoci, the tool the end-to-end tests build images with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "registry/content.hpp"
#include "registry/layout/layout.hpp"
#include "support/fake_registry.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;

// Writes layouts blob by blob, so tests can also break them on purpose.
class LayoutWriter {
 public:
  LayoutWriter(const ScratchDir& dir, std::string repository)
      : dir_(dir), root_(std::filesystem::path(repository)) {
    dir_.write(root_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }
  std::string blob(const std::string& bytes) {
    const std::string digest = sha256_digest(bytes);
    dir_.write(root_ / "blobs/sha256" / digest.substr(7), bytes);
    return digest;
  }
  std::string image(const std::string& os, const std::string& arch,
                    const std::string& variant = "") {
    const std::string config = testing::config_blob(os, arch, variant);
    return blob(testing::image_manifest(blob(config), config.size()));
  }
  void tag(const std::string& name, const std::string& digest, std::string_view media_type) {
    const auto path = dir_.path() / root_ / "blobs/sha256" / digest.substr(7);
    entries_.push_back({{"mediaType", media_type},
                        {"digest", digest},
                        {"size", std::filesystem::file_size(path)},
                        {"annotations", {{"org.opencontainers.image.ref.name", name}}}});
    write_index();
  }
  void write_index() {
    dir_.write(root_ / "index.json",
               nlohmann::json{{"schemaVersion", 2}, {"manifests", entries_}}.dump());
  }
  std::filesystem::path path() const { return dir_.path() / root_; }

 private:
  const ScratchDir& dir_;
  std::filesystem::path root_;
  nlohmann::json entries_ = nlohmann::json::array();
};

TEST(LayoutRegistry, FindsTaggedImagesWithDigestMediaTypeAndPlatform) {
  ScratchDir dir;
  LayoutWriter layout(dir, "afu9/control-center");
  const std::string digest = layout.image("linux", "arm64", "v8");
  layout.tag("prod-abc", digest, kOciManifest);
  layout.tag("prod-latest", digest, kOciManifest);
  const auto results =
      make_layout_registry(dir.path())
          ->resolve({{"afu9/control-center", {"prod-abc", "prod-latest", "prod-old"}, true}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[0].uri, "afu9/control-center");
  ASSERT_EQ(results[0].tags.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(results[0].tags[i].status, TagStatus::kFound) << results[0].tags[i].error.message;
    EXPECT_EQ(results[0].tags[i].digest, digest);
    EXPECT_EQ(results[0].tags[i].media_type, kOciManifest);
    EXPECT_THAT(results[0].tags[i].platforms, ElementsAre(Platform{"linux", "arm64", "v8"}));
  }
  EXPECT_EQ(results[0].tags[2].status, TagStatus::kMissing);
}

TEST(LayoutRegistry, PlatformsOfAnIndexComeFromItsEntries) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/multi");
  const std::string amd = layout.image("linux", "amd64");
  const std::string arm = layout.image("linux", "arm64");
  const std::string index =
      layout.blob(testing::image_index({{amd, "linux/amd64"}, {arm, "linux/arm64"}}));
  layout.tag("t", index, kOciIndex);
  const auto results = make_layout_registry(dir.path())->resolve({{"a/multi", {"t"}, true}});
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_EQ(results[0].tags[0].digest, index);
  EXPECT_THAT(results[0].tags[0].platforms,
              ElementsAre(Platform{"linux", "amd64", ""}, Platform{"linux", "arm64", ""}));
}

TEST(LayoutRegistry, KeepsTheManifestWhenAskedAndNamesItsSubjectScan) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/multi");
  const std::string amd = layout.image("linux", "amd64");
  layout.tag("t", amd, kOciManifest);
  const auto registry = make_layout_registry(dir.path());
  TagQuery query{.repository = "a/multi", .tags = {"t"}, .want_manifest = true};
  const auto results = registry->resolve({query});
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_EQ(sha256_digest(results[0].tags[0].manifest), amd);
  query.want_manifest = false;
  EXPECT_TRUE(registry->resolve({query})[0].tags.at(0).manifest.empty());
  // Evidence says where a referrer was found: a layout has no referrers API.
  EXPECT_EQ(registry->referrers_source(), "layout subject scan");
}

TEST(LayoutRegistry, AbsentRepositoryIsMissing) {
  ScratchDir dir;
  LayoutWriter other(dir, "a/other");
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kMissing);
  EXPECT_TRUE(results[0].tags.empty());
}

// A mistyped root must not turn every repository into "missing" (an optional image would pass).
TEST(LayoutRegistry, AbsentRootIsUnreachable) {
  ScratchDir dir;
  dir.write("file", "not a directory");
  for (const auto& root : {dir.path() / "nope", dir.path() / "file"}) {
    const auto results =
        make_layout_registry(root)->resolve({{"a/x", {"t"}, false}, {"a/y", {"t"}, false}});
    ASSERT_EQ(results.size(), 2u);
    for (const auto& result : results) {
      EXPECT_EQ(result.status, RepositoryStatus::kError);
      EXPECT_EQ(result.error.code, "UNREACHABLE");
      EXPECT_THAT(result.error.message, HasSubstr(root.string() + " is not a directory"));
      EXPECT_TRUE(result.tags.empty());
    }
  }
}

TEST(LayoutRegistry, CorruptBlobIsBadResponse) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  const std::string digest = layout.image("linux", "amd64");
  layout.tag("t", digest, kOciManifest);
  dir.write(std::filesystem::path("a/x/blobs/sha256") / digest.substr(7), "{\"tampered\":1}");
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.code, "BAD_RESPONSE");
  EXPECT_EQ(results[0].tags[0].error.message, "a/x:t: blob " + digest + " hashes to " +
                                                  sha256_digest("{\"tampered\":1}") +
                                                  " (corrupt layout)");
}

TEST(LayoutRegistry, CorruptConfigBlobIsBadResponseWhenPlatformsAreWanted) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  const std::string config = testing::config_blob("linux", "amd64");
  const std::string config_digest = layout.blob(config);
  layout.tag("t", layout.blob(testing::image_manifest(config_digest, config.size())), kOciManifest);
  dir.write(std::filesystem::path("a/x/blobs/sha256") / config_digest.substr(7), "{}");
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, true}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kError);
  EXPECT_THAT(results[0].tags[0].error.message, HasSubstr("blob " + config_digest + " hashes to"));
}

TEST(LayoutRegistry, MissingBlobIsBadResponse) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  const std::string digest = layout.image("linux", "amd64");
  layout.tag("t", digest, kOciManifest);
  std::filesystem::remove(layout.path() / "blobs/sha256" / digest.substr(7));
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.message, "a/x:t: blob " + digest + " is missing");
}

TEST(LayoutRegistry, SizeDisagreeingWithTheDescriptorIsBadResponse) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  const std::string digest = layout.image("linux", "amd64");
  dir.write("a/x/index.json",
            nlohmann::json{{"schemaVersion", 2},
                           {"manifests",
                            {{{"mediaType", kOciManifest},
                              {"digest", digest},
                              {"size", 1},
                              {"annotations", {{"org.opencontainers.image.ref.name", "t"}}}}}}}
                .dump());
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kError);
  EXPECT_THAT(results[0].tags[0].error.message, HasSubstr("its descriptor says 1"));
}

TEST(LayoutRegistry, DigestsThatWouldEscapeTheBlobDirectoryAreRejected) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  dir.write("a/x/index.json", R"({"manifests":[{"digest":"sha256:../../../../etc/passwd",)"
                              R"("annotations":{"org.opencontainers.image.ref.name":"t"}}]})");
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.message,
            "a/x:t: \"sha256:../../../../etc/passwd\" is not a sha256 digest");
}

TEST(LayoutRegistry, OneTagOnTwoDigestsIsBadResponse) {
  ScratchDir dir;
  LayoutWriter layout(dir, "a/x");
  layout.tag("t", layout.image("linux", "amd64"), kOciManifest);
  layout.tag("t", layout.image("linux", "arm64"), kOciManifest);
  const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.message,
            "a/x:t: index.json names the tag on different digests");
}

TEST(LayoutRegistry, BrokenLayoutFilesAreRepositoryErrors) {
  struct Case {
    std::string oci_layout;
    std::string index;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "{}", "no oci-layout file"},
      {"{}", R"({"manifests":[]})", "oci-layout file lacks a string imageLayoutVersion"},
      {R"({"imageLayoutVersion":"1.0.0"})", "", "no index.json"},
      {R"({"imageLayoutVersion":"1.0.0"})", "not json",
       "index.json is not an image index with manifests[]"},
      {R"({"imageLayoutVersion":"1.0.0"})", R"({"manifests":[1]})",
       "index.json entry is not an object"},
  };
  for (const auto& c : cases) {
    ScratchDir dir;
    std::filesystem::create_directories(dir.path() / "a/x");
    if (!c.oci_layout.empty()) dir.write("a/x/oci-layout", c.oci_layout);
    if (!c.index.empty()) dir.write("a/x/index.json", c.index);
    const auto results = make_layout_registry(dir.path())->resolve({{"a/x", {"t"}, false}});
    EXPECT_EQ(results[0].status, RepositoryStatus::kError) << c.message;
    EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
    EXPECT_EQ(results[0].error.message,
              "oci-layout " + (dir.path() / "a/x").string() + ": " + c.message);
  }
}

TEST(LayoutRegistry, PathEscapingRepositoryNamesAreRejected) {
  ScratchDir dir;
  for (const std::string name : {"../x", "/etc", "a/../../b", "a//b", "", "A/B", "a/./b"}) {
    const auto results = make_layout_registry(dir.path())->resolve({{name, {"t"}, false}});
    EXPECT_EQ(results[0].status, RepositoryStatus::kError) << name;
    EXPECT_EQ(results[0].error.code, "INVALID_REFERENCE") << name;
    EXPECT_THAT(results[0].error.message, HasSubstr("is not a valid repository name")) << name;
  }
}

TEST(LayoutRegistry, ReadsALayoutMadeByUmoci) {
  ScratchDir dir;
  const std::string layout = (dir.path() / "afu9/mcp-github").string();
  std::filesystem::create_directories(dir.path() / "afu9");
  const std::string script = "set -e; umoci init --layout '" + layout + "'; umoci new --image '" +
                             layout + ":v1'; umoci config --image '" + layout +
                             ":v1' --os linux --architecture arm64; umoci tag --image '" + layout +
                             ":v1' v2";
  ASSERT_EQ(std::system(("bash -c \"" + script + "\" >/dev/null 2>&1").c_str()), 0)
      << "umoci (installed by scripts/bootstrap) failed: " << script;
  const auto results =
      make_layout_registry(dir.path())->resolve({{"afu9/mcp-github", {"v1", "v2", "v3"}, true}});
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists) << results[0].error.message;
  const auto& tags = results[0].tags;
  ASSERT_EQ(tags.at(0).status, TagStatus::kFound) << tags[0].error.message;
  EXPECT_TRUE(is_sha256_digest(tags[0].digest));
  EXPECT_EQ(tags.at(1).digest, tags[0].digest);
  EXPECT_THAT(tags[0].platforms, ElementsAre(Platform{"linux", "arm64", ""}));
  EXPECT_EQ(tags.at(2).status, TagStatus::kMissing);
}

}  // namespace
}  // namespace imagegate::registry
