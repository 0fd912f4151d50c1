// The client's counters for the evidence's timing (requests by kind, attempts, retries,
// throttles, connections, protocols) and the per-origin scheduling keys.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

#include "http/http.hpp"
#include "http/policy.hpp"
#include "http/stats.hpp"
#include "support/local_server.hpp"

namespace imagegate::http {
namespace {

using imagegate::testing::LocalServer;
using std::chrono::milliseconds;

Request make(std::string method, std::string url, Headers headers = {}) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = std::move(headers);
  return r;
}

TEST(ClientStats, RequestKindFromMethodPathAndAwsTarget) {
  EXPECT_EQ(request_kind(make("GET", "https://r.example/v2/")), "GET ping");
  EXPECT_EQ(request_kind(make("GET", "https://r.example/v2")), "GET ping");
  EXPECT_EQ(request_kind(make("HEAD", "https://r.example/v2/a/b/manifests/v1?x=1")),
            "HEAD manifest");
  EXPECT_EQ(request_kind(make("GET", "https://r.example/v2/a/blobs/sha256:00")), "GET blob");
  EXPECT_EQ(request_kind(make("GET", "https://r.example/v2/a/tags/list?n=100")), "GET tags");
  EXPECT_EQ(request_kind(make("GET", "https://r.example/v2/a/referrers/sha256:00")),
            "GET referrers");
  EXPECT_EQ(request_kind(make("GET", "https://auth.example/token?scope=x")), "GET token");
  EXPECT_EQ(
      request_kind(make("POST", "https://api.ecr.us-east-1.amazonaws.com/",
                        {{"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.BatchGetImage"}})),
      "POST BatchGetImage");
  EXPECT_EQ(request_kind(make("PUT", "http://169.254.169.254/latest/api/token")), "PUT token");
  EXPECT_EQ(request_kind(make("GET", "http://169.254.170.2/v2/credentials/x")), "GET other");
}

TEST(ClientStats, SchedulingOriginIsSchemeHostAndPortWithoutUserinfo) {
  EXPECT_EQ(policy::scheduling_origin("https://Registry.Example:5000/v2/a?b#c"),
            "https://registry.example:5000");
  EXPECT_EQ(policy::scheduling_origin("https://u:p@r.example/v2/"), "https://r.example");
  EXPECT_EQ(policy::scheduling_origin("http://127.0.0.1:1"), "http://127.0.0.1:1");
  EXPECT_NE(policy::scheduling_origin("http://r.example/"),
            policy::scheduling_origin("https://r.example/"));
}

TEST(ClientStats, AddUp) {
  ClientStats a;
  a.requests = 2;
  a.by_kind["GET ping"] = 1;
  a.by_protocol["HTTP/2"] = 2;
  ClientStats b;
  b.requests = 3;
  b.retries = 1;
  b.connections = 2;
  b.by_kind["GET ping"] = 2;
  b.by_protocol["HTTP/1.1"] = 1;
  a += b;
  EXPECT_EQ(a.requests, 5u);
  EXPECT_EQ(a.retries, 1u);
  EXPECT_EQ(a.connections, 2u);
  EXPECT_EQ(a.by_kind["GET ping"], 3u);
  EXPECT_EQ(a.by_protocol["HTTP/2"], 2u);
  EXPECT_EQ(a.by_protocol["HTTP/1.1"], 1u);
}

TEST(ClientStats, CountsRequestsAttemptsRetriesThrottlesAndConnections) {
  LocalServer server;
  std::mutex mutex;
  std::set<int> ports;
  std::atomic<int> calls{0};
  server.server().Get("/v2/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ports.insert(req.remote_port);
    res.set_content("{}", "application/json");
  });
  server.server().Get("/v2/a/manifests/v1",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        {
                          std::lock_guard lock(mutex);
                          ports.insert(req.remote_port);
                        }
                        // The first call is throttled, the retry answers.
                        if (calls++ == 0) {
                          res.status = 429;
                          res.set_header("Retry-After", "0");
                          return;
                        }
                        res.set_content("{}", "application/json");
                      });
  server.start();
  ClientOptions options;
  options.concurrency = 1;
  options.retry.base_delay = milliseconds(1);
  auto client = make_curl_client(options);
  EXPECT_EQ(client_stats(*client).requests, 0u);
  std::vector<Request> batch(3, make("GET", server.url("/v2/")));
  batch.push_back(make("GET", server.url("/v2/a/manifests/v1")));
  for (const auto& r : client->run(batch)) ASSERT_TRUE(r.ok()) << r.error;
  const ClientStats stats = client_stats(*client);
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.attempts, 5u);
  EXPECT_EQ(stats.retries, 1u);
  EXPECT_EQ(stats.throttled, 1u);
  EXPECT_EQ(stats.by_kind,
            (std::map<std::string, std::size_t>{{"GET ping", 3}, {"GET manifest", 1}}));
  EXPECT_EQ(stats.by_protocol, (std::map<std::string, std::size_t>{{"HTTP/1.1", 5}}));
  std::lock_guard lock(mutex);
  EXPECT_EQ(stats.connections, ports.size());
  EXPECT_EQ(stats.connections, 1u);
}

}  // namespace
}  // namespace imagegate::http
