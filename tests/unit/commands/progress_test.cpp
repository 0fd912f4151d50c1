#include "commands/progress.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace imagegate::commands {
namespace {

using std::chrono::milliseconds;

TEST(ProgressLine, ShownAfterTheDelayThenCleared) {
  ::testing::internal::CaptureStderr();
  {
    const ProgressLine line(" checking 12 tags in 4 repositories…", true, 10);
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "\r checking 12 tags in 4 repositories…\r\x1b[K");
}

TEST(ProgressLine, NothingWhenTheWorkEndsFirst) {
  ::testing::internal::CaptureStderr();
  { const ProgressLine line("slow", true, 10000); }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// Disabled (stderr is no terminal, or -v prints requests): never a byte, however long it takes.
TEST(ProgressLine, NothingWhenDisabled) {
  ::testing::internal::CaptureStderr();
  {
    const ProgressLine line("slow", false, 1);
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace imagegate::commands
