// WWW-Authenticate parsing, the realm policy and token requests/answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/auth.hpp"

namespace imagegate::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

http::Response with_challenge(std::vector<std::string> values) {
  http::Response response;
  response.status = 401;
  for (auto& v : values) response.headers.emplace_back("www-authenticate", std::move(v));
  return response;
}

TEST(Challenge, ParsesBearerParametersQuotedOrNot) {
  const auto c = parse_challenge(
      with_challenge({R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
                      R"(scope="repository:library/ubuntu:pull,push")"}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->scheme, Scheme::kBearer);
  EXPECT_EQ(c->realm, "https://auth.docker.io/token");
  EXPECT_EQ(c->service, "registry.docker.io");
  EXPECT_EQ(c->scope, "repository:library/ubuntu:pull,push");

  const auto unquoted = parse_challenge(with_challenge({"bearer realm=https://h/t, service=s"}));
  ASSERT_TRUE(unquoted.has_value());
  EXPECT_EQ(unquoted->realm, "https://h/t");
  EXPECT_EQ(unquoted->service, "s");
}

TEST(Challenge, BasicAndTheFirstUnderstoodChallengeWins) {
  EXPECT_EQ(parse_challenge(with_challenge({"Basic realm=\"x\""}))->scheme, Scheme::kBasic);
  EXPECT_EQ(parse_challenge(with_challenge({"Negotiate", "Bearer realm=\"https://t\""}))->scheme,
            Scheme::kBearer);
}

TEST(Challenge, UnusableChallengesAreAuthFailed) {
  const auto none = parse_challenge(with_challenge({}));
  EXPECT_EQ(none.error().code, "AUTH_FAILED");
  EXPECT_EQ(none.error().message, "registry answered 401 without a WWW-Authenticate challenge");
  for (const std::string bad : {"Negotiate", "Bearer service=\"s\"", "Bearer realm=\"unclosed"}) {
    const auto c = parse_challenge(with_challenge({bad}));
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().message,
              "registry answered 401 with a WWW-Authenticate challenge that is neither Basic nor "
              "Bearer with a realm");
  }
}

TEST(RealmPolicy, HttpsRealmIsAlwaysFine) {
  EXPECT_TRUE(check_realm("https://auth.example.com/token", "https", "r.example.com"));
  EXPECT_TRUE(check_realm("https://auth.example.com/token", "http", "10.0.0.1:5000"));
}

TEST(RealmPolicy, PlainHttpOnlyWhenRegistryAndRealmAreOnLoopback) {
  EXPECT_TRUE(check_realm("http://127.0.0.1:5001/token", "http", "127.0.0.1:5000"));
  EXPECT_TRUE(check_realm("http://localhost:5001/token", "http", "localhost:5000"));
  EXPECT_TRUE(check_realm("http://[::1]:5001/token", "http", "[::1]:5000"));
  const auto refused = check_realm("http://auth.example.com/token", "http", "127.0.0.1:5000");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, "AUTH_FAILED");
  EXPECT_EQ(refused.error().message,
            "token realm http://auth.example.com is plain http: tokens and credentials are only "
            "sent to an https realm (plain http only when the registry and the realm are both on "
            "loopback)");
  EXPECT_FALSE(check_realm("http://127.0.0.1/token", "https", "127.0.0.1:5000"));
  EXPECT_FALSE(check_realm("http://127.0.0.1/token", "http", "registry.example.com"));
  EXPECT_FALSE(check_realm("http://127.0.0.1.evil.com/token", "http", "127.0.0.1"));
  EXPECT_EQ(check_realm("/token", "https", "h").error().message,
            "token realm in the registry's challenge is not an http(s) URL");
  EXPECT_FALSE(check_realm("ftp://h/token", "https", "h"));
}

TEST(RealmPolicy, LoopbackHosts) {
  for (const char* host : {"localhost", "LOCALHOST:80", "127.0.0.1", "127.1.2.3:5000", "[::1]:1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"128.0.0.1", "127.0.0.1.nip.io", "localhost.example.com", "[::2]",
                           "10.0.0.1", "example.com", "127.0.0"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(TokenRequest, GetWithServiceScopeAndBasicWhenCredentialsAreKnown) {
  const Challenge c{Scheme::kBearer, "https://auth.example.com/token?x=1", "svc reg", ""};
  const auto anonymous = token_request(c, "repository:a/b:pull", std::nullopt);
  EXPECT_EQ(anonymous.method, "GET");
  EXPECT_EQ(anonymous.url,
            "https://auth.example.com/token?x=1&service=svc%20reg&scope=repository%3Aa%2Fb%3Apull");
  EXPECT_EQ(anonymous.headers.size(), 1u);  // Accept only
  const auto with_basic = token_request(c, "s", Credential{"u", "p", ""});
  EXPECT_EQ(with_basic.headers.back().second, "Basic dTpw");
}

TEST(TokenRequest, IdentityTokenIsARefreshTokenGrant) {
  const Challenge c{Scheme::kBearer, "https://auth.example.com/token", "svc", ""};
  const auto r = token_request(c, "repository:a/b:pull", Credential{"", "", "id/tok"});
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://auth.example.com/token");
  EXPECT_EQ(r.body,
            "grant_type=refresh_token&client_id=imagegate&refresh_token=id%2Ftok&service=svc&"
            "scope=repository%3Aa%2Fb%3Apull");
}

TEST(TokenResponse, TokenOrAccessToken) {
  http::Response r;
  r.status = 200;
  r.body = R"({"token":"t1"})";
  EXPECT_EQ(parse_token_response(r, "s").value(), "t1");
  r.body = R"({"access_token":"t2","expires_in":300})";
  EXPECT_EQ(parse_token_response(r, "s").value(), "t2");
}

TEST(TokenResponse, FailuresNameTheScopeButNeverTheBody) {
  struct Case {
    long status;
    std::string body;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {401, "secret-body", "AUTH_FAILED", "token endpoint for s denied access (HTTP 401)"},
      {403, "", "AUTH_FAILED", "token endpoint for s denied access (HTTP 403)"},
      {503, "", "UNREACHABLE", "token endpoint for s answered HTTP 503"},
      {404, "", "AUTH_FAILED", "token endpoint for s answered HTTP 404"},
      {200, "secret-body", "BAD_RESPONSE", "token endpoint for s answered with something not JSON"},
      {200, R"({"token":"","x":"secret-body"})", "BAD_RESPONSE",
       "token endpoint for s answered without a token"},
  };
  for (const auto& c : cases) {
    http::Response r;
    r.status = c.status;
    r.body = c.body;
    const auto token = parse_token_response(r, "s");
    ASSERT_FALSE(token.has_value()) << c.message;
    EXPECT_EQ(token.error().code, c.code);
    EXPECT_EQ(token.error().message, c.message);
  }
  http::Response down;
  down.error_code = "UNREACHABLE";
  down.error = "connection refused";
  EXPECT_EQ(parse_token_response(down, "s").error().message,
            "token endpoint for s: connection refused");
}

TEST(SplitUrl, SchemeHostPath) {
  const auto u = split_url("HTTPS://Auth.Example.com:8443/token?a=b");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "auth.example.com:8443");
  EXPECT_EQ(u->path, "/token?a=b");
  EXPECT_FALSE(split_url("https://user:pw@h/"));
  EXPECT_FALSE(split_url("file:///etc/passwd"));
}

}  // namespace
}  // namespace imagegate::auth
