// A progress line for slow interactive runs: after a second, "checking N tags in M repositories…"
// on stderr until the work is done, then the line is cleared. Only when stderr is a terminal, so
// it never lands in CI logs, redirected output or JSON.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace imagegate::commands {

class ProgressLine {
 public:
  // Shows `text` after `delay_ms` unless finished first; does nothing when `enabled` is false.
  ProgressLine(std::string text, bool enabled, int delay_ms = 1000);
  ~ProgressLine();  // clears the line if it was shown
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // True when stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  std::string text_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace imagegate::commands
