// Multi-arch depth over the oci-layout backend (the backend-independent part: which children are
// read, how often, and what each reading concludes), with a wrapper that counts what is fetched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "registry/content.hpp"
#include "registry/layout/layout.hpp"
#include "support/fake_registry.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::registry {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

// Counts the content requests a backend gets, so deduplication is observable.
class Counting final : public Registry {
 public:
  explicit Counting(std::unique_ptr<Registry> inner) : inner_(std::move(inner)) {}
  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override {
    return inner_->resolve(queries);
  }
  std::vector<ContentResult> fetch(const std::vector<ContentRequest>& requests) override {
    ++batches;
    for (const auto& r : requests) asked.push_back(r.reference);
    return inner_->fetch(requests);
  }
  std::string describe() const override { return inner_->describe(); }
  int batches = 0;
  std::vector<std::string> asked;

 private:
  std::unique_ptr<Registry> inner_;
};

class Layout {
 public:
  Layout(const ScratchDir& dir, std::string repository) : dir_(dir), root_(repository) {
    dir_.write(root_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }
  std::string blob(const std::string& bytes) {
    const std::string digest = sha256_digest(bytes);
    dir_.write(root_ / "blobs/sha256" / digest.substr(7), bytes);
    return digest;
  }
  std::string image(const std::string& arch) {
    const std::string config = testing::config_blob("linux", arch, "");
    return blob(testing::image_manifest(blob(config), config.size()));
  }
  void remove(const std::string& digest) {
    std::filesystem::remove(dir_.path() / root_ / "blobs/sha256" / digest.substr(7));
  }
  void tag(const std::string& name, const std::string& digest) {
    const auto size =
        std::filesystem::file_size(dir_.path() / root_ / "blobs/sha256" / digest.substr(7));
    entries_.push_back({{"mediaType", kOciIndex},
                        {"digest", digest},
                        {"size", size},
                        {"annotations", {{"org.opencontainers.image.ref.name", name}}}});
    dir_.write(root_ / "index.json",
               nlohmann::json{{"schemaVersion", 2}, {"manifests", entries_}}.dump());
  }

 private:
  const ScratchDir& dir_;
  std::filesystem::path root_;
  nlohmann::json entries_ = nlohmann::json::array();
};

const Platform kAmd{"linux", "amd64", ""};
const Platform kArm{"linux", "arm64", ""};

std::vector<RepositoryResult> deep(Counting& registry, std::vector<std::string> tags,
                                   std::vector<Platform> wanted) {
  return resolve_deep(registry, {{"a/multi", std::move(tags), true, std::move(wanted)}});
}

TEST(Depth, ChildrenThatAreThereAndTrueCheckCleanAndEachDigestIsReadOnce) {
  ScratchDir dir;
  Layout layout(dir, "a/multi");
  const std::string amd = layout.image("amd64");
  const std::string arm = layout.image("arm64");
  const std::string index =
      layout.blob(testing::image_index({{amd, "linux/amd64"}, {arm, "linux/arm64"}}));
  layout.tag("t1", index);
  layout.tag("t2", index);
  Counting registry(make_layout_registry(dir.path()));
  const auto results = deep(registry, {"t1", "t2"}, {kAmd, kArm});
  ASSERT_EQ(results[0].tags.size(), 2u);
  for (const auto& tag : results[0].tags) {
    ASSERT_EQ(tag.children.size(), 2u);
    for (const auto& check : tag.children) {
      EXPECT_EQ(check.error.code, "") << check.error.message;
      EXPECT_EQ(check.actual, check.entry.platform);
    }
  }
  // Two tags on one index: two child manifests and two configs, one batch each.
  EXPECT_EQ(registry.batches, 2);
  EXPECT_EQ(registry.asked.size(), 4u);
}

TEST(Depth, AChildNeverPushedIsChildMissing) {
  ScratchDir dir;
  Layout layout(dir, "a/multi");
  const std::string amd = layout.image("amd64");
  const std::string arm = layout.image("arm64");
  const std::string index =
      layout.blob(testing::image_index({{amd, "linux/amd64"}, {arm, "linux/arm64"}}));
  layout.tag("t", index);
  layout.remove(arm);
  Counting registry(make_layout_registry(dir.path()));
  const auto results = deep(registry, {"t"}, {kAmd, kArm});
  const auto& children = results[0].tags.at(0).children;
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].error.code, "");
  EXPECT_EQ(children[1].error.code, "CHILD_MISSING");
  EXPECT_THAT(children[1].error.message, HasSubstr("is not in the registry"));
}

TEST(Depth, AnEntryThatLiesAboutItsPlatformIsAMismatch) {
  ScratchDir dir;
  Layout layout(dir, "a/multi");
  const std::string amd = layout.image("amd64");
  const std::string index =
      layout.blob(testing::image_index({{amd, "linux/amd64"}, {amd, "linux/arm64"}}));
  layout.tag("t", index);
  Counting registry(make_layout_registry(dir.path()));
  const auto results = deep(registry, {"t"}, {kArm});
  const auto& children = results[0].tags.at(0).children;
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].error.code, "PLATFORM_MISMATCH");
  EXPECT_THAT(children[0].error.message,
              HasSubstr("the index entry claims linux/arm64 but its image"));
  EXPECT_THAT(children[0].error.message, HasSubstr("is built for linux/amd64"));
}

TEST(Depth, AChildThatIsAnIndexIsNoImage) {
  ScratchDir dir;
  Layout layout(dir, "a/multi");
  const std::string amd = layout.image("amd64");
  const std::string inner = layout.blob(testing::image_index({{amd, "linux/amd64"}}));
  const std::string index = layout.blob(testing::image_index({{inner, "linux/amd64"}}));
  layout.tag("t", index);
  Counting registry(make_layout_registry(dir.path()));
  const auto results = deep(registry, {"t"}, {kAmd});
  const auto& children = results[0].tags.at(0).children;
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].error.code, "BAD_RESPONSE");
  EXPECT_THAT(children[0].error.message, HasSubstr("not a single-image manifest"));
}

TEST(Depth, AttestationEntriesAreNoPlatformAndAreNotRead) {
  const std::string index =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", kOciIndex},
                     {"manifests",
                      {{{"mediaType", kOciManifest},
                        {"digest", "sha256:" + std::string(64, 'a')},
                        {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                       {{"mediaType", kOciManifest},
                        {"digest", "sha256:" + std::string(64, 'b')},
                        {"platform", {{"os", "linux"}, {"architecture", "arm64"}}},
                        {"annotations", {{"vnd.docker.reference.type", "attestation-manifest"}}}},
                       {{"mediaType", kOciManifest},
                        {"digest", "sha256:" + std::string(64, 'c')},
                        {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}}}}}}
          .dump();
  const auto content = parse_manifest(index, "index");
  ASSERT_TRUE(content) << content.error().message;
  ASSERT_EQ(content->entries.size(), 1u);
  EXPECT_EQ(content->entries[0].platform, kAmd);
  EXPECT_EQ(content->entries[0].digest, "sha256:" + std::string(64, 'a'));
}

TEST(Depth, NothingIsFetchedWithoutRequiredPlatforms) {
  ScratchDir dir;
  Layout layout(dir, "a/multi");
  const std::string amd = layout.image("amd64");
  layout.tag("t", layout.blob(testing::image_index({{amd, "linux/amd64"}})));
  Counting registry(make_layout_registry(dir.path()));
  const auto results = deep(registry, {"t"}, {});
  EXPECT_TRUE(results[0].tags.at(0).children.empty());
  EXPECT_EQ(registry.batches, 0);
}

}  // namespace
}  // namespace imagegate::registry
