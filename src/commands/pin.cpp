#include "commands/pin.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "deploy/expectations.hpp"
#include "deploy/task_definition.hpp"
#include "evidence/evidence.hpp"
#include "manifest/tagging.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

namespace imagegate::commands {
namespace {

// Input files that cannot be used are usage/input errors (exit 2), not failed checks.
template <typename T>
T input_or_throw(Result<T> result) {
  if (!result) {
    throw UsageError(fmt::format("{}: {}", result.error().code, result.error().message));
  }
  return std::move(*result);
}

void print_report(std::ostream& out, std::FILE* stream, const findings::Findings& findings,
                  const CommonOptions& common, const std::string& summary, bool ok) {
  if (common.output == "json") {
    nlohmann::json doc = {{"verdict", ok ? "pass" : "fail"},
                          {"summary", summary},
                          {"findings", report::findings_json(findings)}};
    out << doc.dump(2) << "\n";
    return;
  }
  const auto style = report::detect_style(stream, common.no_color);
  out << report::render_findings(findings, style);
  out << (ok ? style.green(summary) : style.red(summary)) << "\n";
}

}  // namespace

CLI::App* add_pin_command(CLI::App& app, PinOptions& options) {
  auto* cmd = app.add_subcommand(
      "pin", "Rewrite a task definition so each container names its verified digest");
  cmd->footer(
      "Example:\n  imagegate pin --evidence evidence.json --task-def task-definition.json "
      "-o pinned.json\n"
      "  aws ecs register-task-definition --cli-input-json file://pinned.json\n"
      "Without -o the pinned document goes to stdout and the report to stderr. On failure "
      "nothing is written anywhere.");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  cmd->add_option("--evidence", options.evidence, "Evidence written by `imagegate gate`")
      ->required();
  cmd->add_option("--task-def", options.task_def,
                  "Task definition: register-task-definition input or describe-task-definition "
                  "output ('-' for stdin)")
      ->required();
  cmd->add_option("-o,--out", options.out,
                  "Write the pinned task definition here (default stdout)");
  add_env_sha_options(*cmd, options.env, options.sha);
  add_feature_version_options(*cmd, options.features, nullptr);
  cmd->add_option("--allow-unmanaged", options.allow_unmanaged,
                  "A container no manifest image maps to, kept as is (repeatable)");
  cmd->add_flag("--keep-absent-optional", options.keep_absent_optional,
                "Keep the current image of optional images absent from the evidence");
  return cmd;
}

int run_pin(const PinOptions& options) {
  auto loaded = load_manifest(options.common);
  if (!options.sha.empty()) manifest::require_valid_sha(options.sha);
  const std::string env =
      options.env.empty() ? std::string()
                          : manifest::canonical_environment(loaded.manifest.tagging, options.env);
  const auto evidence = input_or_throw(evidence::load(options.evidence));
  // The images this deploy has: conditionalOn for the environment and features given, else
  // those the gate used (the evidence carries both).
  auto features = enabled_features(options.features);
  if (features.empty()) features = evidence.features;
  const std::string selected_env = env.empty() ? evidence.env : env;
  if (loaded.manifest.tagging.prefix_for(selected_env) != nullptr) {
    manifest::select_images(loaded.manifest, selected_env, features);
  }
  auto task_definition = input_or_throw(deploy::load_task_definition(options.task_def));
  auto expectations =
      deploy::build_expectations(loaded.manifest, {}, &evidence,
                                 {options.allow_unmanaged.begin(), options.allow_unmanaged.end()});
  deploy::check_allowed_unmanaged(expectations);

  const bool to_stdout = options.out.empty() || options.out == "-";
  std::ostream& report_out = to_stdout ? std::cerr : std::cout;
  std::FILE* report_stream = to_stdout ? stderr : stdout;

  findings::Findings findings = loaded.findings;
  deploy::check_evidence(evidence, loaded.manifest, env, options.sha, findings);
  deploy::pin_containers(task_definition, expectations, options.keep_absent_optional, findings);

  if (findings.has_errors()) {
    print_report(report_out, report_stream, findings, options.common,
                 fmt::format("pin failed ({}); nothing written", report::summary_counts(findings)),
                 false);
    emit_reports(options.common, {"pin", findings, evidence, "fail", std::nullopt}, to_stdout);
    return kExitFailed;
  }
  const auto text = deploy::dump_document(deploy::registration_input(task_definition));
  std::size_t pinned = 0;
  for (const auto& c : task_definition.containers()) {
    const auto* image = expectations.for_container(c.name);
    if (image != nullptr && image->evidence_status == "pass") ++pinned;
  }
  if (to_stdout) {
    std::cout << text << std::flush;
  } else {
    if (!util::write_file_atomically(options.out, text)) {
      throw UsageError(fmt::format("-o {} cannot be written", util::quote(options.out)));
    }
  }
  print_report(
      report_out, report_stream, findings, options.common,
      fmt::format("pinned {} container{} to verified digests{}", pinned, pinned == 1 ? "" : "s",
                  to_stdout ? "" : " -> " + util::escape_display(options.out)),
      true);
  emit_reports(options.common, {"pin", findings, evidence, "pass", std::nullopt}, to_stdout);
  return kExitOk;
}

}  // namespace imagegate::commands
