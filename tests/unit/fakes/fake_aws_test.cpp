// The fake AWS's contract beyond what the AWS CLI exercises (tests/e2e/aws_cli_fake.sh): every
// authentication failure AWS distinguishes, constraint errors, state validation, scripted rollouts
// and faults. The fake runs in-process on 127.0.0.1; requests are signed with the project's signer.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "aws/json_client.hpp"
#include "aws/sigv4.hpp"
#include "support/fake_aws_server.hpp"

namespace imagegate::fake_aws {
namespace {

using namespace std::chrono_literals;

const char* kAkid = "AKIAFAKEUNITTEST0001";
const char* kSecret = "unitTestSecretKey0123456789abcdefghijkl";

struct Answer {
  int status = 0;
  Json body;
  std::string raw;
  std::string request_id;
  std::string date;
};

Json base_state() {
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})";
  return {
      {"credentials",
       {{{"accessKeyId", kAkid}, {"secretAccessKey", kSecret}},
        {{"accessKeyId", "ASIAFAKESESSION00001"},
         {"secretAccessKey", "sessionSecret"},
         {"sessionToken", "the-session-token"}},
        {{"accessKeyId", "ASIAFAKEEXPIRED00001"},
         {"secretAccessKey", "expiredSecret"},
         {"sessionToken", "old-token"},
         {"expiration", "2020-01-01T00:00:00Z"}}}},
      {"repositories",
       {{"afu9/web", {{"images", {{{"manifest", manifest}, {"tags", {"prod-latest"}}}}}}}}},
      {"taskDefinitions",
       {{{"family", "web"},
         {"containerDefinitions",
          {{{"name", "web"},
            {"image", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/web:prod-latest"}}}}},
        {{"family", "web"},
         {"containerDefinitions",
          {{{"name", "web"},
            {"image", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/web@sha256:" +
                          std::string(64, 'b')}}}}}}},
      {"clusters",
       {{"prod",
         {{"services",
           {{"web",
             {{"taskDefinition", "web:2"},
              {"desiredCount", 2},
              {"onUpdate",
               {{"rolloutState", "FAILED"},
                {"rolloutStateReason", "ECS deployment circuit breaker: tasks failed."}}}}}}}}}}}};
}

// How a test request is signed; the defaults sign correctly.
struct Signer {
  std::string akid = kAkid;
  std::string secret = kSecret;
  std::string token;
  std::string region = "eu-central-1";
  std::chrono::seconds skew{0};
  bool sign = true;
};

Signer with_key(std::string akid, std::string secret, std::string token = "") {
  Signer s;
  s.akid = std::move(akid);
  s.secret = std::move(secret);
  s.token = std::move(token);
  return s;
}

Signer with_skew(std::chrono::seconds skew) {
  Signer s;
  s.skew = skew;
  return s;
}

Signer with_region(std::string region) {
  Signer s;
  s.region = std::move(region);
  return s;
}

Signer unsigned_request() {
  Signer s;
  s.sign = false;
  return s;
}

class FakeAwsTest : public ::testing::Test {
 protected:
  Answer call(const std::string& target, const std::string& body, const Signer& signer = Signer()) {
    std::string service = target.starts_with("AmazonEC2ContainerRegistry") ? "ecr" : "ecs";
    aws::SigningRequest req{"POST", "/", "", {}, body};
    req.headers = {{"Host", fmt::format("127.0.0.1:{}", fake_.port())}, {"X-Amz-Target", target}};
    httplib::Headers headers;
    if (signer.sign) {
      aws::Credentials creds{signer.akid, signer.secret, signer.token, std::nullopt, "test"};
      aws::SigningParams params{signer.region, service,
                                std::chrono::system_clock::now() + signer.skew};
      aws::sign(req, creds, params);
    }
    for (const auto& [name, value] : req.headers) headers.emplace(name, value);
    httplib::Client client("127.0.0.1", fake_.port());
    auto res = client.Post("/", headers, body, "application/x-amz-json-1.1");
    EXPECT_TRUE(res) << "no answer from the fake";
    if (!res) return {};
    Answer a{res->status, Json(), res->body, res->get_header_value("x-amzn-RequestId"),
             res->get_header_value("Date")};
    try {
      a.body = Json::parse(res->body);
    } catch (const Json::exception&) {
    }
    return a;
  }

  Answer ecr(const std::string& op, const Json& body, const Signer& signer = Signer()) {
    return call("AmazonEC2ContainerRegistry_V20150921." + op, body.dump(), signer);
  }
  Answer ecs(const std::string& op, const Json& body, const Signer& signer = Signer()) {
    return call("AmazonEC2ContainerServiceV20141113." + op, body.dump(), signer);
  }

  httplib::Result control(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", fake_.port());
    return client.Post(path.c_str(), body, "application/json");
  }

  static void expect_error(const Answer& a, int status, const std::string& type,
                           const std::string& message) {
    EXPECT_EQ(a.status, status) << a.raw;
    EXPECT_EQ(a.body.value("__type", ""), type) << a.raw;
    EXPECT_EQ(a.body.value("message", ""), message) << a.raw;
    EXPECT_FALSE(a.request_id.empty());
  }

  testing::InProcessFakeAws fake_{base_state()};
};

const Json kDescribeWeb = {{"repositoryNames", {"afu9/web"}}};

TEST_F(FakeAwsTest, SignedRequestSucceedsWithRequestId) {
  Answer a = ecr("DescribeRepositories", kDescribeWeb);
  EXPECT_EQ(a.status, 200) << a.raw;
  EXPECT_EQ(a.body["repositories"][0]["repositoryName"], "afu9/web");
  EXPECT_EQ(a.request_id.size(), 36u);
}

TEST_F(FakeAwsTest, UnsignedRequestIsMissingAuthenticationToken) {
  expect_error(ecr("DescribeRepositories", kDescribeWeb, unsigned_request()), 400,
               "MissingAuthenticationTokenException", "Missing Authentication Token");
}

TEST_F(FakeAwsTest, UnknownAccessKeyIsUnrecognizedClient) {
  expect_error(ecr("DescribeRepositories", kDescribeWeb, with_key("AKIANOBODY0000000000", kSecret)),
               400, "UnrecognizedClientException",
               "The security token included in the request is invalid.");
}

TEST_F(FakeAwsTest, WrongSecretIsInvalidSignature) {
  expect_error(ecr("DescribeRepositories", kDescribeWeb, with_key(kAkid, "wrong")), 403,
               "InvalidSignatureException",
               "The request signature we calculated does not match the signature you provided. "
               "Check your AWS Secret Access Key and signing method. Consult the service "
               "documentation for details.");
}

TEST_F(FakeAwsTest, SessionCredentialsNeedTheirToken) {
  Signer session = with_key("ASIAFAKESESSION00001", "sessionSecret");
  expect_error(ecr("DescribeRepositories", kDescribeWeb, session), 400,
               "UnrecognizedClientException",
               "The security token included in the request is invalid.");
  session.token = "another-token";
  expect_error(ecr("DescribeRepositories", kDescribeWeb, session), 400,
               "UnrecognizedClientException",
               "The security token included in the request is invalid.");
  session.token = "the-session-token";
  EXPECT_EQ(ecr("DescribeRepositories", kDescribeWeb, session).status, 200);
}

TEST_F(FakeAwsTest, LongTermKeyWithASessionTokenIsRejected) {
  expect_error(ecr("DescribeRepositories", kDescribeWeb, with_key(kAkid, kSecret, "a-token")), 400,
               "UnrecognizedClientException",
               "The security token included in the request is invalid.");
}

TEST_F(FakeAwsTest, IndexNeedsItsManifestsFirst) {
  std::string child =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}})";
  std::string child_digest = "sha256:" + aws::sha256_hex(child);
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"digest":"{}"}}]}})",
      child_digest);
  Json push_index = {
      {"repositoryName", "afu9/web"}, {"imageManifest", index}, {"imageTag", "multi"}};
  expect_error(ecr("PutImage", push_index), 400, "ReferencedImagesNotFoundException",
               "The manifest list references images that do not exist in the repository "
               "'afu9/web': " +
                   child_digest);
  ASSERT_EQ(ecr("PutImage", {{"repositoryName", "afu9/web"}, {"imageManifest", child}}).status,
            200);
  Answer a = ecr("PutImage", push_index);
  ASSERT_EQ(a.status, 200) << a.raw;
  EXPECT_EQ(a.body["image"]["imageManifestMediaType"], "application/vnd.oci.image.index.v1+json");
}

