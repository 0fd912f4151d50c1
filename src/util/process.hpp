// Runs a helper program without a shell (credential helpers, credential_process): argv as given,
// input on stdin, stdout captured up to a cap, stderr discarded (a helper's stderr may hold
// secrets and is never shown), killed at a deadline. The output is for the caller to parse,
// never to print.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace imagegate::util {

struct ProcessRun {
  int exit_status = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  bool output_too_large = false;
  std::string output;  // stdout
};

// argv[0] is looked up on PATH when it has no '/'. Err: the program cannot be started
// (message: "cannot be started" or "cannot create a pipe", for the caller to prefix).
std::expected<ProcessRun, std::string> run_process(const std::vector<std::string>& argv,
                                                   std::string_view input,
                                                   std::chrono::milliseconds timeout,
                                                   std::size_t max_output);

}  // namespace imagegate::util
