// credential_process in a profile, run as the AWS CLI runs it: the command line split into words
// without a shell (POSIX shlex rules), stdout a JSON document {"Version": 1, "AccessKeyId",
// "SecretAccessKey", "SessionToken"?, "Expiration"?}, stderr discarded, killed after a bounded
// time. A failure is AUTH_FAILED naming the profile and the program, never the output.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.hpp"

namespace imagegate::aws::process {

// Words of a command line as Python's shlex.split (POSIX mode) gives them: blanks separate,
// '...' is literal, "..." keeps \" \\ \$ \` escapes, a backslash outside quotes escapes the next
// character. Err: why it cannot be split (an unclosed quote, a trailing backslash).
std::expected<std::vector<std::string>, std::string> split_command(std::string_view line);

// Runs command for profile (label "profile x") and parses its answer.
Result<Credentials> run(const CredentialChainOptions& options, const std::string& command,
                        const std::string& label);

}  // namespace imagegate::aws::process