TEST_F(FakeAwsTest, ExpiredCredentialsAreExpiredToken) {
  Signer expired = with_key("ASIAFAKEEXPIRED00001", "expiredSecret", "old-token");
  expect_error(ecr("DescribeRepositories", kDescribeWeb, expired), 400, "ExpiredTokenException",
               "The security token included in the request is expired");
}

TEST_F(FakeAwsTest, ClockSkewOverFifteenMinutesIsRejected) {
  Answer past = ecr("DescribeRepositories", kDescribeWeb, with_skew(-20min));
  EXPECT_EQ(past.status, 403);
  EXPECT_EQ(past.body["__type"], "InvalidSignatureException");
  EXPECT_TRUE(past.body["message"].get<std::string>().starts_with("Signature expired: "))
      << past.raw;
  Answer future = ecr("DescribeRepositories", kDescribeWeb, with_skew(20min));
  EXPECT_EQ(future.status, 403);
  EXPECT_TRUE(future.body["message"].get<std::string>().starts_with("Signature not yet current: "))
      << future.raw;
  EXPECT_EQ(ecr("DescribeRepositories", kDescribeWeb, with_skew(10min)).status, 200);
}

TEST_F(FakeAwsTest, ClockOffsetMovesTheFakesNowAndDateHeader) {
  ASSERT_TRUE(control("/_fake/faults", R"({"clockOffsetSeconds":1200})"));
  auto fake_now = [] {
    auto t = std::chrono::system_clock::now() + 1200s;
    return format_http_date(std::chrono::duration<double>(t.time_since_epoch()).count());
  };
  std::string before = fake_now();
  Answer a = ecr("DescribeRepositories", kDescribeWeb);
  std::string after = fake_now();
  EXPECT_EQ(a.status, 403);
  EXPECT_TRUE(a.body["message"].get<std::string>().starts_with("Signature expired: ")) << a.raw;
  EXPECT_TRUE(a.date == before || a.date == after)
      << a.date << " not in [" << before << ", " << after << "]";
  EXPECT_EQ(ecr("DescribeRepositories", kDescribeWeb, with_skew(1200s)).status, 200);
}

