// Inputs the fuzz targets (tests/fuzz) found crashing, each with the answer it must now get. The
// same inputs are in tests/fuzz/corpus/<target>/regression-*, replayed by fuzz.<target>.corpus.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "auth/auth.hpp"
#include "aws/json_client.hpp"
#include "deploy/task_definition.hpp"
#include "evidence/evidence.hpp"
#include "http/policy.hpp"
#include "manifest/manifest.hpp"

namespace imagegate {
namespace {

// nlohmann throws out_of_range, not parse_error, for a number past what a double holds: it
// escaped the parsers' catch and ended the process.
TEST(FuzzRegressions, ManifestNumberOutOfRangeIsInvalidJson) {
  const auto m = manifest::parse(R"({"version":"1.0.0","images":[],"x":1e400})", "m.json");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, "MANIFEST_INVALID_JSON");
  EXPECT_EQ(m.error().message,
            "manifest 'm.json' is not valid JSON: number overflow parsing '1e400'");
}

TEST(FuzzRegressions, TaskDefinitionNumberOutOfRangeIsInvalidJson) {
  const auto td = deploy::parse_task_definition_text(
      R"({"family":"f","containerDefinitions":[{"name":"a","cpu":2e308}]})", "td.json");
  ASSERT_FALSE(td);
  EXPECT_EQ(td.error().code, "TASKDEF_INVALID_JSON");
  EXPECT_EQ(td.error().message,
            "task definition 'td.json' is not valid JSON: a number is out of range");
}

TEST(FuzzRegressions, EvidenceNumberOutOfRangeIsInvalidJson) {
  const auto e = evidence::parse(
      R"({"schemaVersion": 1, "tool": "t", "verdict": "skipped", "images": [2e308]})", "e.json");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "EVIDENCE_INVALID_JSON");
  EXPECT_EQ(e.error().message, "evidence 'e.json' is not valid JSON: a number is out of range");
}

// A Retry-After date past 2262 overflowed system_clock's nanoseconds in from_time_t.
TEST(FuzzRegressions, RetryAfterFarFutureDateIsTheOneDayCap) {
  const auto now = std::chrono::system_clock::from_time_t(1700000000);
  EXPECT_EQ(http::policy::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            std::chrono::hours(24));
  EXPECT_EQ(http::policy::parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            std::chrono::milliseconds(0));
  // The fuzzer's input: not delay-seconds, and libcurl reads it as a date in the year 6409.
  EXPECT_EQ(http::policy::parse_retry_after("64091111\x1e", now), std::chrono::hours(24));
  // Unchanged: a date a minute ahead is a minute.
  EXPECT_EQ(http::policy::parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now),
            std::chrono::seconds(60));
}

// A server Date in the year 1007 overflowed the clock-skew correction (signed overflow in
// std::chrono); such a date is no clock and is not read
// (tests/fuzz/corpus/aws/regression-date-1007).
TEST(FuzzRegressions, ServerDateOutsideAnyClockIsNotRead) {
  EXPECT_EQ(aws::detail::parse_http_date("Wed, 21 Oct 1007 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(aws::detail::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), std::nullopt);
}

// An "auth" of "=" decoded to a size below zero (size_t wrap) and resized the string to it
// (tests/fuzz/corpus/docker_config/regression-auth-padding).
TEST(FuzzRegressions, DockerConfigAuthOfOnlyPaddingIsNotBase64) {
  const auto config = auth::parse_docker_config(
      R"({"auths":{"http://localhost:5000/v2/":{"auth":"="}}})", "config.json");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "AUTH_FAILED");
  EXPECT_EQ(config.error().message,
            "docker config config.json: auths[\"http://localhost:5000/v2/\"].auth is not base64 of "
            "username:password");
}

}  // namespace
}  // namespace imagegate
