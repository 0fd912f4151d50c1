// The libcurl client against in-process servers on 127.0.0.1: methods, headers, bodies,
// concurrency, connection reuse, size limits, transport errors, deadlines, redaction.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "http/http.hpp"
#include "support/local_server.hpp"

namespace imagegate::http {
namespace {

using imagegate::testing::LocalServer;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

ClientOptions fast_options() {
  ClientOptions options;
  options.concurrency = 4;
  options.connect_timeout = milliseconds(2000);
  options.request_timeout = milliseconds(5000);
  options.retry.max_attempts = 3;
  options.retry.base_delay = milliseconds(5);
  options.retry.max_delay = milliseconds(20);
  return options;
}

// Lets slow handlers end as soon as a test is done with them, so stopping the server is quick.
// Declare it after the LocalServer: it must release the handlers before the server joins them.
class SlowHandlerGate {
 public:
  ~SlowHandlerGate() { released_ = true; }
  void hold(milliseconds at_most) const {
    auto until = std::chrono::steady_clock::now() + at_most;
    while (!released_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

 private:
  std::atomic<bool> released_{false};
};

Request get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

TEST(CurlClient, GetReturnsStatusBodyAndLowerCasedHeadersInOrder) {
  LocalServer server;
  server.server().Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Docker-Distribution-API-Version", "registry/2.0");
    res.set_header("X-Second", "two");
    res.set_content("{\"ok\":true}", "application/json");
  });
  server.start();
  auto client = make_curl_client(fast_options());
  Response r = client->run_one(get(server.url("/v2/")));
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ok\":true}");
  EXPECT_EQ(r.effective_url, server.url("/v2/"));
  EXPECT_EQ(r.attempts, 1);
  EXPECT_GT(r.seconds, 0);
  EXPECT_EQ(r.header("docker-distribution-api-version"), "registry/2.0");
  EXPECT_EQ(r.header("content-type"), "application/json");
  for (const auto& header : r.headers) {
    for (char c : header.first) EXPECT_FALSE(c >= 'A' && c <= 'Z') << header.first;
  }
  auto position = [&](std::string_view name) {
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
      if (r.headers[i].first == name) return i;
    }
    return r.headers.size();
  };
  // cpp-httplib writes headers sorted by name; the client must keep that order.
  EXPECT_LT(position("docker-distribution-api-version"), position("x-second"));
}

TEST(CurlClient, SendsHeadersUserAgentAndNoAcceptEncoding) {
  LocalServer server;
  httplib::Headers seen;
  std::mutex mutex;
  server.server().Get("/h", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    seen = req.headers;
    res.set_content("x", "text/plain");
  });
  server.start();
  auto client = make_curl_client(fast_options());
  Request request = get(server.url("/h"));
  request.headers = {{"Accept", "application/vnd.oci.image.manifest.v1+json"},
                     {"Authorization", "Basic dTpw"}};
  Response r = client->run_one(request);
  ASSERT_TRUE(r.ok()) << r.error;
  std::lock_guard lock(mutex);
  auto value = [&](const std::string& key) {
    auto it = seen.find(key);
    return it == seen.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(value("Accept"), "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(value("Authorization"), "Basic dTpw");
  EXPECT_THAT(value("User-Agent"), StartsWith("imagegate/"));
  EXPECT_EQ(value("Accept-Encoding"), "<absent>");
}

TEST(CurlClient, HeadReceivesHeadersButNoBody) {
  LocalServer server;
  std::atomic<int> heads{0};
  server.server().Get("/m", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "HEAD") ++heads;
    res.set_header("Docker-Content-Digest", "sha256:abc");
    res.set_content(std::string(100, 'x'), "application/json");
  });
  server.start();
  auto client = make_curl_client(fast_options());
  Request request = get(server.url("/m"));
  request.method = "HEAD";
  Response r = client->run_one(request);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("content-length"), "100");
  EXPECT_EQ(r.header("docker-content-digest"), "sha256:abc");
  EXPECT_EQ(heads.load(), 1);
}