TEST_F(FakeAwsTest, CredentialScopedToAnotherRegionIsRejected) {
  expect_error(ecr("DescribeRepositories", kDescribeWeb, with_region("us-east-1")), 403,
               "InvalidSignatureException", "Credential should be scoped to a valid region. ");
}

TEST_F(FakeAwsTest, UnknownOperationAndMalformedBody) {
  Answer unknown = call("AmazonEC2ContainerRegistry_V20150921.DeleteEverything", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body["__type"], "UnknownOperationException");
  expect_error(call("AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "{not json"), 400,
               "SerializationException", "Malformed JSON in the request body");
}

TEST_F(FakeAwsTest, ListsOverTheModelMaximumAreValidationErrors) {
  Json ids = Json::array();
  for (int i = 0; i < 101; ++i) ids.push_back({{"imageTag", fmt::format("t{}", i)}});
  Answer a = ecr("BatchGetImage", {{"repositoryName", "afu9/web"}, {"imageIds", ids}});
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["__type"], "ValidationException");
  EXPECT_TRUE(a.body["message"].get<std::string>().ends_with(
      "at 'imageIds' failed to satisfy constraint: Member must have length less than or equal "
      "to 100"))
      << a.raw;
  Json names = Json::array();
  for (int i = 0; i < 101; ++i) names.push_back(fmt::format("r{}", i));
  EXPECT_EQ(ecr("DescribeRepositories", {{"repositoryNames", names}}).body["__type"],
            "ValidationException");
}

TEST_F(FakeAwsTest, BatchGetImageInvalidIds) {
  Answer a = ecr("BatchGetImage", {{"repositoryName", "afu9/web"},
                                   {"imageIds",
                                    {{{"imageTag", "bad tag"}},
                                     {{"imageDigest", "sha256:nothex"}},
                                     Json::object(),
                                     {{"imageTag", "prod-latest"}}}}});
  ASSERT_EQ(a.status, 200) << a.raw;
  ASSERT_EQ(a.body["failures"].size(), 3u);
  EXPECT_EQ(a.body["failures"][0]["failureCode"], "InvalidImageTag");
  EXPECT_EQ(a.body["failures"][1]["failureCode"], "InvalidImageDigest");
  EXPECT_EQ(a.body["failures"][2]["failureCode"], "MissingDigestAndTag");
  EXPECT_EQ(a.body["images"].size(), 1u);
}

TEST_F(FakeAwsTest, ContainerDigestComesFromThePinnedReference) {
  Answer list = ecs("ListTasks", {{"cluster", "prod"}, {"serviceName", "web"}});
  ASSERT_EQ(list.body["taskArns"].size(), 2u) << list.raw;
  Answer tasks = ecs("DescribeTasks", {{"cluster", "prod"}, {"tasks", list.body["taskArns"]}});
  EXPECT_EQ(tasks.body["tasks"][0]["containers"][0]["imageDigest"],
            "sha256:" + std::string(64, 'b'));
}

TEST_F(FakeAwsTest, FailedRolloutKeepsTheOldDeploymentAndTasks) {
  Answer before = ecs("ListTasks", {{"cluster", "prod"}, {"serviceName", "web"}});
  Answer a =
      ecs("UpdateService", {{"cluster", "prod"}, {"service", "web"}, {"taskDefinition", "web:1"}});
  ASSERT_EQ(a.status, 200) << a.raw;
  const Json& deployments = a.body["service"]["deployments"];
  ASSERT_EQ(deployments.size(), 2u);
  EXPECT_EQ(deployments[0]["status"], "PRIMARY");
  EXPECT_EQ(deployments[0]["rolloutState"], "FAILED");
  EXPECT_EQ(deployments[0]["rolloutStateReason"], "ECS deployment circuit breaker: tasks failed.");
  EXPECT_EQ(deployments[1]["status"], "ACTIVE");
  Answer after = ecs("ListTasks", {{"cluster", "prod"}, {"serviceName", "web"}});
  EXPECT_EQ(after.body["taskArns"], before.body["taskArns"]);
}

TEST_F(FakeAwsTest, ExtraTasksFromAMergedState) {
  auto res = control("/_fake/state?merge=1",
                     R"({"clusters":{"prod":{"services":{"web":{"tasks":[
                        {"taskDefinitionArn":"web:2"},
                        {"taskDefinitionArn":"web:1","containers":[{"name":"web","image":"x",
                         "imageDigest":"sha256:)" +
                         std::string(64, 'c') + R"("}]}]}}}}})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  Answer list = ecs("ListTasks", {{"cluster", "prod"}});
  Answer tasks = ecs("DescribeTasks", {{"cluster", "prod"}, {"tasks", list.body["taskArns"]}});
  ASSERT_EQ(tasks.body["tasks"].size(), 2u) << tasks.raw;
  EXPECT_EQ(tasks.body["tasks"][1]["taskDefinitionArn"],
            "arn:aws:ecs:eu-central-1:123456789012:task-definition/web:1");
  EXPECT_EQ(tasks.body["tasks"][1]["containers"][0]["imageDigest"],
            "sha256:" + std::string(64, 'c'));
}

