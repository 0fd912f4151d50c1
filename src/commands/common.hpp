// What every subcommand shares: the manifest/output options, loading + validating the manifest,
// and printing findings in the chosen format.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"
#include "report/findings.hpp"
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
};

// -m/--manifest (IMAGEGATE_MANIFEST), --root, --output, --no-color, -v.
void add_common_options(CLI::App& app, CommonOptions& options);
// --report FORMAT=PATH (repeatable) and --no-annotations; a command that adds them must call
// emit_reports, or the reports asked for would silently not be written.
void add_report_options(CLI::App& app, CommonOptions& options);
// --env (DEPLOY_ENV) and --sha (GIT_SHA).
void add_env_sha_options(CLI::App& app, std::string& env, std::string& sha);

struct LoadedManifest {
  manifest::Manifest manifest;
  std::filesystem::path root;
  report::Findings findings;  // schema + semantic findings
};

// Loads and validates the manifest; throws UsageError (exit 2) when it cannot be loaded.
LoadedManifest load_manifest(const CommonOptions& options);

report::Style stdout_style(const CommonOptions& options);

// Prints findings to stdout as text lines (json output is each command's own document).
void print_findings_text(const report::Findings& findings, const CommonOptions& options);

// Writes every --report, and the GitHub annotations when running in GitHub Actions (unless
// --no-annotations or a `--report github=-` already prints them): to stdout, or to stderr when
// stdout carries a machine-readable document (the runner reads workflow commands from both).
void emit_reports(const CommonOptions& options, const report::ReportInput& input,
                  bool stdout_is_document);

int exit_code_for(const report::Findings& findings);

}  // namespace imagegate::commands
