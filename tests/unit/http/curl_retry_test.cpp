// Retries of the libcurl client: which answers are retried, how long it waits (Retry-After,
// backoff), what comes back when retries run out, and that a waiting retry blocks nobody.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "http/http.hpp"
#include "support/local_server.hpp"

namespace imagegate::http {
namespace {

using imagegate::testing::LocalServer;
using std::chrono::milliseconds;

ClientOptions retry_options() {
  ClientOptions options;
  options.concurrency = 4;
  options.request_timeout = milliseconds(5000);
  options.retry.max_attempts = 3;
  options.retry.base_delay = milliseconds(5);
  options.retry.max_delay = milliseconds(20);
  return options;
}

Request get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

// Answers the given statuses in turn, then 200 "done" forever; counts the calls.
struct ScriptedEndpoint {
  explicit ScriptedEndpoint(std::vector<int> statuses_first, std::string retry_after_value = "")
      : statuses(std::move(statuses_first)), retry_after(std::move(retry_after_value)) {}

  std::vector<int> statuses;
  std::string retry_after;
  std::atomic<int> calls{0};

  void install(LocalServer& server, const std::string& path) {
    server.server().Get(path, [this](const httplib::Request&, httplib::Response& res) {
      std::size_t call = static_cast<std::size_t>(calls++);
      if (call < statuses.size()) {
        res.status = statuses[call];
        if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
        res.set_content("busy", "text/plain");
        return;
      }
      res.set_content("done", "text/plain");
    });
  }
};

double elapsed_since(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

TEST(CurlRetry, ServerErrorsAreRetriedUntilSuccess) {
  LocalServer server;
  ScriptedEndpoint endpoint{{500, 503}};
  endpoint.install(server, "/x");
  server.start();
  std::vector<std::pair<long, int>> attempts;
  ClientOptions options = retry_options();
  options.on_attempt = [&](const std::string&, const std::string&, long status, double,
                           int attempt) { attempts.emplace_back(status, attempt); };
  auto client = make_curl_client(options);
  Response r = client->run_one(get(server.url("/x")));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(endpoint.calls.load(), 3);
  EXPECT_EQ(attempts, (std::vector<std::pair<long, int>>{{500, 1}, {503, 2}, {200, 3}}));
}

class CurlRetryStatus : public ::testing::TestWithParam<int> {};

TEST_P(CurlRetryStatus, IsRetriedOnce) {
  LocalServer server;
  ScriptedEndpoint endpoint{{GetParam()}};
  endpoint.install(server, "/x");
  server.start();
  auto client = make_curl_client(retry_options());
  Response r = client->run_one(get(server.url("/x")));
  ASSERT_TRUE(r.ok()) << r.status;
  EXPECT_EQ(r.attempts, 2);
}

INSTANTIATE_TEST_SUITE_P(Transient, CurlRetryStatus,
                         ::testing::Values(408, 429, 500, 502, 503, 504));

TEST(CurlRetry, RetryAfterSecondsIsHonoured) {
  LocalServer server;
  ScriptedEndpoint endpoint{{429}, "1"};
  endpoint.install(server, "/x");
  server.start();
  auto client = make_curl_client(retry_options());  // backoff alone would wait <= 20 ms
  auto begin = std::chrono::steady_clock::now();
  Response r = client->run_one(get(server.url("/x")));
  double waited = elapsed_since(begin);
  ASSERT_TRUE(r.ok()) << r.status;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(waited, 0.9);
  EXPECT_GE(r.seconds, 0.9);
}

TEST(CurlRetry, RetryAfterIsCappedByPolicy) {
  LocalServer server;
  ScriptedEndpoint endpoint{{503}, "30"};
  endpoint.install(server, "/x");
  server.start();
  ClientOptions options = retry_options();
  options.retry.max_retry_after = milliseconds(50);
  auto client = make_curl_client(options);
  auto begin = std::chrono::steady_clock::now();
  Response r = client->run_one(get(server.url("/x")));
  ASSERT_TRUE(r.ok()) << r.status;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_LT(elapsed_since(begin), 5.0);
}

TEST(CurlRetry, PersistentFailureReturnsTheLastAnswer) {
  LocalServer server;
  ScriptedEndpoint endpoint{{503, 503, 503, 503, 503, 503}};
  endpoint.install(server, "/x");
  server.start();
  auto client = make_curl_client(retry_options());
  Response r = client->run_one(get(server.url("/x")));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error_code, "");  // an HTTP answer, for the caller to turn into a finding
  EXPECT_EQ(r.body, "busy");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(endpoint.calls.load(), 3);
}

TEST(CurlRetry, NotFoundIsNotRetried) {
  LocalServer server;
  ScriptedEndpoint endpoint{{404, 404}};
  endpoint.install(server, "/x");
  server.start();
  auto client = make_curl_client(retry_options());
  Response r = client->run_one(get(server.url("/x")));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(endpoint.calls.load(), 1);
}

TEST(CurlRetry, RetryFalseMeansOneAttempt) {
  LocalServer server;
  ScriptedEndpoint endpoint{{503}};
  endpoint.install(server, "/x");
  server.start();
  auto client = make_curl_client(retry_options());
  Request request = get(server.url("/x"));
  request.retry = false;
  Response r = client->run_one(request);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(endpoint.calls.load(), 1);
}

TEST(CurlRetry, WaitingRetryDoesNotBlockOtherRequests) {
  LocalServer server;
  ScriptedEndpoint throttled{{429}, "1"};
  throttled.install(server, "/throttled");
  ScriptedEndpoint fast{std::vector<int>{}};
  fast.install(server, "/fast");
  server.start();
  ClientOptions options = retry_options();
  options.concurrency = 2;
  auto client = make_curl_client(options);
  std::vector<Request> requests = {get(server.url("/throttled"))};
  for (int i = 0; i < 6; ++i) requests.push_back(get(server.url("/fast")));
  auto responses = client->run(requests);
  ASSERT_TRUE(responses[0].ok()) << responses[0].status;
  EXPECT_GE(responses[0].seconds, 0.9);
  for (std::size_t i = 1; i < responses.size(); ++i) {
    ASSERT_TRUE(responses[i].ok()) << responses[i].error;
    EXPECT_LT(responses[i].seconds, 0.5) << "request " << i << " waited for another's retry";
  }
}

TEST(CurlRetry, RetryThatWouldOutliveTheDeadlineReturnsTheAnswerAtOnce) {
  LocalServer server;
  ScriptedEndpoint endpoint{{429}, "5"};
  endpoint.install(server, "/x");
  server.start();
  ClientOptions options = retry_options();
  options.overall_timeout = milliseconds(2000);
  options.retry.max_retry_after = milliseconds(10000);
  auto client = make_curl_client(options);
  auto begin = std::chrono::steady_clock::now();
  Response r = client->run_one(get(server.url("/x")));
  EXPECT_LT(elapsed_since(begin), 1.0);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.attempts, 1);
}

TEST(CurlRetry, ConnectionErrorsAreRetriedButNotWhenDisabled) {
  int port = LocalServer::closed_port();
  auto client = make_curl_client(retry_options());
  Request retried = get("http://127.0.0.1:" + std::to_string(port) + "/x");
  Request once = retried;
  once.retry = false;
  auto responses = client->run({retried, once});
  EXPECT_EQ(responses[0].error_code, "UNREACHABLE");
  EXPECT_EQ(responses[0].attempts, 3);
  EXPECT_EQ(responses[1].error_code, "UNREACHABLE");
  EXPECT_EQ(responses[1].attempts, 1);
}

}  // namespace
}  // namespace imagegate::http
