#include "aws/json_client.hpp"

#include <gtest/gtest.h>

#include "aws/sigv4.hpp"
#include "fake_http_client.hpp"

namespace imagegate::aws {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;
using testing::header_value;
using testing::respond;
using testing::unreachable;

const std::string kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string kToken = "SESSIONTOKEN-secret-value";
const std::string kBatchGetImage = "AmazonEC2ContainerRegistry_V20150921.BatchGetImage";

http::Response aws_error(long status, const std::string& type, const std::string& message,
                         const std::string& request_id = "req-1") {
  return respond(
      status, json{{"__type", type}, {"message", message}}.dump(),
      {{"x-amzn-requestid", request_id}, {"content-type", "application/x-amz-json-1.1"}});
}

http::Response ok(json body = json{{"images", json::array()}}) {
  return respond(200, body.dump(), {{"x-amzn-requestid", "req-ok"}});
}

// A client over a scripted http::Client with a clock that advances a second per reading, no
// real sleeping, and fixed jitter.
struct Harness {
  FakeHttpClient http{[](const http::Request&) { return ok(); }};
  CredentialProvider credentials{Credentials{"AKIDEXAMPLE", kSecret, kToken, std::nullopt, "test"}};
  std::chrono::system_clock::time_point clock = std::chrono::system_clock::from_time_t(1440938160);
  std::vector<std::chrono::milliseconds> sleeps;
  RetryOptions retry;

