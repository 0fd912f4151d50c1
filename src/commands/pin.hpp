// `imagegate pin`: rewrites a task definition so every managed container names the digest the
// gate verified (<repositoryUri>@<digest> from the evidence), ready for register-task-definition.
#pragma once

#include <string>
#include <vector>

#include "commands/common.hpp"

namespace imagegate::commands {

struct PinOptions {
  CommonOptions common;
  std::string evidence;
  std::string task_def;
  std::string out;                    // -o FILE; empty or "-": stdout
  std::string env;                    // optional; when given it must match the evidence
  std::string sha;                    // optional; when given it must match the evidence
  std::vector<std::string> features;  // default: IMAGEGATE_FEATURES, else the evidence's
  std::vector<std::string> allow_unmanaged;
  bool keep_absent_optional = false;
};

CLI::App* add_pin_command(CLI::App& app, PinOptions& options);

// Exit 0 with the pinned document written; 1 with every finding listed and nothing written
// anywhere (an existing -o file is left as it was); 2 for unusable arguments or input files.
int run_pin(const PinOptions& options);

}  // namespace imagegate::commands
