#include "commands/common.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::commands {

std::function<void(const std::string& source, bool refresh)> aws_credentials_logger(
    std::string side) {
  return [side = std::move(side)](const std::string& source, bool refresh) {
    std::cerr << fmt::format("AWS credentials for {}{}: {}\n", side, refresh ? " refreshed" : "",
                             util::escape_display(source));
  };
}

void add_common_options(CLI::App& app, CommonOptions& options) {
  app.add_option("-m,--manifest", options.manifest, "Images manifest (JSON)")
      ->envname("IMAGEGATE_MANIFEST")
      ->capture_default_str();
  app.add_option("--root", options.root,
                 "Repository root that Dockerfile and context paths are relative to "
                 "(default: the manifest's folder)");
  app.add_option("--output", options.output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--no-color", options.no_color, "Never colour the output (NO_COLOR is honoured)");
  app.add_flag("-v,--verbose", options.verbose, "Show more detail (repeat for more)");
  app.add_flag("--strict", options.strict,
               "Unknown manifest keys are errors, not warnings (near misses always are)");
}

void add_report_options(CLI::App& app, CommonOptions& options) {
  // Checked while parsing, so a typo exits 2 before anything is contacted.
  app.add_option("--report", options.reports,
                 "Also write a report: FORMAT=PATH, FORMAT one of text, json, junit, markdown, "
                 "github, html; PATH - is stdout; markdown appends (for $GITHUB_STEP_SUMMARY). "
                 "Repeatable")
      ->check([](const std::string& spec) -> std::string {
        try {
          report::parse_report_spec(spec);
          return {};
        } catch (const UsageError& e) {
          return e.what();
        }
      })
      ->allow_extra_args(false);
  app.add_flag("--no-annotations", options.no_annotations,
               "No GitHub workflow annotations, even when GITHUB_ACTIONS=true");
}

void add_env_sha_options(CLI::App& app, std::string& env, std::string& sha) {
  app.add_option("--env", env,
                 "Deploy environment: a key of tagging.prefixes or its prefix, in any case "
                 "(production, prod, PRODUCTION in the afu9 example)")
      ->envname("DEPLOY_ENV");
  app.add_option("--sha", sha, "Full commit SHA of the build (40 or 64 lower-case hex)")
      ->envname("GIT_SHA");
}

void add_feature_version_options(CLI::App& app, std::vector<std::string>& features,
                                 std::string* version) {
  app.add_option("--feature", features,
                 "Enable a feature for conditionalOn.feature (repeatable; default: "
                 "IMAGEGATE_FEATURES, comma separated)")
      ->allow_extra_args(false);
  if (version != nullptr) {
    app.add_option("--version", *version,
                   "Release version for {version}/{major}/{minor}/{patch} (SemVer 2.0; a "
                   "leading v is dropped)");
  }
}

std::vector<std::string> enabled_features(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  std::string joined;
  if (!flags.empty()) {
    joined = util::join(flags, ",");
  } else if (const char* env = std::getenv("IMAGEGATE_FEATURES"); env != nullptr) {
    joined = env;
  }
  std::size_t start = 0;
  while (start <= joined.size()) {
    const auto comma = joined.find(',', start);
    std::string item =
        joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

manifest::DeployTarget select_target(LoadedManifest& loaded, const std::string& env,
                                     const std::string& sha, const std::string& version,
                                     const std::vector<std::string>& features) {
  auto target = manifest::resolve_target(loaded.manifest.tagging, env, sha, version);
  manifest::select_images(loaded.manifest, target.env, features);
  return target;
}

LoadedManifest load_manifest(const CommonOptions& options, bool check_files) {
  auto loaded = manifest::load(options.manifest);
  if (!loaded) {
    throw UsageError(fmt::format("{}: {}", loaded.error().code, loaded.error().message));
  }
  LoadedManifest out{std::move(*loaded), {}, {}};
  if (!options.root.empty()) {
    out.root = options.root;
    std::error_code ec;
    if (!std::filesystem::is_directory(out.root, ec)) {
      throw UsageError(fmt::format("--root '{}' is not a directory", options.root));
    }
  } else {
    out.root = std::filesystem::path(options.manifest).parent_path();
    if (out.root.empty()) out.root = ".";
  }
  out.findings = manifest::validate(out.manifest, out.root, {options.strict, check_files});
  return out;
}

report::Style stdout_style(const CommonOptions& options) {
  return report::detect_style(stdout, options.no_color);
}

void print_findings_text(const findings::Findings& findings, const CommonOptions& options) {
  std::cout << report::render_findings(findings, stdout_style(options));
}

void emit_reports(const CommonOptions& options, const report::ReportInput& input,
                  bool stdout_is_document) {
  report::write_reports(options.reports, input);
  if (options.no_annotations || !report::running_in_github_actions()) return;
  for (const auto& spec : report::parse_report_specs(options.reports)) {
    if (spec.format == "github" && spec.path == "-") return;
  }
  (stdout_is_document ? std::cerr : std::cout) << report::render_annotations(input) << std::flush;
}

int exit_code_for(const findings::Findings& findings) {
  return findings.has_errors() ? kExitFailed : kExitOk;
}

}  // namespace imagegate::commands
