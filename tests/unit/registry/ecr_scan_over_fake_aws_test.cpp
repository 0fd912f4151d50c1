// The ECR backend's read_scans over libcurl against the fake AWS on 127.0.0.1: one
// DescribeImageScanFindings per distinct digest plus one per further page, both findings shapes,
// and the errors that never pass.
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

const char* kAkid = "AKIAFAKEECRSCAN00001";
const char* kSecret = "ecrScanSecretKey0123456789abcdefghijklmn";

json findings_of(int n, const char* severity, const char* key = "findings") {
  json list = json::array();
  for (int i = 0; i < n; ++i)
    list.push_back({{"name", "CVE-" + std::to_string(i)}, {"severity", severity}});
  return {{"imageScanCompletedAt", 1764547200}, {key, list}};
}

class EcrScanOverFakeAws : public ::testing::Test {
 protected:
  void start(const fake_aws::Json& images, int page_size = 1000) {
    fake_ = std::make_unique<imagegate::testing::InProcessFakeAws>(
        fake_aws::Json{{"credentials", {{{"accessKeyId", kAkid}, {"secretAccessKey", kSecret}}}},
                       {"scanFindingsPageSize", page_size},
                       {"repositories", {{"afu9/web", {{"images", images}}}}}});
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

TEST_F(EcrScanOverFakeAws, PagesAreFollowedAndEachDigestIsReadOnce) {
  const std::string a = oci_manifest(config_blob("linux", "amd64"));
  const std::string b = oci_manifest(config_blob("linux", "arm64"));
  json basic = findings_of(5, "HIGH");
  basic["findingSeverityCounts"] = {{"HIGH", 5}};
  start(json::array(
            {{{"manifest", a},
              {"tags", {"a"}},
              {"scan",
               {{"imageScanStatus", {{"status", "COMPLETE"}}}, {"imageScanFindings", basic}}}},
             {{"manifest", b},
              {"tags", {"b"}},
              {"scan",
               {{"imageScanStatus", {{"status", "ACTIVE"}}},
                {"imageScanFindings", findings_of(3, "MEDIUM", "enhancedFindings")}}}}}),
        2);
  const auto results = registry_->read_scans(
      {{"afu9/web", digest_of(a)}, {"afu9/web", digest_of(b)}, {"afu9/web", digest_of(a)}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].state, ScanState::kComplete);
  EXPECT_EQ(results[0].pages, 3);  // 5 findings, 2 a page
  EXPECT_EQ(results[0].findings_listed, 5u);
  EXPECT_EQ(results[0].counts, (std::map<std::string, long long>{{"HIGH", 5}}));
  EXPECT_EQ(results[1].kind, "enhanced");
  EXPECT_EQ(results[1].pages, 2);
  EXPECT_EQ(results[1].counts, (std::map<std::string, long long>{{"MEDIUM", 3}}));
  EXPECT_EQ(results[2].counts, results[0].counts) << "the repeated digest shares the answer";
  EXPECT_EQ(fake_->counters()["DescribeImageScanFindings"], 5) << "3 pages + 2 pages";
}

TEST_F(EcrScanOverFakeAws, NeverScannedAndDeniedAreFailures) {
  const std::string a = oci_manifest(config_blob("linux", "amd64"));
  start(json::array({{{"manifest", a}, {"tags", {"a"}}}}));
  auto never = registry_->read_scans({{"afu9/web", digest_of(a)}}).at(0);
  EXPECT_EQ(never.state, ScanState::kFailed);
  EXPECT_NE(never.error.message.find("ScanNotFoundException"), std::string::npos)
      << never.error.message;
  fake_->control(
      "/_fake/state?merge=1",
      R"({"unavailableOperations":{"DescribeImageScanFindings":"AccessDeniedException"}})");
  auto denied = registry_->read_scans({{"afu9/web", digest_of(a)}}).at(0);
  EXPECT_EQ(denied.state, ScanState::kFailed);
  EXPECT_NE(denied.error.message.find("AccessDeniedException"), std::string::npos)
      << denied.error.message;
  EXPECT_EQ(denied.error.message.find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace imagegate::registry::ecr
