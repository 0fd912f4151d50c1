// `imagegate verify`: does a deploy use exactly this deploy's images? Offline against a task
// definition file, or online against ECS services (rollout, primary task definition, running
// tasks' digests).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "commands/common.hpp"
#include "deploy/expectations.hpp"

namespace imagegate::commands {

struct VerifyOptions {
  CommonOptions common;
  std::string env;
  std::string sha;
  std::string version;
  std::vector<std::string> features;  // default: IMAGEGATE_FEATURES, else the evidence's
  std::vector<std::string> clusters;  // ECS_CLUSTER when not given and no --task-def
  std::vector<std::string> services;  // ECS_SERVICE (comma separated) likewise
  std::string task_def;
  std::string evidence;
  std::string wait;  // DURATION, e.g. "10m", "90s"
  std::string region;
  std::string endpoint_url;
  std::string registry;          // without --evidence: where the expected digests are resolved
  std::string registry_profile;  // --registry-profile: AWS profile of the registry side
  std::string ca_file;
  std::vector<std::string> allow_unmanaged;
  bool keep_absent_optional = false;
};

CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options);

// `resolver` gives the expected digest of an image when no evidence is given (the registry
// seam); without it, running digests are DIGEST_UNVERIFIED.
int run_verify(const VerifyOptions& options, const deploy::DigestResolver& resolver = {});

}  // namespace imagegate::commands
