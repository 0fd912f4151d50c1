#include "aws/session.hpp"

#include <gtest/gtest.h>

#include "fake_http_client.hpp"
#include "temp_dir.hpp"

namespace imagegate::aws {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;
using testing::header_value;
using testing::respond;
using testing::TempDir;

TEST(Session, WiresRegionEndpointsCredentialsAndAttempts) {
  TempDir dir;
  FakeHttpClient http([](const http::Request&) { return respond(500, ""); });
  SessionOptions options;
  options.http = &http;
  options.endpoint_url = "http://127.0.0.1:4566";
  options.sleep = [](std::chrono::milliseconds) {};
  Session session(options, Environment::from_map({{"HOME", dir.path("home")},
                                                  {"AWS_REGION", "eu-west-1"},
                                                  {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                  {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                  {"AWS_MAX_ATTEMPTS", "2"}}));
  EXPECT_EQ(session.region(), "eu-west-1");
  EXPECT_EQ(session.endpoint("ecr"), "http://127.0.0.1:4566");
  EXPECT_EQ(session.endpoint("ecs"), "http://127.0.0.1:4566");
  EXPECT_EQ(session.endpoint("sts"), "https://sts.eu-west-1.amazonaws.com");
  auto result = session.client().call(
      {"ecs", "AmazonEC2ContainerServiceV20141113.DescribeServices", json::object()});
  ASSERT_FALSE(result);
  EXPECT_EQ(http.sent.size(), 2u);  // AWS_MAX_ATTEMPTS=2
  EXPECT_NE(header_value(http.sent[0], "Authorization").find("Credential=AKIDENV/"),
            std::string::npos);
  EXPECT_EQ(session.credentials().get()->source, "environment");
}

TEST(Session, RegionFromProfileAndFixedCredentials) {
  TempDir dir;
  FakeHttpClient http([](const http::Request&) { return respond(200, "{}"); });
  SessionOptions options;
  options.http = &http;
  options.credentials = Credentials{"AKIDFIXED", "s", "", std::nullopt, "fixed"};
  Session session(options,
                  Environment::from_map({{"AWS_CONFIG_FILE", dir.write("config",
                                                                       "[profile ci]\n"
                                                                       "region = ap-south-1\n")},
                                         {"AWS_PROFILE", "ci"},
                                         {"HOME", dir.path("home")}}));
  EXPECT_EQ(session.region(), "ap-south-1");
  EXPECT_EQ(session.endpoint("ecr"), "https://api.ecr.ap-south-1.amazonaws.com");
  ASSERT_TRUE(session.client().call({"ecr", "X.DescribeRepositories", json::object()}));
  EXPECT_NE(header_value(http.sent[0], "Authorization").find("Credential=AKIDFIXED/"),
            std::string::npos);
}

TEST(Session, BadSettingsAreUsageErrorsBeforeAnyRequest) {
  TempDir dir;
  FakeHttpClient http([](const http::Request&) { return respond(200, "{}"); });
  SessionOptions options;
  options.http = &http;
  auto message_of = [&](std::map<std::string, std::string> vars) -> std::string {
    vars["HOME"] = dir.path("home");
    try {
      Session session(options, Environment::from_map(vars));
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no UsageError)";
  };
  EXPECT_EQ(message_of({{"AWS_REGION", "us-east-1"}, {"AWS_MAX_ATTEMPTS", "0"}}),
            "AWS_MAX_ATTEMPTS must be a whole number from 1 to 20, got '0'");
  EXPECT_EQ(message_of({{"AWS_REGION", "us-east-1"}, {"AWS_ENDPOINT_URL", "localhost:4566"}}),
            "AWS_ENDPOINT_URL must be an http:// or https:// URL, got 'localhost:4566'");
  EXPECT_TRUE(message_of({}).starts_with("no AWS region: set --region"));
  EXPECT_TRUE(http.sent.empty());
}

}  // namespace
}  // namespace imagegate::aws
