#include "commands/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace imagegate::commands {

ProgressLine::ProgressLine(std::string text, bool enabled, int delay_ms) : text_(std::move(text)) {
  if (!enabled) return;
  thread_ = std::thread([this, delay_ms] {
    std::unique_lock lock(mutex_);
    if (done_cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return done_; })) {
      return;
    }
    std::fprintf(stderr, "\r%s", text_.c_str());
    std::fflush(stderr);
    done_cv_.wait(lock, [this] { return done_; });
    // Erase to the end of the line so the command's own output starts on a clean line.
    std::fprintf(stderr, "\r\x1b[K");
    std::fflush(stderr);
  });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  done_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ProgressLine::stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace imagegate::commands
