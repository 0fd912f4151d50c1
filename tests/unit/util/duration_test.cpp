#include "util/duration.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace imagegate::util {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsUnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration("90s", "--wait"), milliseconds(90000));
  EXPECT_EQ(parse_duration("10m", "--wait"), milliseconds(600000));
  EXPECT_EQ(parse_duration("1h30m", "--wait"), milliseconds(5400000));
  EXPECT_EQ(parse_duration("500ms", "--wait"), milliseconds(500));
  EXPECT_EQ(parse_duration("120", "--wait"), milliseconds(120000));
  EXPECT_EQ(parse_duration("0s", "--wait"), milliseconds(0));
}

TEST(ParseDuration, RejectsEverythingElse) {
  for (const char* bad : {"", "m", "10 m", "10x", "1.5m", "-5s", "5s10", "10m ", "1000000000s"}) {
    try {
      parse_duration(bad, "--wait");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const imagegate::UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                "--wait '" + std::string(bad) +
                    "' is not a duration; expected e.g. 90s, 10m, 1h30m, 500ms or whole seconds");
    }
  }
  try {
    parse_duration("25h", "--wait");
    ADD_FAILURE() << "accepted 25h";
  } catch (const imagegate::UsageError& e) {
    EXPECT_STREQ(e.what(), "--wait '25h' is longer than 24h");
  }
}

}  // namespace
}  // namespace imagegate::util
