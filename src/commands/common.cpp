#include "commands/common.hpp"

#include <fmt/format.h>

#include <iostream>

#include "util/error.hpp"

namespace imagegate::commands {

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
}

void add_env_sha_options(CLI::App& app, std::string& env, std::string& sha) {
  app.add_option("--env", env, "Deploy environment, a key of tagging.prefixes")
      ->envname("DEPLOY_ENV");
  app.add_option("--sha", sha, "Full commit SHA of the build (40 or 64 lower-case hex)")
      ->envname("GIT_SHA");
}

LoadedManifest load_manifest(const CommonOptions& options) {
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
  out.findings = manifest::validate(out.manifest, out.root);
  return out;
}

report::Style stdout_style(const CommonOptions& options) {
  return report::detect_style(stdout, options.no_color);
}

void print_findings_text(const report::Findings& findings, const CommonOptions& options) {
  std::cout << report::render_findings(findings, stdout_style(options));
}

int exit_code_for(const report::Findings& findings) {
  return findings.has_errors() ? kExitFailed : kExitOk;
}

}  // namespace imagegate::commands