  JsonClient client() {
    JsonClientOptions options;
    options.http = &http;
    options.credentials = &credentials;
    options.region = "us-east-1";
    options.endpoints = {{"ecr", "http://127.0.0.1:4566"}};
    options.retry = retry;
    options.now = [this] { return clock += std::chrono::seconds(1); };
    options.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    options.random = [] { return 0.5; };
    return JsonClient(options);
  }
};

JsonCall batch_get(const std::string& repository) {
  return {"ecr", kBatchGetImage,
          json{{"repositoryName", repository}, {"imageIds", json::array({{{"imageTag", "v1"}}})}}};
}

void expect_no_secret(const AwsError& error) {
  EXPECT_EQ(error.message.find(kSecret), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find(kToken), std::string::npos) << error.message;
}

TEST(JsonClient, SignsBodyAndHeadersForTheService) {
  Harness h;
  auto client = h.client();
  auto result = client.call(batch_get("afu9/control-center"));
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(h.http.sent.size(), 1u);
  const http::Request& sent = h.http.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://127.0.0.1:4566/");
  EXPECT_FALSE(sent.retry);
  EXPECT_FALSE(sent.follow_redirects);
  EXPECT_EQ(json::parse(sent.body), batch_get("afu9/control-center").body);
  EXPECT_EQ(header_value(sent, "Host"), "127.0.0.1:4566");
  EXPECT_EQ(header_value(sent, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(header_value(sent, "X-Amz-Target"), kBatchGetImage);
  EXPECT_EQ(header_value(sent, "X-Amz-Security-Token"), kToken);
  EXPECT_EQ(header_value(sent, "X-Amz-Date"), "20150830T123601Z");
  const std::string authorization = header_value(sent, "Authorization");
  EXPECT_TRUE(authorization.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
      "Signature="))
      << authorization;

  // Verify as the service would: recompute over what was sent, minus Authorization.
  SigningRequest received{"POST", "/", "", {}, sent.body};
  for (const auto& header : sent.headers) {
    if (header.first != "Authorization") received.headers.push_back(header);
  }
  const Signature expected = compute_signature(
      received, {"AKIDEXAMPLE", kSecret, kToken, std::nullopt, "t"},
      {"us-east-1", "ecr", std::chrono::system_clock::from_time_t(1440938161), true});
  EXPECT_EQ(authorization, expected.authorization);
  SigningRequest tampered = received;
  tampered.body = R"({"repositoryName":"other"})";
  EXPECT_NE(compute_signature(
                tampered, {"AKIDEXAMPLE", kSecret, kToken, std::nullopt, "t"},
                {"us-east-1", "ecr", std::chrono::system_clock::from_time_t(1440938161), true})
                .authorization,
            authorization);
}

TEST(JsonClient, DefaultEndpointsAndDefaultPortsInHost) {
  Harness h;
  JsonClientOptions options;
  options.http = &h.http;
  options.credentials = &h.credentials;
  options.region = "eu-central-1";
  options.endpoints = {{"ecs", "https://ecs.example.com:443/prefix"}};
  JsonClient client(options);
  ASSERT_TRUE(client.call(batch_get("r")));
  ASSERT_TRUE(client.call({"ecs", "AmazonEC2ContainerServiceV20141113.DescribeServices", {}}));
  EXPECT_EQ(h.http.sent[0].url, "https://api.ecr.eu-central-1.amazonaws.com/");
  EXPECT_EQ(header_value(h.http.sent[0], "Host"), "api.ecr.eu-central-1.amazonaws.com");
  EXPECT_EQ(h.http.sent[1].url, "https://ecs.example.com:443/prefix/");
  EXPECT_EQ(header_value(h.http.sent[1], "Host"), "ecs.example.com");
  EXPECT_EQ(h.http.sent[1].body, "{}");
}

TEST(JsonClient, RetriesThrottlingTwiceThenSucceedsWithFreshSignatures) {
  Harness h;
  int calls = 0;
  h.http.handler = [&](const http::Request&) {
    return ++calls <= 2 ? aws_error(400, "ThrottlingException", "Rate exceeded") : ok();
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(h.http.sent.size(), 3u);
  EXPECT_EQ(h.http.batch_sizes, (std::vector<std::size_t>{1, 1, 1}));
  EXPECT_NE(header_value(h.http.sent[0], "X-Amz-Date"), header_value(h.http.sent[1], "X-Amz-Date"));
  EXPECT_NE(header_value(h.http.sent[1], "Authorization"),
            header_value(h.http.sent[2], "Authorization"));
  // Full jitter with random()=0.5: half of 100 ms, then half of 200 ms.
  EXPECT_EQ(h.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(50),
                                                              std::chrono::milliseconds(100)}));
  // Two retries cost 5 each; the success after a retry gives its last cost back.
  EXPECT_EQ(client.retry_tokens_left(), 495);
}

TEST(JsonClient, AlwaysThrottledIsThrottledAfterThreeAttempts) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    return aws_error(400, "com.amazonaws.ecr#ThrottlingException", "Rate exceeded", "req-42");
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 3u);
  const AwsError& error = result.error();
  EXPECT_EQ(error.code, "THROTTLED");
  EXPECT_EQ(error.aws_code, "ThrottlingException");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.request_id, "req-42");
  EXPECT_EQ(error.attempts, 3);
  EXPECT_EQ(error.message,
            "ecr BatchGetImage: ThrottlingException: Rate exceeded (HTTP 400, request id req-42) "
            "after 3 attempts");
  EXPECT_EQ(error.to_error().code, "THROTTLED");
}

TEST(JsonClient, AccessDeniedIsNotRetried) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    return aws_error(400, "AccessDeniedException", "User is not authorized", "req-ad");
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 1u);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: AccessDeniedException: User is not authorized (HTTP 400, request "
            "id req-ad)");
}

TEST(JsonClient, AuthCodesFromTypeOrHeader) {
  for (const char* code :
       {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
        "SignatureDoesNotMatch", "IncompleteSignature", "InvalidClientTokenId"}) {
    Harness h;
    h.http.handler = [&](const http::Request&) {
      return respond(403, "{}", {{"x-amzn-errortype", std::string(code) + ":http://internal/"}});
    };
    auto client = h.client();
    auto result = client.call(batch_get("r"));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, "AUTH_FAILED") << code;
    EXPECT_EQ(result.error().aws_code, code);
    EXPECT_EQ(h.http.sent.size(), 1u);
  }
}

