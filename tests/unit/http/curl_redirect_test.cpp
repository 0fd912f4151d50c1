// Redirects and TLS in the libcurl client: who gets the credentials, method changes, hop limit,
// https -> http refusal, certificate verification with and without ca_file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "http/http.hpp"
#include "support/local_server.hpp"

namespace imagegate::http {
namespace {

using imagegate::testing::LocalServer;
using imagegate::testing::SelfSignedCert;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ClientOptions redirect_options() {
  ClientOptions options;
  options.concurrency = 2;
  options.request_timeout = milliseconds(5000);
  options.retry.max_attempts = 2;
  options.retry.base_delay = milliseconds(5);
  options.retry.max_delay = milliseconds(10);
  return options;
}

Request get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

Request with_credentials(std::string url) {
  Request r = get(std::move(url));
  r.headers = {{"Authorization", "Bearer s3cret"},
               {"Cookie", "session=c00kie"},
               {"Proxy-Authorization", "Basic cHJveHk="},
               {"Accept", "application/json"}};
  return r;
}

void redirect(LocalServer& server, const std::string& path, int status, std::string location) {
  server.server().Get(path, [status, location](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    res.set_header("Location", location);
  });
}

// Records what the final hop received.
struct Landing {
  std::mutex mutex;
  std::vector<std::string> seen;  // "METHOD auth=.. cookie=.. proxy=.. accept=.. body=.."

  httplib::Server::Handler handler() {
    return [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      seen.push_back(req.method + " auth=" + req.get_header_value("Authorization") +
                     " cookie=" + req.get_header_value("Cookie") +
                     " proxy=" + req.get_header_value("Proxy-Authorization") +
                     " accept=" + req.get_header_value("Accept") + " body=" + req.body);
      res.set_content("landed", "text/plain");
    };
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

TEST(CurlRedirect, SameOriginKeepsCredentialsAndResolvesRelativeLocations) {
  LocalServer server;
  Landing landing;
  redirect(server, "/v2/a", 302, "b");  // relative to /v2/
  redirect(server, "/v2/b", 301, "/final");
  server.server().Get("/final", landing.handler());
  server.start();
  auto client = make_curl_client(redirect_options());
  Response r = client->run_one(with_credentials(server.url("/v2/a")));
  ASSERT_TRUE(r.ok()) << r.status << " " << r.error;
  EXPECT_EQ(r.body, "landed");
  EXPECT_EQ(r.effective_url, server.url("/final"));
  EXPECT_EQ(landing.requests(),
            (std::vector<std::string>{"GET auth=Bearer s3cret cookie=session=c00kie "
                                      "proxy=Basic cHJveHk= accept=application/json body="}));
}

TEST(CurlRedirect, OtherPortGetsNoCredentials) {
  LocalServer origin;
  LocalServer other;
  Landing landing;
  other.server().Get("/blob", landing.handler());
  redirect(origin, "/v2/blob", 307, other.url("/blob"));
  origin.start();
  other.start();
  auto client = make_curl_client(redirect_options());
  Response r = client->run_one(with_credentials(origin.url("/v2/blob")));
  ASSERT_TRUE(r.ok()) << r.status << " " << r.error;
  EXPECT_EQ(r.effective_url, other.url("/blob"));
  EXPECT_EQ(landing.requests(),
            (std::vector<std::string>{"GET auth= cookie= proxy= accept=application/json body="}));
}

TEST(CurlRedirect, OtherHostNameOnSamePortGetsNoCredentials) {
  LocalServer server;
  Landing landing;
  server.server().Get("/landing", landing.handler());
  redirect(server, "/start", 302, "http://localhost:" + std::to_string(server.port()) + "/landing");
  server.start();
  auto client = make_curl_client(redirect_options());
  Response r = client->run_one(with_credentials(server.url("/start")));
  ASSERT_TRUE(r.ok()) << r.status << " " << r.error;
  ASSERT_EQ(landing.requests().size(), 1u);
  EXPECT_THAT(landing.requests()[0], StartsWith("GET auth= cookie= proxy= "));
}

TEST(CurlRedirect, SeeOtherTurnsPostIntoGet) {
  LocalServer server;
  Landing landing;
  server.server().Post("/submit", [](const httplib::Request&, httplib::Response& res) {
    res.status = 303;
    res.set_header("Location", "/result");
  });
  server.server().Get("/result", landing.handler());
  server.start();
  auto client = make_curl_client(redirect_options());
  Request post = get(server.url("/submit"));
  post.method = "POST";
  post.body = "payload";
  post.headers = {{"Content-Type", "text/plain"}};
  Response r = client->run_one(post);
  ASSERT_TRUE(r.ok()) << r.status << " " << r.error;
  EXPECT_EQ(landing.requests(),
            (std::vector<std::string>{"GET auth= cookie= proxy= accept=*/* body="}));
}

TEST(CurlRedirect, TemporaryRedirectKeepsMethodAndBody) {
  LocalServer server;
  Landing landing;
  server.server().Post("/submit", [](const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", "/again");
  });
  server.server().Post("/again", landing.handler());
  server.start();
  auto client = make_curl_client(redirect_options());
  Request post = get(server.url("/submit"));
  post.method = "POST";
  post.body = "payload";
  Response r = client->run_one(post);
  ASSERT_TRUE(r.ok()) << r.status << " " << r.error;
  EXPECT_EQ(landing.requests(),
            (std::vector<std::string>{"POST auth= cookie= proxy= accept=*/* body=payload"}));
}

TEST(CurlRedirect, MoreThanFiveHopsIsABadResponse) {
  LocalServer server;
  std::atomic<int> hops{0};
  server.server().Get(R"(/loop/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    ++hops;
    res.status = 302;
    res.set_header("Location", "/loop/" + std::to_string(std::stoi(req.matches[1]) + 1));
  });
  server.start();
  auto client = make_curl_client(redirect_options());
  Response r = client->run_one(get(server.url("/loop/0")));
  EXPECT_EQ(r.error_code, "BAD_RESPONSE");
  EXPECT_EQ(r.error, "too many redirects (more than 5): GET " + server.url("/loop/5"));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(hops.load(), 6);
}

TEST(CurlRedirect, NotFollowedWhenDisabledOrWithoutLocation) {
  LocalServer server;
  redirect(server, "/moved", 301, "/elsewhere");
  server.server().Get("/bare",
                      [](const httplib::Request&, httplib::Response& res) { res.status = 302; });
  server.start();
  auto client = make_curl_client(redirect_options());
  Request not_followed = get(server.url("/moved"));
  not_followed.follow_redirects = false;
  auto responses = client->run({not_followed, get(server.url("/bare"))});
  EXPECT_EQ(responses[0].status, 301);
  EXPECT_EQ(responses[0].header("location"), "/elsewhere");
  EXPECT_EQ(responses[0].error_code, "");
  EXPECT_FALSE(responses[0].ok());
  EXPECT_EQ(responses[1].status, 302);
  EXPECT_EQ(responses[1].error_code, "");
}

TEST(CurlRedirect, UnsupportedSchemeIsRefused) {
  LocalServer server;
  redirect(server, "/a", 302, "file:///etc/passwd");
  server.start();
  auto client = make_curl_client(redirect_options());
  Response r = client->run_one(get(server.url("/a")));
  EXPECT_EQ(r.error_code, "BAD_RESPONSE");
  EXPECT_EQ(r.error, "refusing redirect from " + server.url("/a") +
                         " to unsupported scheme: file:///etc/passwd");
}

class CurlTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cert_ = new SelfSignedCert(); }
  static void TearDownTestSuite() {
    delete cert_;
    cert_ = nullptr;
  }
  static SelfSignedCert* cert_;
};
SelfSignedCert* CurlTls::cert_ = nullptr;

TEST_F(CurlTls, CaFileMakesTheServerTrustedAndConnectionsAreReused) {
  LocalServer server(*cert_);
  std::mutex mutex;
  std::set<int> ports;
  server.server().Get("/v2/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ports.insert(req.remote_port);
    res.set_content("tls", "text/plain");
  });
  server.start();
  ClientOptions options = redirect_options();
  options.concurrency = 1;
  options.ca_file = cert_->cert_file();
  auto client = make_curl_client(options);
  for (int run = 0; run < 3; ++run) {
    auto responses = client->run({get(server.url("/v2/")), get(server.url("/v2/"))});
    for (const auto& r : responses) {
      ASSERT_TRUE(r.ok()) << r.error;
      EXPECT_EQ(r.body, "tls");
    }
  }
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(ports.size(), 1u);
  }
  // Same hosts by name: the certificate names localhost as well.
  Response by_name =
      client->run_one(get("https://localhost:" + std::to_string(server.port()) + "/v2/"));
  EXPECT_TRUE(by_name.ok()) << by_name.error;
}

