// The ECR backend over libcurl against the fake AWS on 127.0.0.1: real signing, real JSON, the
// presigned config-blob download, and the request counts the fake keeps.
#include <gtest/gtest.h>

#include "../aws/temp_dir.hpp"
#include "fake_ecr.hpp"
#include "registry/ecr/ecr.hpp"
#include "support/fake_aws_server.hpp"

namespace imagegate::registry::ecr {
namespace {

using testing::config_blob;
using testing::digest_of;
using testing::json;
using testing::oci_manifest;

const char* kAkid = "AKIAFAKEECRTEST00001";
const char* kSecret = "ecrTestSecretKey0123456789abcdefghijklmn";

class EcrOverFakeAws : public ::testing::Test {
 protected:
  void start(const fake_aws::Json& repositories) {
    fake_ = std::make_unique<imagegate::testing::InProcessFakeAws>(
        fake_aws::Json{{"credentials", {{{"accessKeyId", kAkid}, {"secretAccessKey", kSecret}}}},
                       {"repositories", repositories}});
    http_ = http::make_curl_client({});
    aws::SessionOptions options;
    options.http = http_.get();
    options.region = "eu-central-1";
    options.endpoint_url = fake_->url();
    options.credentials = aws::Credentials{kAkid, kSecret, "", std::nullopt, "fixed"};
    options.sleep = [](std::chrono::milliseconds) {};
    session_ = std::make_unique<aws::Session>(
        options, aws::Environment::from_map({{"HOME", dir_.path("home")}}));
    registry_ = make_ecr_registry({session_.get(), "", 16, http_.get()});
  }

  aws::testing::TempDir dir_;
  std::unique_ptr<imagegate::testing::InProcessFakeAws> fake_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<aws::Session> session_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(EcrOverFakeAws, TagsDigestsAndPlatformsFromConfigBlobsAndIndexes) {
  const std::string amd = config_blob("linux", "amd64");
  const std::string arm = config_blob("linux", "arm64", "v8");
  const std::string amd_manifest = oci_manifest(amd);
  const std::string arm_manifest = oci_manifest(arm);
  const std::string index =
      json{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests",
            {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"digest", digest_of(amd_manifest)},
              {"size", amd_manifest.size()},
              {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
             {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"digest", digest_of(arm_manifest)},
              {"size", arm_manifest.size()},
              {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}}}}}
          .dump();
  start({{"afu9/single",
          {{"imageTagMutability", "IMMUTABLE"},
           {"images", {{{"manifest", amd_manifest}, {"tags", {"a", "b"}}}}},
           {"blobs", {amd}}}},
         {"afu9/multi",
          {{"images",
            {{{"manifest", amd_manifest}, {"tags", json::array()}},
             {{"manifest", arm_manifest}, {"tags", json::array()}},
             {{"manifest", index}, {"tags", {"a"}}}}}}}});

  auto results = registry_->resolve(
      {{"afu9/single", {"a", "b", "c"}, true}, {"afu9/multi", {"a"}, true}, {"afu9/none", {"a"}}});
  ASSERT_EQ(results.size(), 3u);
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[0].uri, "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/single");
  for (int i : {0, 1}) {
    const auto& tag = results[0].tags[i];
    ASSERT_EQ(tag.status, TagStatus::kFound) << tag.error.message;
    EXPECT_EQ(tag.digest, digest_of(amd_manifest));
    EXPECT_EQ(tag.platforms, (std::vector<Platform>{{"linux", "amd64", ""}}));
  }
  EXPECT_EQ(results[0].tags[2].status, TagStatus::kMissing);
  EXPECT_TRUE(results[0].warnings.empty());  // IMMUTABLE

  const auto& multi = results[1].tags.at(0);
  ASSERT_EQ(multi.status, TagStatus::kFound) << multi.error.message;
  EXPECT_EQ(multi.media_type, "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(multi.platforms,
            (std::vector<Platform>{{"linux", "amd64", ""}, {"linux", "arm64", "v8"}}));
  ASSERT_EQ(results[1].warnings.size(), 1u);  // MUTABLE by default, 'a' moves
  EXPECT_EQ(results[1].warnings[0].code, "TAG_MUTABLE");

  EXPECT_EQ(results[2].status, RepositoryStatus::kMissing);

  auto counters = fake_->counters();
  EXPECT_EQ(counters["DescribeRepositories"], 2);  // all three, then without afu9/none
  EXPECT_EQ(counters["BatchGetImage"], 2);
  EXPECT_EQ(counters["GetDownloadUrlForLayer"], 1);
  EXPECT_EQ(counters["BlobDownload"], 1);
}

TEST_F(EcrOverFakeAws, MissingConfigBlobAndThrottlingAreErrors) {
  const std::string amd = config_blob("linux", "amd64");
  start({{"afu9/single", {{"images", {{{"manifest", oci_manifest(amd)}, {"tags", {"a"}}}}}}}});
  auto tag = registry_->resolve({{"afu9/single", {"a"}, true}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "AWS_ERROR");
  EXPECT_NE(tag.error.message.find("LayersNotFoundException"), std::string::npos);

  fake_->control("/_fake/faults", R"({"throttle":{"count":100,"operation":"BatchGetImage"}})");
  tag = registry_->resolve({{"afu9/single", {"a"}}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "THROTTLED");
  EXPECT_EQ(tag.error.message.find(kSecret), std::string::npos);
}

TEST_F(EcrOverFakeAws, BlobDownloadNeedsThePresignedQuery) {
  const std::string amd = config_blob("linux", "amd64");
  start({{"afu9/single", {{"blobs", {amd}}}}});
  httplib::Client client("127.0.0.1", fake_->port());
  auto unsigned_get = client.Get("/_fake/blobs/afu9/single/" + digest_of(amd));
  ASSERT_TRUE(unsigned_get);
  EXPECT_EQ(unsigned_get->status, 403);
  auto unknown = client.Get("/_fake/blobs/afu9/single/" + digest_of("x") + "?X-Amz-Signature=1");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto good = client.Get("/_fake/blobs/afu9/single/" + digest_of(amd) + "?X-Amz-Signature=1");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(good->body, amd);
}

}  // namespace
}  // namespace imagegate::registry::ecr