TEST(CurlClient, PostAndPutSendBodyAsGiven) {
  LocalServer server;
  std::mutex mutex;
  std::vector<std::string> seen;
  auto echo = [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    seen.push_back(req.method + " " + req.get_header_value("Content-Type") + " " + req.body +
                   " expect=" + req.get_header_value("Expect"));
    res.set_content("done", "text/plain");
  };
  server.server().Post("/token", echo);
  server.server().Put("/thing", echo);
  server.start();
  auto client = make_curl_client(fast_options());
  Request post = get(server.url("/token"));
  post.method = "POST";
  post.body = "grant_type=password&service=r";
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  Request put = get(server.url("/thing"));
  put.method = "PUT";
  put.body = std::string(3000, 'b');  // big enough that libcurl would ask for 100-continue
  auto responses = client->run({post, put});
  ASSERT_TRUE(responses[0].ok()) << responses[0].error;
  ASSERT_TRUE(responses[1].ok()) << responses[1].error;
  EXPECT_EQ(responses[0].body, "done");
  std::lock_guard lock(mutex);
  std::multiset<std::string> got(seen.begin(), seen.end());
  EXPECT_EQ(got, (std::multiset<std::string>{
                     "POST application/x-www-form-urlencoded grant_type=password&service=r expect=",
                     "PUT  " + std::string(3000, 'b') + " expect="}));
}

TEST(CurlClient, InvalidRequestsAreRefusedWithoutLeakingValues) {
  auto client = make_curl_client(fast_options());
  Request bad_header = get("http://127.0.0.1:1/x");
  bad_header.headers = {{"Authorization", "Bearer s3cret\r\nX-Injected: 1"}};
  Request bad_method = get("http://127.0.0.1:1/x");
  bad_method.method = "GET /evil";
  Request bad_scheme = get("ftp://127.0.0.1:1/x");
  bad_scheme.retry = false;
  auto responses = client->run({bad_header, bad_method, bad_scheme});
  EXPECT_EQ(responses[0].error_code, "BAD_REQUEST");
  EXPECT_EQ(responses[0].error, "invalid header 'Authorization' for http://127.0.0.1:1/x");
  EXPECT_EQ(responses[1].error_code, "BAD_REQUEST");
  EXPECT_EQ(responses[1].error, "invalid HTTP method for http://127.0.0.1:1/x");
  EXPECT_EQ(responses[2].error_code, "BAD_REQUEST");
  EXPECT_THAT(responses[2].error, StartsWith("GET ftp://127.0.0.1:1/x: "));
  EXPECT_EQ(responses[2].attempts, 1);
}

TEST(CurlClient, ResponsesComeBackInRequestOrder) {
  LocalServer server;
  server.server().Get(R"(/d/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    int n = std::stoi(req.matches[1]);
    std::this_thread::sleep_for(milliseconds((8 - n) * 10));  // later requests finish first
    res.set_content(std::to_string(n), "text/plain");
  });
  server.start();
  auto client = make_curl_client(fast_options());
  std::vector<Request> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(get(server.url("/d/" + std::to_string(i))));
  auto responses = client->run(requests);
  ASSERT_EQ(responses.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(responses[i].body, std::to_string(i));
  EXPECT_TRUE(client->run({}).empty());
}

TEST(CurlClient, RunEachHandsEveryAnswerOverOnceAsItCompletes) {
  // /d/0 answers only after the other five answers have reached the callback (or after 3 s, and
  // then says so): that happens only if run_each hands answers over while the batch is still
  // running, and if plain-HTTP requests do not wait for the first one's connection.
  std::atomic<int> delivered{0};
  LocalServer server;
  server.server().Get(R"(/d/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    const int n = std::stoi(req.matches[1]);
    for (int waited = 0; n == 0 && delivered.load() < 5 && waited < 300; ++waited) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    res.set_content(
        std::to_string(n) + (n == 0 ? " after " + std::to_string(delivered.load()) : std::string()),
        "text/plain");
  });
  server.start();
  ClientOptions options = fast_options();
  options.concurrency = 8;
  auto client = make_curl_client(options);
  std::vector<Request> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(get(server.url("/d/" + std::to_string(i))));
  requests.push_back(get("ftp://127.0.0.1:1/refused"));  // an error is an answer too
  requests.back().retry = false;
  std::vector<std::size_t> order;
  std::vector<std::string> bodies(requests.size(), "(none)");
  client->run_each(requests, [&](std::size_t index, Response&& response) {
    ASSERT_LT(index, requests.size());
    order.push_back(index);
    bodies[index] = response.ok() ? response.body : response.error_code;
    if (index >= 1 && index < 6) ++delivered;
  });
  ASSERT_EQ(order.size(), requests.size());
  EXPECT_EQ(std::set<std::size_t>(order.begin(), order.end()).size(), requests.size());
  EXPECT_EQ(bodies[0], "0 after 5");
  for (int i = 1; i < 6; ++i) EXPECT_EQ(bodies[i], std::to_string(i));
  EXPECT_EQ(bodies[6], "BAD_REQUEST");
  bool called = false;
  client->run_each({}, [&](std::size_t, Response&&) { called = true; });
  EXPECT_FALSE(called);
}