TEST_F(CurlTls, UntrustedCertificateIsUnreachableAndNotRetried) {
  LocalServer server(*cert_);
  server.server().Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("tls", "text/plain");
  });
  server.start();
  auto client = make_curl_client(redirect_options());  // system CAs only
  Response r = client->run_one(get(server.url("/v2/")));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error_code, "UNREACHABLE");
  EXPECT_THAT(r.error, StartsWith("GET " + server.url("/v2/") + ": "));
  EXPECT_THAT(r.error, HasSubstr("certificate"));
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(CurlTls, HttpsToHttpRedirectIsRefused) {
  LocalServer secure(*cert_);
  LocalServer plain;
  std::atomic<int> plain_calls{0};
  plain.server().Get("/b", [&](const httplib::Request&, httplib::Response& res) {
    ++plain_calls;
    res.set_content("leaked", "text/plain");
  });
  redirect(secure, "/a", 302, plain.url("/b"));
  secure.start();
  plain.start();
  ClientOptions options = redirect_options();
  options.ca_file = cert_->cert_file();
  auto client = make_curl_client(options);
  Response r = client->run_one(with_credentials(secure.url("/a")));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error_code, "BAD_RESPONSE");
  EXPECT_EQ(r.error, "refusing redirect from https to http (would send the request unencrypted): " +
                         secure.url("/a") + " -> " + plain.url("/b"));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(plain_calls.load(), 0);
}

TEST_F(CurlTls, CaFileWithoutCertificatesFailsEveryRequest) {
  ClientOptions options = redirect_options();
  options.ca_file = cert_->key_file();  // PEM, but a key
  auto client = make_curl_client(options);
  Response r = client->run_one(get("https://127.0.0.1:1/"));
  EXPECT_EQ(r.error_code, "UNREACHABLE");
  EXPECT_EQ(r.error, "CA file " + cert_->key_file() + " holds no PEM certificate");
}

}  // namespace
}  // namespace imagegate::http
