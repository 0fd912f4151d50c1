// What every subcommand shares: the manifest/output options, loading + validating the manifest,
// and printing findings in the chosen format.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "findings/findings.hpp"
#include "manifest/manifest.hpp"
#include "manifest/tagging.hpp"
#include "report/reports.hpp"
#include "report/text.hpp"

namespace imagegate::commands {

struct CommonOptions {
  std::string manifest = "images-manifest.json";
  std::string root;             // default: the manifest's folder
  std::string output = "text";  // text | json
  bool no_color = false;
  int verbose = 0;
  std::vector<std::string> reports;  // --report FORMAT=PATH, repeatable
  bool no_annotations = false;       // no GitHub annotations even when GITHUB_ACTIONS=true
  bool strict = false;               // unknown manifest keys are errors, not warnings
};

// -v: prints which AWS credential source `side` ("registry", "ECS") uses, by name only.
std::function<void(const std::string& source, bool refresh)> aws_credentials_logger(
    std::string side);

// -m/--manifest (IMAGEGATE_MANIFEST), --root, --output, --no-color, -v.
void add_common_options(CLI::App& app, CommonOptions& options);
// --report FORMAT=PATH (repeatable) and --no-annotations; a command that adds them must call
// emit_reports, or the reports asked for would silently not be written.
void add_report_options(CLI::App& app, CommonOptions& options);
// --env (DEPLOY_ENV) and --sha (GIT_SHA).
void add_env_sha_options(CLI::App& app, std::string& env, std::string& sha);
// --feature NAME (repeatable; IMAGEGATE_FEATURES=a,b when none is given) and, unless null,
// --version (the release version for the semantic-version placeholders).
void add_feature_version_options(CLI::App& app, std::vector<std::string>& features,
                                 std::string* version);

struct LoadedManifest {
  manifest::Manifest manifest;
  std::filesystem::path root;
  findings::Findings findings;  // schema + semantic findings
};

// Loads and validates the manifest; throws UsageError (exit 2) when it cannot be loaded.
// check_files: also check the Dockerfiles and contexts (validate and matrix only).
LoadedManifest load_manifest(const CommonOptions& options, bool check_files = false);

// The features enabled: --feature values, else IMAGEGATE_FEATURES (comma separated).
std::vector<std::string> enabled_features(const std::vector<std::string>& flags);

// What this invocation deploys (canonical environment, sha, version; UsageError for a bad
// one), and the manifest narrowed to the images conditionalOn keeps for it.
manifest::DeployTarget select_target(LoadedManifest& loaded, const std::string& env,
                                     const std::string& sha, const std::string& version,
                                     const std::vector<std::string>& features);

report::Style stdout_style(const CommonOptions& options);

// Prints findings to stdout as text lines (json output is each command's own document).
void print_findings_text(const findings::Findings& findings, const CommonOptions& options);

// Writes every --report, and the GitHub annotations when running in GitHub Actions (unless
// --no-annotations or a `--report github=-` already prints them): to stdout, or to stderr when
// stdout carries a machine-readable document (the runner reads workflow commands from both).
void emit_reports(const CommonOptions& options, const report::ReportInput& input,
                  bool stdout_is_document);

int exit_code_for(const findings::Findings& findings);

}  // namespace imagegate::commands
