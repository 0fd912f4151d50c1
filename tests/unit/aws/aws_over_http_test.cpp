// The AWS layer over the real libcurl client against in-process servers on 127.0.0.1: the
// server verifies every SigV4 signature from the headers it received (as AWS does, over the
// SignedHeaders only), so Host, Content-Type and body must reach it exactly as signed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "aws/credentials.hpp"
#include "aws/json_client.hpp"
#include "aws/sigv4.hpp"
#include "support/local_server.hpp"

namespace imagegate::aws {
namespace {

using nlohmann::json;
using LocalServer = imagegate::testing::LocalServer;

const std::string kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t pos; (pos = text.find(separator, start)) != std::string::npos;) {
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
  out.push_back(text.substr(start));
  return out;
}

// Returns "" when the signature checks out, else why not.
std::string verify(const httplib::Request& req, const std::string& secret,
                   const std::string& token) {
  const std::string authorization = req.get_header_value("Authorization");
  const auto credential_at = authorization.find("Credential=");
  const auto signed_at = authorization.find("SignedHeaders=");
  const auto signature_at = authorization.find("Signature=");
  if (credential_at == std::string::npos || signed_at == std::string::npos ||
      signature_at == std::string::npos) {
    return "malformed Authorization";
  }
  const auto scope =
      split(authorization.substr(credential_at + 11,
                                 authorization.find(',', credential_at) - credential_at - 11),
            '/');
  const std::string signed_headers =
      authorization.substr(signed_at + 14, authorization.find(',', signed_at) - signed_at - 14);
  if (scope.size() != 5) return "bad scope";
  if (req.get_header_value("X-Amz-Security-Token") != token) return "wrong session token";

  SigningRequest signing{req.method, req.path, "", {}, req.body};
  for (const auto& name : split(signed_headers, ';')) {
    if (!req.has_header(name)) return "signed header missing: " + name;
    signing.headers.emplace_back(name, req.get_header_value(name));
  }
  const std::string date = req.get_header_value("X-Amz-Date");
  std::tm tm{};
  strptime(date.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  const Signature expected =
      compute_signature(signing, {scope[0], secret, token, std::nullopt, ""},
                        {scope[2], scope[3], std::chrono::system_clock::from_time_t(timegm(&tm))});
  if (expected.authorization != authorization) return "signature mismatch";
  return "";
}

http::ClientOptions fast_options() {
  http::ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.request_timeout = std::chrono::milliseconds(5000);
  return options;
}

TEST(AwsOverHttp, SignedBatchWithRetriesReachesTheServerIntact) {
  LocalServer server;
  std::mutex mutex;
  std::vector<std::string> problems;
  std::map<std::string, int> seen;
  server.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    if (auto problem = verify(req, kSecret, "tok"); !problem.empty()) {
      problems.push_back(problem);
      res.status = 403;
      res.set_content(R"({"__type":"InvalidSignatureException","message":"no"})",
                      "application/x-amz-json-1.1");
      return;
    }
    const std::string repo = json::parse(req.body)["repositoryName"];
    res.set_header("x-amzn-RequestId", "req-" + repo);
    if (++seen[repo] == 1 && repo == "b") {
      res.status = 400;
      res.set_content(R"({"__type":"ThrottlingException","message":"Rate exceeded"})",
                      "application/x-amz-json-1.1");
      return;
    }
    res.set_content(json{{"repository", repo}}.dump(), "application/x-amz-json-1.1");
  });
  server.start();

  auto http = http::make_curl_client(fast_options());
  CredentialProvider credentials(Credentials{"AKIDEXAMPLE", kSecret, "tok", std::nullopt, "t"});
  JsonClientOptions options;
  options.http = http.get();
  options.credentials = &credentials;
  options.region = "us-east-1";
  options.endpoints = {{"ecr", server.url()}};
  options.sleep = [](std::chrono::milliseconds) {};
  JsonClient client(options);
  std::vector<JsonCall> calls;
  for (const char* repo : {"a", "b", "c"}) {
    calls.push_back({"ecr", "AmazonEC2ContainerRegistry_V20150921.BatchGetImage",
                     json{{"repositoryName", repo}}});
  }
  auto results = client.call_batch(calls);
  http.reset();
  EXPECT_TRUE(problems.empty()) << problems.front();
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().message;
    EXPECT_EQ((*results[i])["repository"], calls[i].body["repositoryName"]);
  }
  EXPECT_EQ(seen["b"], 2);
  EXPECT_EQ(seen["a"], 1);
}

