// `imagegate validate`: is the manifest well-formed, complete and consistent with the repository?
#pragma once

#include "commands/common.hpp"

namespace imagegate::commands {

struct ValidateOptions {
  CommonOptions common;
};

CLI::App* add_validate_command(CLI::App& app, ValidateOptions& options);
int run_validate(const ValidateOptions& options);

}  // namespace imagegate::commands