TEST(JsonClient, ClockSkewIsCorrectedFromTheServerDate) {
  Harness h;
  int calls = 0;
  h.http.handler = [&](const http::Request&) {
    if (++calls > 1) return ok();
    auto answer = aws_error(400, "InvalidSignatureException", "Signature expired", "req-skew");
    answer.headers.emplace_back("date", "Sun, 30 Aug 2015 12:46:01 GMT");
    return answer;
  };
  auto client = h.client();
  ASSERT_TRUE(client.call(batch_get("r")));
  ASSERT_EQ(h.http.sent.size(), 2u);
  EXPECT_EQ(header_value(h.http.sent[0], "X-Amz-Date"), "20150830T123601Z");
  // Local 12:36:02 when the answer came, server 12:46:01: 599 s skew on the next reading.
  EXPECT_EQ(header_value(h.http.sent[1], "X-Amz-Date"), "20150830T124602Z");

  // The same rejection without a clock explanation is a plain AUTH_FAILED, not retried.
  Harness wrong_key;
  wrong_key.http.handler = [](const http::Request&) {
    auto answer = aws_error(400, "InvalidSignatureException", "Signature mismatch", "req-k");
    answer.headers.emplace_back("date", "Sun, 30 Aug 2015 12:38:00 GMT");
    return answer;
  };
  auto wrong_client = wrong_key.client();
  auto result = wrong_client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(wrong_key.http.sent.size(), 1u);
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: InvalidSignatureException: Signature mismatch (HTTP 400, request "
            "id req-k)");
}

TEST(JsonClient, EverySkewCodeIsCorrectedOnceAndTheOffsetKept) {
  for (const std::string code : {"RequestTimeTooSkewed", "SignatureDoesNotMatch", "RequestExpired",
                                 "InvalidSignatureException"}) {
    SCOPED_TRACE(code);
    Harness h;
    int calls = 0;
    h.http.handler = [&](const http::Request&) {
      if (++calls > 1) return ok();
      auto answer = aws_error(403, code, "clock", "req-skew");
      answer.headers.emplace_back("date", "Sun, 30 Aug 2015 12:26:01 GMT");  // 10 min behind
      return answer;
    };
    auto client = h.client();
    ASSERT_TRUE(client.call(batch_get("r")));
    ASSERT_TRUE(client.call(batch_get("s")));
    // One rejected attempt, its retry, then the next call signed with the server's time at once.
    ASSERT_EQ(h.http.sent.size(), 3u);
    EXPECT_EQ(header_value(h.http.sent[0], "X-Amz-Date"), "20150830T123601Z");
    EXPECT_EQ(header_value(h.http.sent[1], "X-Amz-Date"), "20150830T122602Z");
    EXPECT_EQ(header_value(h.http.sent[2], "X-Amz-Date"), "20150830T122603Z");
  }
}

TEST(JsonClient, PersistentSkewFailureSaysHowFarOffTheClockIs) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    auto answer = aws_error(400, "InvalidSignatureException", "Signature expired", "req-s");
    answer.headers.emplace_back("date", "Sun, 30 Aug 2015 13:36:00 GMT");
    return answer;
  };
  h.retry.max_attempts = 1;
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: InvalidSignatureException: Signature expired (HTTP 400, request id "
            "req-s) (the local clock is 3598 s behind the server's)");
}

