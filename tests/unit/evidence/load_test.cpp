// evidence::load: the file pin and verify read. Each way it can be unusable has its own code and
// names the file; a document written by to_json reads back as it was.
#include <gtest/gtest.h>

#include <fstream>

#include "evidence/evidence.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::evidence {
namespace {

Evidence sample() {
  Evidence e;
  e.tool = "imagegate 1.2.3 (abcdef0)";
  e.manifest_path = "images-manifest.json";
  e.manifest_sha256 = std::string(64, 'a');
  e.env = "production";
  e.sha = "0123456789abcdef0123456789abcdef01234567";
  e.version = "1.4.0";
  e.features = {"billing"};
  e.registry = "ecr://eu-central-1";
  e.time = "2026-11-28T01:02:03Z";
  e.verdict = "pass";
  ImageEvidence image;
  image.id = "control-center";
  image.repository = "afu9/control-center";
  image.repository_uri = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center";
  image.container = "control-center";
  image.status = "pass";
  image.digest = "sha256:" + std::string(64, 'b');
  image.tags = {
      {"prod-latest", "found", image.digest, "application/vnd.oci.image.manifest.v1+json"}};
  image.required_platforms = {"linux/amd64"};
  image.platforms = {"linux/amd64", "linux/arm64"};
  e.images.push_back(image);
  e.excluded.push_back({"billing-worker", "billing-worker", "conditionalOn.feature billing-v2"});
  return e;
}

class EvidenceLoad : public ::testing::Test {
 protected:
  std::filesystem::path write(std::string_view text) const {
    return scratch_.write("evidence.json", text);
  }
  testing::ScratchDir scratch_;
};

TEST_F(EvidenceLoad, ReadsBackWhatToJsonWrote) {
  const Evidence e = sample();
  auto loaded = load(write(to_json(e).dump(2)));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(to_json(*loaded), to_json(e));
  ASSERT_EQ(loaded->images.size(), 1u);
  EXPECT_EQ(loaded->images[0].pinned_reference(),
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center@sha256:" +
                std::string(64, 'b'));
  EXPECT_EQ(loaded->version, "1.4.0");
  EXPECT_EQ(loaded->excluded.at(0).reason, "conditionalOn.feature billing-v2");
}

TEST_F(EvidenceLoad, AMissingFileIsUnreadable) {
  const auto path = scratch_.path() / "nowhere.json";
  auto loaded = load(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "EVIDENCE_UNREADABLE");
  EXPECT_EQ(loaded.error().message, "evidence '" + path.string() + "' cannot be read");
}

TEST_F(EvidenceLoad, ADirectoryIsUnreadableNotInvalidJson) {
  auto loaded = load(scratch_.path());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "EVIDENCE_UNREADABLE");
  EXPECT_EQ(loaded.error().message, "evidence '" + scratch_.path().string() + "' cannot be read");
}

TEST_F(EvidenceLoad, InvalidJsonNamesLineAndColumn) {
  struct Case {
    std::string text;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"", "line 1, column 1"},
      {"{", "line 1, column 2"},
      {"{\n  \"schemaVersion\": 1,\n  \"env\": prod\n}", "line 3, column 10"},
      {"{\"schemaVersion\": 1}}", "line 1, column 21"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto path = write(c.text);
    auto loaded = load(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, "EVIDENCE_INVALID_JSON");
    EXPECT_EQ(loaded.error().message,
              "evidence '" + path.string() + "' is not valid JSON at " + c.where);
  }
}

TEST_F(EvidenceLoad, JsonThatIsNotEvidence) {
  nlohmann::json future = to_json(sample());
  future["schemaVersion"] = 2;
  nlohmann::json wrapped = to_json(sample());
  wrapped["schemaVersion"] = 4294967297u;  // 2^32 + 1: read as an int it was 1
  nlohmann::json negative = to_json(sample());
  negative["schemaVersion"] = -1;
  nlohmann::json no_images = to_json(sample());
  no_images.erase("images");
  nlohmann::json bad_verdict = to_json(sample());
  bad_verdict["verdict"] = "maybe";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[]", "expected a JSON object"},
      {"\"evidence\"", "expected a JSON object"},
      {"{}", "schemaVersion is missing"},
      {R"({"schemaVersion": "1"})", "schemaVersion is missing"},
      {future.dump(), "schemaVersion 2 is not supported (expected 1)"},
      {wrapped.dump(), "schemaVersion 4294967297 is not supported (expected 1)"},
      {negative.dump(), "schemaVersion -1 is not supported (expected 1)"},
      {bad_verdict.dump(), "verdict 'maybe' is not \"pass\", \"fail\" or \"skipped\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 40));
    auto loaded = load(write(c.text));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, "EVIDENCE_INVALID");
    EXPECT_EQ(loaded.error().message, "evidence document is not valid: " + c.message);
  }
  auto missing = load(write(no_images.dump()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "EVIDENCE_INVALID");
  EXPECT_NE(missing.error().message.find("images"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace imagegate::evidence
