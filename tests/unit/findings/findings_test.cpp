#include "findings/findings.hpp"

#include <gtest/gtest.h>

namespace imagegate::findings {
namespace {

TEST(Findings, CountsErrorsAndWarningsSeparately) {
  Findings f;
  EXPECT_FALSE(f.has_errors());
  f.warning("TAG_MISSING", "a", "t", "m");
  EXPECT_FALSE(f.has_errors());
  f.error("TAG_MISSING", "b", "t", "m");
  EXPECT_TRUE(f.has_errors());
  EXPECT_EQ(f.count(Severity::kWarning), 1u);
  EXPECT_EQ(f.for_image("b").size(), 1u);
}

}  // namespace
}  // namespace imagegate::findings