// The fuzzer's answer (tests/fuzz/corpus/aws/regression-date-1007): a server date no clock can
// have overflowed the skew correction; it is no reason to retry, so the failure stays AUTH_FAILED.
TEST(JsonClient, ImpossibleServerDateIsNoClockSkew) {
  for (const std::string date :
       {"Wed, 21 Oct 1007 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
    SCOPED_TRACE(date);
    Harness h;
    h.http.handler = [&](const http::Request&) {
      auto answer = aws_error(400, "InvalidSignatureException", "Signature expired", "req-d");
      answer.headers.emplace_back("date", date);
      return answer;
    };
    auto client = h.client();
    auto result = client.call(batch_get("r"));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, "AUTH_FAILED");
    EXPECT_EQ(result.error().message,
              "ecr BatchGetImage: InvalidSignatureException: Signature expired (HTTP 400, request "
              "id req-d)");
    EXPECT_EQ(h.http.sent.size(), 1u);
  }
}

TEST(HttpDate, ParsesRfc7231AndRejectsOthers) {
  EXPECT_EQ(detail::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            std::chrono::system_clock::from_time_t(1440938160));
  EXPECT_EQ(detail::parse_http_date("30 Aug 2015 12:36:00"), std::nullopt);
  EXPECT_EQ(detail::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT trailing"), std::nullopt);
  EXPECT_EQ(detail::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            std::chrono::system_clock::from_time_t(0));
  EXPECT_EQ(detail::parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), std::nullopt);
  EXPECT_EQ(detail::parse_http_date("Wed, 21 Oct 1007 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(detail::parse_http_date("Fri, 01 Jan 2200 00:00:00 GMT"), std::nullopt);
}

TEST(JsonClient, ServerErrorsAreRetried) {
  Harness h;
  int calls = 0;
  h.http.handler = [&](const http::Request&) {
    return ++calls == 1 ? respond(500, "oops", {{"x-amzn-requestid", "req-500"}}) : ok();
  };
  auto client = h.client();
  ASSERT_TRUE(client.call(batch_get("r")));
  EXPECT_EQ(h.http.sent.size(), 2u);

  Harness down;
  down.http.handler = [](const http::Request&) {
    return respond(503, "", {{"x-amzn-requestid", "req-503"}});
  };
  auto down_client = down.client();
  auto result = down_client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(down.http.sent.size(), 3u);
  // No AWS error shape: a gateway answered, AWS was not reached.
  EXPECT_EQ(result.error().code, "UNREACHABLE");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: HTTP 503 from a proxy or gateway, not an AWS answer (empty body, "
            "no AWS error code, request id req-503) after 3 attempts");
}

TEST(JsonClient, AnHtmlGatewayPageIsRetriedThenUnreachable) {
  Harness h;
  int calls = 0;
  const std::string page = "<html><head><title>502 Bad Gateway</title></head></html>";
  h.http.handler = [&](const http::Request&) {
    return ++calls == 1 ? respond(502, page, {{"content-type", "text/html; charset=utf-8"}}) : ok();
  };
  auto client = h.client();
  ASSERT_TRUE(client.call(batch_get("r")));
  EXPECT_EQ(h.http.sent.size(), 2u);

  Harness down;
  down.http.handler = [&](const http::Request&) {
    return respond(502, page, {{"content-type", "text/html"}});
  };
  auto down_client = down.client();
  auto result = down_client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(down.http.sent.size(), 3u);
  EXPECT_EQ(result.error().code, "UNREACHABLE");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: HTTP 502 from a proxy or gateway, not an AWS answer (text/html, no "
            "AWS error code, request id none) after 3 attempts");
  // An AWS-shaped 503 stays the service's own error.
  Harness aws;
  aws.http.handler = [](const http::Request&) {
    return respond(503, R"({"__type":"ServiceUnavailable","message":"busy"})");
  };
  auto aws_client = aws.client();
  auto busy = aws_client.call(batch_get("r"));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, "AWS_ERROR");
  EXPECT_EQ(aws.http.sent.size(), 3u);
}

TEST(JsonClient, ABodyCutShortIsRetried) {
  Harness h;
  int calls = 0;
  h.http.handler = [&](const http::Request&) {
    if (++calls > 1) return ok();
    http::Response r;
    r.error_code = "BAD_RESPONSE";
    r.error = "POST http://127.0.0.1:1/: transfer closed with 40 bytes remaining to read";
    r.transient = true;
    return r;
  };
  auto client = h.client();
  ASSERT_TRUE(client.call(batch_get("r")));
  EXPECT_EQ(h.http.sent.size(), 2u);

  Harness cut;
  cut.http.handler = [](const http::Request&) {
    http::Response r;
    r.error_code = "BAD_RESPONSE";
    r.error = "POST http://127.0.0.1:1/: transfer closed with 40 bytes remaining to read";
    r.transient = true;
    return r;
  };
  auto cut_client = cut.client();
  auto result = cut_client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(cut.http.sent.size(), 3u);
  EXPECT_EQ(result.error().code, "BAD_RESPONSE");
  EXPECT_EQ(
      result.error().message,
      "ecr BatchGetImage: no usable answer: POST http://127.0.0.1:1/: transfer closed with 40 "
      "bytes remaining to read after 3 attempts");
}

TEST(JsonClient, ConnectionErrorsBecomeUnreachable) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    return unreachable("Failed to connect to 127.0.0.1 port 4566");
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 3u);
  EXPECT_EQ(result.error().code, "UNREACHABLE");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: no usable answer: Failed to connect to 127.0.0.1 port 4566 after 3 "
            "attempts");
  EXPECT_EQ(client.retry_tokens_left(), 490);
}