TEST_F(FakeAwsTest, ListTasksMaxResultsOutOfRange) {
  expect_error(ecs("ListTasks", {{"cluster", "prod"}, {"maxResults", 101}}), 400,
               "InvalidParameterException", "maxResults must be between 1 and 100.");
}

TEST_F(FakeAwsTest, FaultsThrottleOneOperationAndDelay) {
  auto res =
      control("/_fake/faults", R"({"throttle":{"count":1,"operation":"ListTasks"},"delayMs":150})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(ecr("DescribeRepositories", kDescribeWeb).status, 200);
  auto start = std::chrono::steady_clock::now();
  expect_error(ecs("ListTasks", {{"cluster", "prod"}}), 400, "ThrottlingException",
               "Rate exceeded");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_EQ(ecs("ListTasks", {{"cluster", "prod"}}).status, 200);
}

TEST_F(FakeAwsTest, InternalFailureFault) {
  ASSERT_TRUE(control("/_fake/faults", R"({"internalFailure":{"count":1}})"));
  EXPECT_EQ(ecs("ListTasks", {{"cluster", "prod"}}).status, 500);
  EXPECT_EQ(ecs("ListTasks", {{"cluster", "prod"}}).status, 200);
}

TEST_F(FakeAwsTest, FaultRulesAnswerGivenCallsOfAnOperation) {
  auto res = control("/_fake/faults", R"({"rules":[
      {"operation":"ListTasks","call":2,"count":2,"answer":"throttle"},
      {"operation":"DescribeServices","answer":"html502"},
      {"operation":"DescribeTaskDefinition","answer":"truncatedJson"},
      {"operation":"DescribeRepositories","count":-1,"answer":"error","status":403,
       "type":"RequestTimeTooSkewed","message":"skewed","dateOffsetSeconds":900}]})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json list = {{"cluster", "prod"}};
  EXPECT_EQ(ecs("ListTasks", list).status, 200);
  expect_error(ecs("ListTasks", list), 400, "ThrottlingException", "Rate exceeded");
  expect_error(ecs("ListTasks", list), 400, "ThrottlingException", "Rate exceeded");
  EXPECT_EQ(ecs("ListTasks", list).status, 200);

  const Json services = {{"cluster", "prod"}, {"services", {"web"}}};
  Answer proxy = ecs("DescribeServices", services);
  EXPECT_EQ(proxy.status, 502);
  EXPECT_TRUE(proxy.raw.starts_with("<html>")) << proxy.raw;
  EXPECT_EQ(proxy.request_id, "");  // a proxy's page, not an AWS answer
  EXPECT_EQ(ecs("DescribeServices", services).status, 200);

  const Json td = {{"taskDefinition", "web"}};
  Answer cut = ecs("DescribeTaskDefinition", td);
  Answer whole = ecs("DescribeTaskDefinition", td);
  EXPECT_EQ(cut.status, 200);
  EXPECT_TRUE(cut.body.is_null()) << cut.raw;  // not JSON
  EXPECT_EQ(cut.raw, whole.raw.substr(0, whole.raw.size() / 2));

  for (int i = 0; i < 3; ++i) {
    Answer skewed = ecr("DescribeRepositories", kDescribeWeb);
    expect_error(skewed, 403, "RequestTimeTooSkewed", "skewed");
    const auto date = aws::detail::parse_http_date(skewed.date);
    ASSERT_TRUE(date) << skewed.date;
    const auto ahead = *date - std::chrono::system_clock::now();
    EXPECT_GT(ahead, 890s);
    EXPECT_LT(ahead, 910s);
  }
  // Clearing the rules: every answer is the real one again.
  ASSERT_EQ(control("/_fake/faults", R"({"rules":[]})")->status, 200);
  EXPECT_EQ(ecr("DescribeRepositories", kDescribeWeb).status, 200);
}

