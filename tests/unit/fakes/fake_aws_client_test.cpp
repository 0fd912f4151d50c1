// The project's AWS layer (Session: credential chain, JSON 1.1 client, libcurl) against the fake
// AWS: both sides were written from AWS's documentation, so each checks the other's reading of
// signing, session tokens, web identity, retries and clock-skew correction.
#include <gtest/gtest.h>

#include <fstream>

#include "aws/session.hpp"
#include "support/fake_aws_server.hpp"

namespace imagegate::aws {
namespace {

using imagegate::testing::InProcessFakeAws;
using nlohmann::json;

const char* kAkid = "AKIAFAKECLIENTTEST01";
const char* kSecret = "clientTestSecretKey0123456789abcdefghij";
const char* kTarget = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories";

fake_aws::Json state() {
  return {{"credentials", {{{"accessKeyId", kAkid}, {"secretAccessKey", kSecret}}}},
          {"webIdentityToken", "oidc-token-from-ci"},
          {"repositories", {{"afu9/web", fake_aws::Json::object()}}}};
}

class FakeAwsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ClientOptions options;
    options.connect_timeout = std::chrono::milliseconds(1000);
    options.request_timeout = std::chrono::milliseconds(5000);
    http_ = http::make_curl_client(options);
    home_ = ::testing::TempDir() + "fake_aws_client_home";
  }

  std::unique_ptr<Session> session(std::map<std::string, std::string> env) {
    env["HOME"] = home_;
    env["AWS_REGION"] = "eu-central-1";
    env["AWS_EC2_METADATA_DISABLED"] = "true";
    SessionOptions options;
    options.http = http_.get();
    options.metadata_http = http_.get();
    options.endpoint_url = fake_.url();
    options.sleep = [](std::chrono::milliseconds) {};
    return std::make_unique<Session>(options, Environment::from_map(env));
  }

  std::unique_ptr<Session> static_keys(const std::string& secret = kSecret) {
    return session({{"AWS_ACCESS_KEY_ID", kAkid}, {"AWS_SECRET_ACCESS_KEY", secret}});
  }

  static AwsResult<json> describe(Session& s) {
    return s.client().call({"ecr", kTarget, json{{"repositoryNames", {"afu9/web"}}}});
  }

  InProcessFakeAws fake_{state()};
  std::unique_ptr<http::Client> http_;
  std::string home_;
};

TEST_F(FakeAwsClientTest, StaticKeysAreAccepted) {
  auto s = static_keys();
  auto result = describe(*s);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ((*result)["repositories"][0]["repositoryUri"],
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/web");
}

TEST_F(FakeAwsClientTest, WrongSecretFailsOnceAsAuthFailed) {
  auto s = static_keys("not-the-secret");
  auto result = describe(*s);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_EQ(result.error().aws_code, "InvalidSignatureException");
  EXPECT_EQ(result.error().message.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(fake_.counters()["DescribeRepositories"], 1);
}

TEST_F(FakeAwsClientTest, MissingRepositoryKeepsTheAwsCode) {
  auto s = static_keys();
  auto result = s->client().call({"ecr", kTarget, json{{"repositoryNames", {"afu9/missing"}}}});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().aws_code, "RepositoryNotFoundException");
  EXPECT_NE(result.error().message.find("afu9/missing"), std::string::npos)
      << result.error().message;
}

TEST_F(FakeAwsClientTest, OneThrottleIsRetriedAndPersistentThrottlingFails) {
  auto s = static_keys();
  fake_.control("/_fake/faults", R"({"throttle":{"count":1}})");
  ASSERT_TRUE(describe(*s));
  EXPECT_EQ(fake_.counters()["DescribeRepositories"], 2);
  fake_.control("/_fake/faults", R"({"throttle":{"count":10}})");
  auto result = describe(*s);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "THROTTLED");
  EXPECT_EQ(result.error().attempts, 3);
}

TEST_F(FakeAwsClientTest, ClockSkewIsCorrectedFromTheFakesDate) {
  auto s = static_keys();
  fake_.control("/_fake/faults", R"({"clockOffsetSeconds":1200})");
  auto result = describe(*s);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(fake_.counters()["DescribeRepositories"], 2);
}

TEST_F(FakeAwsClientTest, WebIdentityCredentialsFromTheFakeSts) {
  std::string token_file = ::testing::TempDir() + "fake_aws_client_token";
  std::ofstream(token_file) << "oidc-token-from-ci";
  auto s = session({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer"},
                    {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                    {"AWS_ENDPOINT_URL_STS", fake_.url()}});
  auto result = describe(*s);
  ASSERT_TRUE(result) << result.error().message;
  auto creds = s->credentials().get();
  ASSERT_TRUE(creds);
  EXPECT_TRUE(creds->access_key_id.starts_with("ASIA"));
  EXPECT_FALSE(creds->session_token.empty());
  EXPECT_EQ(fake_.counters()["AssumeRoleWithWebIdentity"], 1);
}

TEST_F(FakeAwsClientTest, WebIdentityWithAnotherTokenFails) {
  std::string token_file = ::testing::TempDir() + "fake_aws_client_bad_token";
  std::ofstream(token_file) << "forged";
  auto s = session({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer"},
                    {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                    {"AWS_ENDPOINT_URL_STS", fake_.url()}});
  auto result = describe(*s);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("InvalidIdentityToken"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(fake_.counters()["DescribeRepositories"], 0);
}

}  // namespace
}  // namespace imagegate::aws