// A client with only run(): run_each hands its answers over in order, and a request it left
// unanswered gets an error, never an empty success.
TEST(Client, DefaultRunEachNeverTurnsAMissingAnswerIntoASuccess) {
  class ShortClient final : public Client {
   public:
    std::vector<Response> run(const std::vector<Request>& requests) override {
      std::vector<Response> out(requests.size() > 0 ? 1 : 0);
      if (!out.empty()) out[0].status = 200;
      return out;
    }
  } client;
  std::vector<std::pair<std::size_t, Response>> got;
  client.run_each({get("http://127.0.0.1:1/a"), get("http://127.0.0.1:1/b")},
                  [&](std::size_t i, Response&& r) { got.emplace_back(i, std::move(r)); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 0u);
  EXPECT_TRUE(got[0].second.ok());
  EXPECT_EQ(got[1].first, 1u);
  EXPECT_FALSE(got[1].second.ok());
  EXPECT_EQ(got[1].second.error_code, "BAD_RESPONSE");
  EXPECT_EQ(got[1].second.error, "GET http://127.0.0.1:1/b: the HTTP client returned no answer");
}

// One connection and one handle at a time: each request runs on the handle the previous one
// used, reset. Nothing of a HEAD (no body), a POST (its body, method) or a header may carry over.
TEST(CurlClient, ReusedHandlesCarryNothingOverFromTheirLastRequest) {
  LocalServer server;
  std::mutex mutex;
  std::vector<std::string> seen;
  auto record = [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    seen.push_back(req.method + " " + req.path + " body=" + req.body +
                   " x=" + req.get_header_value("X-Once"));
    res.set_content("payload-" + req.method, "text/plain");
  };
  server.server().Get("/r", record);
  server.server().Post("/r", record);
  server.server().Put("/r", record);
  server.start();
  ClientOptions options = fast_options();
  options.concurrency = 1;
  auto client = make_curl_client(options);
  Request head = get(server.url("/r"));
  head.method = "HEAD";
  head.headers = {{"X-Once", "1"}};
  Request post = get(server.url("/r"));
  post.method = "POST";
  post.body = "form=1";
  Request put = get(server.url("/r"));
  put.method = "PUT";
  put.body = "put-body";
  const Request plain = get(server.url("/r"));
  const std::vector<Request> requests = {head, plain, post, plain, put, plain, head, plain};
  for (int round = 0; round < 2; ++round) {
    const auto responses = client->run(requests);
    ASSERT_EQ(responses.size(), requests.size());
    for (std::size_t i = 0; i < responses.size(); ++i) {
      ASSERT_TRUE(responses[i].ok()) << i << ": " << responses[i].error;
      const std::string expected =
          requests[i].method == "HEAD" ? "" : "payload-" + requests[i].method;
      EXPECT_EQ(responses[i].body, expected) << i;
    }
  }
  std::lock_guard lock(mutex);
  const std::vector<std::string> once = {
      "HEAD /r body= x=1",       "GET /r body= x=", "POST /r body=form=1 x=", "GET /r body= x=",
      "PUT /r body=put-body x=", "GET /r body= x=", "HEAD /r body= x=1",      "GET /r body= x="};
  std::vector<std::string> expected = once;
  expected.insert(expected.end(), once.begin(), once.end());
  EXPECT_EQ(seen, expected);
}

TEST(CurlClient, ConcurrencyIsBoundedAndConnectionsArePooled) {
  LocalServer server;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_seen{0};
  std::mutex mutex;
  std::set<int> ports;
  server.server().Get("/slow", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mutex);
      ports.insert(req.remote_port);
    }
    int now = ++in_flight;
    int previous = max_seen.load();
    while (now > previous && !max_seen.compare_exchange_weak(previous, now)) {
    }
    std::this_thread::sleep_for(milliseconds(40));
    --in_flight;
    res.set_content("ok", "text/plain");
  });
  server.start();
  ClientOptions options = fast_options();
  options.concurrency = 4;
  auto client = make_curl_client(options);
  std::vector<Request> requests(20, get(server.url("/slow")));
  auto responses = client->run(requests);
  for (const auto& r : responses) ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_LE(max_seen.load(), 4);
  EXPECT_GT(max_seen.load(), 1);
  // A second batch runs on the connections the first one opened.
  for (const auto& r : client->run(std::vector<Request>(8, get(server.url("/slow"))))) {
    ASSERT_TRUE(r.ok()) << r.error;
  }
  std::lock_guard lock(mutex);
  EXPECT_LE(ports.size(), 4u);
}

