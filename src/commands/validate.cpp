#include "commands/validate.hpp"

#include <fmt/format.h>

#include <iostream>

#include "util/text.hpp"

namespace imagegate::commands {

CLI::App* add_validate_command(CLI::App& app, ValidateOptions& options) {
  auto* cmd = app.add_subcommand(
      "validate", "Check the images manifest: schema, files in the repository, consistency");
  cmd->footer(
      "Examples:\n  imagegate validate -m images-manifest.json\n"
      "  imagegate validate -m images-manifest.json --report junit=validate.xml \\\n"
      "    --report markdown=\"$GITHUB_STEP_SUMMARY\"\n\n"
      "Exit codes: 0 valid, 1 invalid (every finding listed), 2 manifest missing or unreadable.");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  return cmd;
}

int run_validate(const ValidateOptions& options) {
  const auto loaded = load_manifest(options.common, true);
  const bool valid = !loaded.findings.has_errors();
  nlohmann::json doc = {{"command", "validate"},
                        {"manifest", loaded.manifest.path.string()},
                        {"manifestSha256", loaded.manifest.sha256},
                        {"root", loaded.root.string()},
                        {"valid", valid},
                        {"images", loaded.manifest.images.size()},
                        {"findings", report::findings_json(loaded.findings)}};
  if (options.common.output == "json") {
    std::cout << doc.dump(2) << "\n";
  } else {
    const auto style = stdout_style(options.common);
    print_findings_text(loaded.findings, options.common);
    const std::string where = util::escape_display(loaded.manifest.path.string());
    if (valid) {
      std::cout << style.green("✓ valid") << ": " << where << " (" << loaded.manifest.images.size()
                << " images, " << loaded.manifest.tagging.templates.size() << " tag templates"
                << (loaded.findings.empty() ? "" : ", " + report::summary_counts(loaded.findings))
                << ")\n";
    } else {
      std::cout << style.red("✗ invalid") << ": " << where << " ("
                << report::summary_counts(loaded.findings) << ")\n";
    }
  }
  emit_reports(options.common,
               {"validate", loaded.findings, std::nullopt, valid ? "pass" : "fail", doc},
               options.common.output == "json");
  return exit_code_for(loaded.findings);
}

}  // namespace imagegate::commands