TEST(JsonClient, TimeoutsCostMoreQuotaAndQuotaRunsOut) {
  Harness h;
  h.retry.quota = 15;
  h.http.handler = [](const http::Request&) { return unreachable("Operation timed out"); };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 2u);  // 10 for the first retry, 5 left is not enough for a second
  EXPECT_EQ(client.retry_tokens_left(), 5);
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: no usable answer: Operation timed out after 2 attempts (retry "
            "quota exhausted)");
}

TEST(JsonClient, MalformedJsonIsBadResponseWithoutRetry) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    return respond(200, "{not json", {{"x-amzn-requestid", "req-bad"}});
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 1u);
  EXPECT_EQ(result.error().code, "BAD_RESPONSE");
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: answer is not a JSON object (HTTP 200, request id req-bad)");

  h.http.handler = [](const http::Request&) { return respond(200, ""); };
  result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: answer is not a JSON object (HTTP 200, request id none)");
}

TEST(JsonClient, ServiceErrorsKeepTheAwsCode) {
  Harness h;
  h.http.handler = [](const http::Request&) {
    return respond(400, R"({"__type":"RepositoryNotFoundException","Message":"no repo"})",
                   {{"x-amzn-requestid", "req-nf"}});
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 1u);
  EXPECT_EQ(result.error().code, "AWS_ERROR");
  EXPECT_EQ(result.error().aws_code, "RepositoryNotFoundException");
  EXPECT_EQ(
      result.error().message,
      "ecr BatchGetImage: RepositoryNotFoundException: no repo (HTTP 400, request id req-nf)");
}

TEST(JsonClient, SecretsNeverReachMessages) {
  Harness h;
  h.http.handler = [](const http::Request& r) {
    // A hostile or buggy server echoing what it received.
    return aws_error(400, "ValidationException",
                     "bad " + header_value(r, "X-Amz-Security-Token") + " " + kSecret);
  };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  expect_no_secret(result.error());
  EXPECT_EQ(result.error().message,
            "ecr BatchGetImage: ValidationException: bad *** *** (HTTP 400, request id req-1)");
}