TEST(CurlClient, SequentialRequestsReuseOneConnectionAcrossRuns) {
  LocalServer server;
  std::mutex mutex;
  std::set<int> ports;
  server.server().Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  server.start();
  ClientOptions options = fast_options();
  options.concurrency = 1;
  auto client = make_curl_client(options);
  auto responses = client->run(std::vector<Request>(25, get(server.url("/p"))));
  for (const auto& r : responses) ASSERT_TRUE(r.ok()) << r.error;
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(client->run_one(get(server.url("/p"))).ok());
  std::lock_guard lock(mutex);
  EXPECT_EQ(ports.size(), 1u);
}

TEST(CurlClient, BodyOverTheLimitIsAnErrorNotATruncation) {
  LocalServer server;
  server.server().Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(200000, 'x'), "application/octet-stream");
  });
  server.start();
  auto client = make_curl_client(fast_options());
  Request over = get(server.url("/big"));
  over.max_body_bytes = 199999;
  Request exact = get(server.url("/big"));
  exact.max_body_bytes = 200000;
  auto responses = client->run({over, exact});
  EXPECT_FALSE(responses[0].ok());
  EXPECT_EQ(responses[0].error_code, "BAD_RESPONSE");
  EXPECT_EQ(responses[0].error,
            "response body exceeds 199999 bytes (max_body_bytes): GET " + server.url("/big"));
  EXPECT_EQ(responses[0].body, "");
  EXPECT_EQ(responses[0].attempts, 1);  // the same answer would come again: no retry
  ASSERT_TRUE(responses[1].ok()) << responses[1].error;
  EXPECT_EQ(responses[1].body.size(), 200000u);
}

TEST(CurlClient, ConnectionRefusedIsUnreachableAfterRetries) {
  int port = LocalServer::closed_port();
  std::vector<int> attempts;
  ClientOptions options = fast_options();
  options.on_attempt = [&](const std::string&, const std::string&, long status, double,
                           int attempt) {
    EXPECT_EQ(status, 0);
    attempts.push_back(attempt);
  };
  auto client = make_curl_client(options);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v2/";
  Response r = client->run_one(get(url));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error_code, "UNREACHABLE");
  EXPECT_THAT(r.error, StartsWith("GET " + url + ": "));
  EXPECT_THAT(r.error, HasSubstr("Failed to connect to 127.0.0.1 port " + std::to_string(port)));
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
}

TEST(CurlClient, SlowAnswerTimesOutAsUnreachable) {
  LocalServer server;
  SlowHandlerGate gate;
  server.server().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    gate.hold(milliseconds(3000));
    res.set_content("late", "text/plain");
  });
  server.start();
  ClientOptions options = fast_options();
  options.request_timeout = milliseconds(200);
  auto client = make_curl_client(options);
  Request request = get(server.url("/slow"));
  request.retry = false;
  auto begin = std::chrono::steady_clock::now();
  Response r = client->run_one(request);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, milliseconds(2000));
  EXPECT_EQ(r.error_code, "UNREACHABLE");
  EXPECT_THAT(r.error, StartsWith("GET " + server.url("/slow") + ": Operation timed out"));
  EXPECT_EQ(r.body, "");
  client.reset();
}

