// Error values shared by every layer: lower layers return std::expected<T, Error>;
// UsageError is the one exception, thrown for bad arguments/input and mapped to exit 2 in main.
#pragma once

#include <expected>
#include <stdexcept>
#include <string>

namespace imagegate {

// Process exit codes: the contract CI scripts branch on.
enum ExitCode : int {
  kExitOk = 0,      // everything checked holds
  kExitFailed = 1,  // a check failed or could not be completed (fail closed)
  kExitUsage = 2,   // usage or input error
};

// A failure with a stable finding code (e.g. "UNREACHABLE", "AUTH_FAILED", "BAD_RESPONSE").
struct Error {
  std::string code;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string code, std::string message) {
  return std::unexpected(Error{std::move(code), std::move(message)});
}

// Thrown for usage or input errors (exit code 2); the message names the argument and what is
// expected.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace imagegate