TEST(JsonClient, BatchRetriesOnlyTheFailedCallsInTheNextRound) {
  Harness h;
  std::map<std::string, int> seen;
  h.http.handler = [&](const http::Request& r) {
    const std::string repo = json::parse(r.body)["repositoryName"];
    if (repo == "b" && ++seen[repo] == 1) return aws_error(400, "ThrottlingException", "slow");
    if (repo == "c") return aws_error(400, "RepositoryNotFoundException", "gone", "req-c");
    return ok(json{{"repo", repo}});
  };
  auto client = h.client();
  auto results = client.call_batch({batch_get("a"), batch_get("b"), batch_get("c")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(h.http.batch_sizes, (std::vector<std::size_t>{3, 1}));
  ASSERT_TRUE(results[0]);
  EXPECT_EQ((*results[0])["repo"], "a");
  ASSERT_TRUE(results[1]);
  EXPECT_EQ((*results[1])["repo"], "b");
  ASSERT_FALSE(results[2]);
  EXPECT_EQ(results[2].error().aws_code, "RepositoryNotFoundException");
  EXPECT_EQ(results[2].error().request_id, "req-c");
}

TEST(JsonClient, MaxAttemptsOfOneMeansNoRetry) {
  Harness h;
  h.retry.max_attempts = 1;
  h.http.handler = [](const http::Request&) { return respond(500, ""); };
  auto client = h.client();
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(h.http.sent.size(), 1u);
  EXPECT_EQ(result.error().message, "ecr BatchGetImage: service error (HTTP 500, request id none)");
}

TEST(JsonClient, BackoffIsCappedAndJittered) {
  Harness h;
  h.retry.max_attempts = 6;
  h.retry.max_backoff = std::chrono::milliseconds(300);
  h.http.handler = [](const http::Request&) { return respond(503, ""); };
  JsonClientOptions options;
  options.http = &h.http;
  options.credentials = &h.credentials;
  options.region = "us-east-1";
  options.endpoints = {{"ecr", "http://127.0.0.1:1"}};
  options.retry = h.retry;
  options.sleep = [&](std::chrono::milliseconds d) { h.sleeps.push_back(d); };
  options.random = [] { return 0.999; };
  JsonClient client(options);
  ASSERT_FALSE(client.call(batch_get("r")));
  std::vector<long> ms;
  for (auto d : h.sleeps) ms.push_back(static_cast<long>(d.count()));
  EXPECT_EQ(ms, (std::vector<long>{99, 199, 299, 299, 299}));
}

TEST(JsonClient, MissingCredentialsFailWithoutSending) {
  Harness h;
  auto env =
      Environment::from_map({{"AWS_EC2_METADATA_DISABLED", "true"}, {"HOME", "/nonexistent"}});
  SharedConfig shared = load_shared_config(env);
  CredentialChainOptions chain;
  chain.env = &env;
  chain.shared = &shared;
  CredentialProvider provider(chain);
  JsonClientOptions options;
  options.http = &h.http;
  options.credentials = &provider;
  options.region = "us-east-1";
  JsonClient client(options);
  auto result = client.call(batch_get("r"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_TRUE(result.error().message.starts_with("ecr BatchGetImage: no AWS credentials found"))
      << result.error().message;
  EXPECT_TRUE(h.http.sent.empty());
}

TEST(AwsErrorCode, StripsNamespaceAndHeaderSuffix) {
  EXPECT_EQ(detail::aws_error_code(json{{"__type", "com.amazon.coral#ExpiredTokenException"}}, {}),
            "ExpiredTokenException");
  EXPECT_EQ(detail::aws_error_code(json::object(),
                                   {{"x-amzn-errortype", "ThrottlingException:http://x/doc"}}),
            "ThrottlingException");
  EXPECT_EQ(detail::aws_error_code(json{{"code", "InternalFailure"}}, {}), "InternalFailure");
  EXPECT_EQ(detail::aws_error_code(json("not an object"), {}), "");
  EXPECT_TRUE(detail::is_throttling_code("EC2ThrottledException"));
  EXPECT_TRUE(detail::is_transient_code("ServiceUnavailable"));
  EXPECT_FALSE(detail::is_throttling_code("ValidationException"));
}

}  // namespace
}  // namespace imagegate::aws