TEST(AwsOverHttp, CredentialSourcesOverLoopback) {
  LocalServer server;
  std::atomic<int> imds_puts = 0;
  server.server().Put("/latest/api/token",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        ++imds_puts;
                        if (req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
                          res.status = 400;
                          return;
                        }
                        res.set_content("imds-token", "text/plain");
                      });
  server.server().Get("/latest/meta-data/iam/security-credentials/(.*)",
                      [](const httplib::Request& req, httplib::Response& res) {
                        if (req.get_header_value("X-aws-ec2-metadata-token") != "imds-token") {
                          res.status = 401;
                        } else if (req.matches[1].str().empty()) {
                          res.set_content("role-a", "text/plain");
                        } else {
                          res.set_content(json{{"Code", "Success"},
                                               {"AccessKeyId", "ASIAIMDS"},
                                               {"SecretAccessKey", kSecret},
                                               {"Token", "t1"},
                                               {"Expiration", "2999-01-01T00:00:00Z"}}
                                              .dump(),
                                          "application/json");
                        }
                      });
  server.server().Get("/container", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "ctoken") {
      res.status = 401;
      return;
    }
    res.set_content(json{{"AccessKeyId", "ASIACONT"},
                         {"SecretAccessKey", kSecret},
                         {"Token", "t2"},
                         {"Expiration", "2999-01-01T00:00:00Z"}}
                        .dump(),
                    "application/json");
  });
  server.server().Post("/", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("Action") != "AssumeRoleWithWebIdentity" ||
        req.get_param_value("WebIdentityToken") != "web-token" || req.has_header("Authorization")) {
      res.status = 400;
      return;
    }
    res.set_content(
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
        "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
        "<SessionToken>t3</SessionToken><Expiration>2999-01-01T00:00:00Z</Expiration>"
        "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        "text/xml");
  });
  server.start();

  char token_path[] = "/tmp/imagegate-web-token-XXXXXX";
  const int fd = mkstemp(token_path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "web-token", 9), 9);
  close(fd);

  auto http = http::make_curl_client(fast_options());
  auto metadata = http::make_curl_client(metadata_client_options());
  SharedConfig shared;
  auto resolve = [&](std::map<std::string, std::string> vars) {
    Environment env = Environment::from_map(std::move(vars));
    CredentialChainOptions options;
    options.env = &env;
    options.shared = &shared;
    options.sts_http = http.get();
    options.metadata_http = metadata.get();
    options.region = "us-east-1";
    options.sts_endpoint = server.url();
    return resolve_credentials(options);
  };

  auto imds = resolve({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}});
  ASSERT_TRUE(imds) << imds.error().message;
  EXPECT_EQ(imds->access_key_id, "ASIAIMDS");
  EXPECT_EQ(imds->source, "instance metadata (role role-a)");

  auto container = resolve({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/container")},
                            {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ctoken"}});
  ASSERT_TRUE(container) << container.error().message;
  EXPECT_EQ(container->access_key_id, "ASIACONT");

  auto web = resolve(
      {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}, {"AWS_WEB_IDENTITY_TOKEN_FILE", token_path}});
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->access_key_id, "ASIASTS");
  EXPECT_EQ(web->session_token, "t3");
  std::remove(token_path);

  // Nothing listens: instance metadata gives up at once and the chain says so.
  const auto started = std::chrono::steady_clock::now();
  auto none = resolve({{"AWS_EC2_METADATA_SERVICE_ENDPOINT",
                        "http://127.0.0.1:" + std::to_string(LocalServer::closed_port())}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "AUTH_FAILED");
  EXPECT_NE(none.error().message.find("instance metadata (not reachable at http://127.0.0.1:"),
            std::string::npos)
      << none.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  http.reset();
  metadata.reset();
  EXPECT_EQ(imds_puts.load(), 1);
}

}  // namespace
}  // namespace imagegate::aws