TEST_F(FakeAwsTest, SkewErrorTypeNamesTheRejectionOfASkewedSignature) {
  ASSERT_EQ(control("/_fake/faults", R"({"skewErrorType":"RequestTimeTooSkewed"})")->status, 200);
  Answer a = ecr("DescribeRepositories", kDescribeWeb, with_skew(-20min));
  EXPECT_EQ(a.status, 403) << a.raw;
  EXPECT_EQ(a.body.value("__type", ""), "RequestTimeTooSkewed");
  // A wrong secret is still a bad signature, whatever skewErrorType says.
  EXPECT_EQ(
      ecr("DescribeRepositories", kDescribeWeb, with_key(kAkid, "wrong")).body.value("__type", ""),
      "InvalidSignatureException");
}

TEST_F(FakeAwsTest, BadFaultRulesAreRejected) {
  for (const auto& [rules, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"rules":{}})", "faults.rules: expected a list"},
           {R"({"rules":[{"answer":"boom"}]})", "faults.rules[].answer: unknown answer 'boom'"},
           {R"({"rules":[{"answer":"throttle","call":0}]})",
            "faults.rules[].call: calls count from 1"},
           {R"({"rules":[{"answer":"error"}]})",
            "faults.rules[]: an \"error\" answer needs its \"type\""},
           {R"({"rules":[{"answer":"throttle","cal":2}]})", "faults.rules[]: unknown key 'cal'"}}) {
    SCOPED_TRACE(rules);
    auto res = control("/_fake/faults", rules);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_EQ(Json::parse(res->body)["error"], error);
  }
}

TEST_F(FakeAwsTest, BadControlInputIsRejected) {
  auto res = control("/_fake/state", "{not json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = control("/_fake/faults", R"({"throttel":{"count":1}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Json::parse(res->body)["error"], "faults: unknown key 'throttel'");
}

TEST(FakeAwsState, RoundTripsThroughItsDump) {
  State s = parse_state(base_state());
  Json dumped = dump_state(s);
  EXPECT_EQ(dump_state(parse_state(dumped)), dumped);
}

TEST(FakeAwsState, BadStatesNameTheKey) {
  auto error_of = [](const Json& j) -> std::string {
    try {
      parse_state(j);
    } catch (const StateError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of({{"repos", Json::object()}}), "state: unknown key 'repos'");
  EXPECT_EQ(error_of({{"repositories",
                       {{"r", {{"images", {{{"manifest", "{}"}, {"digest", "sha256:00"}}}}}}}}}),
            "state.repositories.r.images[].digest: the manifest's sha256 is "
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(
      error_of({{"clusters", {{"c", {{"services", {{"s", {{"taskDefinition", "nope:1"}}}}}}}}}}),
      "state.clusters.c.services.s: unknown task definition 'nope:1'");
  EXPECT_EQ(error_of({{"credentials", {{{"accessKeyId", "AKIA"}}}}}),
            "state.credentials[]: accessKeyId and secretAccessKey are required");
}

}  // namespace
}  // namespace imagegate::fake_aws
