// `imagegate gate`: before the deploy, prove every required image was pushed with every expected
// tag, all tags on one digest, on the required platforms; write the evidence.
#pragma once

#include <optional>

#include "commands/common.hpp"
#include "provenance/provenance.hpp"
#include "registry/factory.hpp"

namespace imagegate::commands {

// Registry and network options shared by gate and verify.
struct RegistryCliOptions {
  std::string registry;  // --registry URL
  // --concurrency: when given, the bound for every origin; else 16 on HTTP/1.1, 100 on HTTP/2.
  std::optional<int> concurrency;
  std::string timeout = "120s";  // overall
  std::string connect_timeout = "5s";
  std::string ca_file;
  std::string region;
  std::string endpoint_url;
  std::string registry_profile;  // --registry-profile / IMAGEGATE_REGISTRY_PROFILE (ECR only)
};

void add_registry_options(CLI::App& app, RegistryCliOptions& options);

// The registry to open: --registry, else the manifest's default; network options checked.
// Throws UsageError for a bad value.
registry::RegistrySettings registry_settings(const RegistryCliOptions& options,
                                             const manifest::Manifest& manifest, int verbose);

struct GateOptions {
  CommonOptions common;
  std::string env;
  std::string sha;
  std::string version;
  std::vector<std::string> features;
  RegistryCliOptions registry;
  std::string evidence_out;
  bool github_output = false;        // verdict, digest-<id>, image-<id> to $GITHUB_OUTPUT
  provenance::CliPolicy provenance;  // --key, --require-attestation, --revision
  std::string max_severity;          // --max-severity: the scan gate (overrides the manifest)
};

CLI::App* add_gate_command(CLI::App& app, GateOptions& options);
int run_gate(const GateOptions& options);

}  // namespace imagegate::commands
