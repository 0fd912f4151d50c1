#include "http/policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace imagegate::http::policy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryableStatus, ExactlyTheTransientOnes) {
  for (long status : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(status));
  for (long status : {0, 200, 301, 400, 401, 403, 404, 409, 501, 505}) {
    EXPECT_FALSE(is_retryable_status(status)) << status;
  }
}

TEST(BackoffDelay, StaysWithinTheCappedExponentialWindow) {
  RetryPolicy policy;
  policy.base_delay = milliseconds(100);
  policy.max_delay = milliseconds(1000);
  std::mt19937_64 rng(42);
  for (int retry = 0; retry < 8; ++retry) {
    long long ceiling = std::min<long long>(1000, 100LL << retry);
    long long highest = 0;
    for (int i = 0; i < 300; ++i) {
      long long d = backoff_delay(policy, retry, rng).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling) << "retry " << retry;
      highest = std::max(highest, d);
    }
    // Full jitter spreads over the whole window, not just its bottom.
    EXPECT_GT(highest, ceiling / 2) << "retry " << retry;
  }
}

TEST(BackoffDelay, HugeRetryIndexDoesNotOverflow) {
  RetryPolicy policy;
  policy.base_delay = milliseconds(100);
  policy.max_delay = milliseconds(5000);
  std::mt19937_64 rng(1);
  for (int retry : {31, 63, 1000}) {
    long long d = backoff_delay(policy, retry, rng).count();
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 5000);
  }
}

TEST(BackoffDelay, ZeroBaseMeansNoWait) {
  RetryPolicy policy;
  policy.base_delay = milliseconds(0);
  std::mt19937_64 rng(1);
  EXPECT_EQ(backoff_delay(policy, 3, rng), milliseconds(0));
}

TEST(RetryAfter, DelaySeconds) {
  auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("120", now), seconds(120));
  EXPECT_EQ(parse_retry_after(" 3 ", now), seconds(3));
  EXPECT_EQ(parse_retry_after("0", now), seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), seconds(86400));
}

TEST(RetryAfter, HttpDateRelativeToNow) {
  // Wed, 21 Oct 2015 07:28:00 GMT
  auto date = std::chrono::system_clock::from_time_t(1445412480);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - seconds(10)), seconds(10));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date + seconds(10)),
            milliseconds(0));
}

TEST(RetryAfter, GarbageIsIgnored) {
  auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
}

TEST(CredentialHeaders, AreRecognisedInAnyCase) {
  for (auto name : {"Authorization", "authorization", "COOKIE", "Proxy-Authorization"}) {
    EXPECT_TRUE(is_credential_header(name)) << name;
  }
  for (auto name : {"Accept", "X-Authorization-Hint", "Set-Cookie"}) {
    EXPECT_FALSE(is_credential_header(name)) << name;
  }
}

TEST(RedirectStatus, OnlyTheFollowableOnes) {
  for (long status : {301, 302, 303, 307, 308}) EXPECT_TRUE(is_redirect_status(status));
  for (long status : {200, 300, 304, 305, 306, 404}) EXPECT_FALSE(is_redirect_status(status));
}

TEST(PlanRedirect, ResolvesAbsolutePathOnSameOriginAndKeepsCredentials) {
  auto plan = plan_redirect("https://r.example/v2/a", "https://r.example/v2/a", "/v2/b?x=1");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->url, "https://r.example/v2/b?x=1");
  EXPECT_FALSE(plan->drop_credentials);
}

TEST(PlanRedirect, ResolvesRelativePath) {
  auto plan = plan_redirect("http://h:5000/dir/a", "http://h:5000/dir/a", "c");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->url, "http://h:5000/dir/c");
  EXPECT_FALSE(plan->drop_credentials);
}

TEST(PlanRedirect, ExplicitDefaultPortIsTheSameOrigin) {
  auto plan = plan_redirect("https://h/a", "https://h/a", "https://H:443/b");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->drop_credentials);
}

TEST(PlanRedirect, OtherHostPortOrSchemeDropsCredentials) {
  for (auto location : {"https://other.example/b", "https://r.example:8443/b", "//cdn.example/b"}) {
    auto plan = plan_redirect("https://r.example/a", "https://r.example/a", location);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_TRUE(plan->drop_credentials) << location;
  }
  auto upgrade = plan_redirect("http://r.example/a", "http://r.example/a", "https://r.example/a");
  ASSERT_TRUE(upgrade);
  EXPECT_TRUE(upgrade->drop_credentials);
}

TEST(PlanRedirect, ComparesWithTheOriginalNotThePreviousHop) {
  // Second hop, from a CDN back to a path on the CDN: still not the original origin.
  auto plan = plan_redirect("https://r.example/a", "https://cdn.example/x", "/y");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->url, "https://cdn.example/y");
  EXPECT_TRUE(plan->drop_credentials);
}

TEST(PlanRedirect, UserinfoDoesNotTravelToAnotherOrigin) {
  auto plan = plan_redirect("https://u:pw@r.example/a", "https://u:pw@r.example/a",
                            "https://other.example/b");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->url, "https://other.example/b");
}

TEST(PlanRedirect, RefusesHttpsToHttp) {
  auto plan = plan_redirect("https://r.example/a", "https://r.example/a", "http://r.example/a");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, "BAD_RESPONSE");
  EXPECT_EQ(plan.error().message,
            "refusing redirect from https to http (would send the request unencrypted): "
            "https://r.example/a -> http://r.example/a");
}

TEST(PlanRedirect, RefusesOtherSchemes) {
  auto plan = plan_redirect("https://r.example/a", "https://r.example/a", "ftp://r.example/a");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, "BAD_RESPONSE");
  EXPECT_EQ(plan.error().message,
            "refusing redirect from https://r.example/a to unsupported scheme: ftp://r.example/a");
}

TEST(PlanRedirect, RefusesUnparseableLocation) {
  auto plan = plan_redirect("https://r.example/a", "https://r.example/a", "http://[::1");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, "BAD_RESPONSE");
  EXPECT_EQ(plan.error().message,
            "redirect from https://r.example/a has an invalid Location: http://[::1");
}

TEST(PlanRedirect, MessagesAreRedacted) {
  auto plan = plan_redirect("https://u:pw@r.example/a", "https://u:pw@r.example/a",
                            "http://u:pw@r.example/b");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message.find("pw"), std::string::npos) << plan.error().message;
}

}  // namespace
}  // namespace imagegate::http::policy