TEST(CurlClient, OverallDeadlineFailsRunningAndQueuedRequests) {
  LocalServer server;
  SlowHandlerGate gate;
  server.server().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    gate.hold(milliseconds(6000));
    res.set_content("late", "text/plain");
  });
  server.start();
  ClientOptions options = fast_options();
  options.concurrency = 1;
  // Generous enough that a loaded machine still starts the first request before it.
  options.overall_timeout = milliseconds(1000);
  auto client = make_curl_client(options);
  auto begin = std::chrono::steady_clock::now();
  auto responses = client->run({get(server.url("/slow")), get(server.url("/slow"))});
  EXPECT_LT(std::chrono::steady_clock::now() - begin, milliseconds(4000));
  for (const auto& r : responses) {
    EXPECT_EQ(r.error_code, "UNREACHABLE");
    EXPECT_EQ(r.error, "deadline exceeded (overall timeout 1000 ms): GET " + server.url("/slow"));
  }
  EXPECT_EQ(responses[0].attempts, 1);
  EXPECT_EQ(responses[1].attempts, 0);  // never started
  // Later batches on the same client fail at once.
  Response late = client->run_one(get(server.url("/slow")));
  EXPECT_EQ(late.error_code, "UNREACHABLE");
  EXPECT_EQ(late.attempts, 0);
  client.reset();
}

TEST(CurlClient, SecretsNeverReachMessagesOrAttemptReports) {
  LocalServer server;
  server.server().Get("/x",
                      [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  server.start();
  std::vector<std::string> reported;
  ClientOptions options = fast_options();
  options.on_attempt = [&](const std::string& method, const std::string& url, long status,
                           double seconds, int attempt) {
    reported.push_back(method + " " + url + " " + std::to_string(status) + " " +
                       std::to_string(seconds) + " " + std::to_string(attempt));
  };
  auto client = make_curl_client(options);
  std::string authority = "127.0.0.1:" + std::to_string(server.port());
  Request with_auth = get("http://user:hunter2@" + authority + "/x?access_token=tok3n");
  with_auth.headers = {{"Authorization", "Bearer s3cr3t-value"}, {"Cookie", "c00kie"}};
  Request refused =
      get("http://user:hunter2@127.0.0.1:" + std::to_string(LocalServer::closed_port()) + "/y");
  auto responses = client->run({with_auth, refused});
  EXPECT_EQ(responses[0].status, 500);
  EXPECT_EQ(responses[1].error_code, "UNREACHABLE");
  ASSERT_EQ(reported.size(), 6u);
  EXPECT_THAT(reported, ::testing::Contains(StartsWith("GET http://" + authority +
                                                       "/x?access_token=REDACTED 500 ")));
  for (const auto& line : reported) {
    for (auto secret : {"hunter2", "s3cr3t", "tok3n", "c00kie", "Authorization", "Bearer"}) {
      EXPECT_THAT(line, Not(HasSubstr(secret)));
    }
  }
  for (const auto& r : responses) {
    for (auto secret : {"hunter2", "s3cr3t", "tok3n", "c00kie"}) {
      EXPECT_THAT(r.error, Not(HasSubstr(secret)));
    }
  }
}

TEST(CurlClient, UnloadableCaFileFailsEveryRequest) {
  ClientOptions options = fast_options();
  options.ca_file = "/nonexistent/ca.pem";
  auto client = make_curl_client(options);
  auto responses = client->run({get("https://127.0.0.1:1/a"), get("https://127.0.0.1:1/b")});
  for (const auto& r : responses) {
    EXPECT_EQ(r.error_code, "UNREACHABLE");
    EXPECT_EQ(r.error, "cannot read CA file /nonexistent/ca.pem");
    EXPECT_EQ(r.attempts, 0);
  }
}

}  // namespace
}  // namespace imagegate::http
