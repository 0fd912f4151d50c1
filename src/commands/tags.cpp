#include "commands/tags.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>

#include "commands/build_args.hpp"
#include "manifest/tagging.hpp"
#include "report/github_output.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::commands {
namespace {

struct ImagePlan {
  manifest::Image image;
  std::string repository;  // [HOST/]name
  std::vector<std::string> references;
  BuildArgs build_args;
};

// What plan() needs from either command's options.
struct PlanRequest {
  std::string_view command;
  const CommonOptions& common;
  const std::string& env;
  const std::string& sha;
  const std::string& version;
  const std::vector<std::string>& features;
  const BuildArgOptions& build_args;
  bool want_build_args;
  bool check_files;
  const std::string& only_image;
  const std::string& host;
};

// A build-arg value for a shell command line: as is when it is safe, else single-quoted.
std::string shell_word(const std::string& value) {
  const bool safe = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
  });
  if (safe) return value;
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string repository_of(const manifest::Image& image, const std::string& host) {
  return host.empty() ? image.name : host + "/" + image.name;
}

// Loads and validates the manifest, checks env and sha, and renders every image's tags.
// Validation errors are printed and returned as exit 1 through `exit_code`.
std::vector<ImagePlan> plan(const PlanRequest& r, std::vector<std::string>& tags, int& exit_code) {
  const auto& common = r.common;
  const auto& only_image = r.only_image;
  const auto& host = r.host;
  auto loaded = load_manifest(common, r.check_files);
  const bool known_image = only_image.empty() || loaded.manifest.find_image(only_image) != nullptr;
  // Usage errors first: they are about the invocation, not the manifest.
  const auto target = select_target(loaded, r.env, r.sha, r.version, enabled_features(r.features));
  tags = manifest::expected_tags(loaded.manifest.tagging, target);
  if (!known_image) {
    throw UsageError(
        fmt::format("--image {} is not an image id of the manifest", util::quote(only_image)));
  }
  if (host.find('/') != std::string::npos || host.find(':') == 0) {
    throw UsageError(fmt::format("--registry-host {} must be HOST[:PORT]", util::quote(host)));
  }
  exit_code = exit_code_for(loaded.findings);
  // stdout is the tags or the matrix, read by scripts: annotations go to stderr.
  emit_reports(common,
               {std::string(r.command), loaded.findings, std::nullopt,
                exit_code == kExitOk ? "pass" : "fail", std::nullopt},
               true);
  if (exit_code != kExitOk || !loaded.findings.empty()) {
    std::cerr << report::render_findings(loaded.findings,
                                         report::detect_style(stderr, common.no_color));
  }
  if (exit_code != kExitOk) {
    std::cerr << "manifest is invalid (" << report::summary_counts(loaded.findings)
              << "); run `imagegate validate`\n";
    return {};
  }
  for (const auto& x : loaded.manifest.excluded) {
    if (common.verbose > 0 || x.id == only_image) {
      std::cerr << "excluded " << util::escape_display(x.id) << ": "
                << util::escape_display(x.reason) << "\n";
    }
  }
  std::vector<ImagePlan> out;
  const BuildArgResolver resolver(r.build_args.given, target);
  std::vector<std::string> problems;
  for (const auto& image : loaded.manifest.images) {
    if (!only_image.empty() && image.id != only_image) continue;
    ImagePlan p{image, repository_of(image, host), {}, {}};
    for (const auto& tag : tags) p.references.push_back(p.repository + ":" + tag);
    if (r.want_build_args) {
      try {
        p.build_args = resolver.values_for(image);
      } catch (const UsageError& e) {
        problems.emplace_back(e.what());
      }
    }
    out.push_back(std::move(p));
  }
  if (!problems.empty()) throw UsageError(util::join(problems, "\n"));
  return out;
}

void add_build_arg_option(CLI::App& cmd, BuildArgOptions& options) {
  cmd.add_option("--build-arg", options.given,
                 "NAME=VALUE for a build argument an image names in buildArgs (repeatable; "
                 "before the environment variable NAME and the values imagegate knows)")
      ->allow_extra_args(false);
}

}  // namespace

CLI::App* add_tags_command(CLI::App& app, TagsOptions& options) {
  auto* cmd = app.add_subcommand("tags", "Print the tags this build must push, per image");
  cmd->footer(
      "Example:\n  imagegate tags --env production --sha $(git rev-parse HEAD) --format docker "
      "--image control-center\n"
      "  -> -t afu9/control-center:prod-<sha> -t afu9/control-center:prod-<short> -t "
      "afu9/control-center:prod-latest");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  add_env_sha_options(*cmd, options.env, options.sha);
  add_feature_version_options(*cmd, options.features, &options.version);
  cmd->add_option("--format", options.format, "text | json | github | docker")
      ->check(CLI::IsMember({"text", "json", "github", "docker"}))
      ->capture_default_str();
  cmd->add_option("--image", options.image, "Only this image id");
  cmd->add_flag("--with-build-args", options.with_build_args,
                "--format docker: also --build-arg NAME=VALUE for the image's buildArgs");
  add_build_arg_option(*cmd, options.build_args);
  cmd->add_option("--registry-host", options.registry_host,
                  "Registry HOST[:PORT] to prefix repositories with");
  return cmd;
}

int run_tags(const TagsOptions& options) {
  std::vector<std::string> tags;
  int exit_code = kExitOk;
  const std::string format = options.common.output == "json" ? "json" : options.format;
  if (options.with_build_args && format != "docker") {
    throw UsageError("--with-build-args applies to --format docker");
  }
  const auto plans = plan(
      {"tags", options.common, options.env, options.sha, options.version, options.features,
       options.build_args, options.with_build_args, false, options.image, options.registry_host},
      tags, exit_code);
  if (exit_code != kExitOk) return exit_code;
  if (format == "json") {
    auto doc = nlohmann::json::array();
    for (const auto& p : plans) {
      doc.push_back({{"id", p.image.id},
                     {"repository", p.repository},
                     {"tags", tags},
                     {"references", p.references}});
    }
    std::cout << doc.dump(2) << "\n";
  } else if (format == "docker") {
    for (const auto& p : plans) {
      std::string line;
      for (const auto& ref : p.references) line += (line.empty() ? "-t " : " -t ") + ref;
      for (const auto& [name, value] : p.build_args) {
        line += " --build-arg " + shell_word(name + "=" + value);
      }
      std::cout << line << "\n";
    }
  } else if (format == "github") {
    report::Outputs outputs;
    std::vector<std::string> all;
    for (const auto& p : plans) {
      outputs.emplace_back("tags-" + p.image.id, util::join(p.references, "\n"));
      all.insert(all.end(), p.references.begin(), p.references.end());
    }
    outputs.emplace_back("tags", util::join(all, "\n"));
    report::append_github_outputs(outputs);
    std::cout << "wrote " << outputs.size() << " outputs to $GITHUB_OUTPUT\n";
  } else {
    for (const auto& p : plans) {
      for (const auto& ref : p.references) std::cout << ref << "\n";
    }
  }
  return kExitOk;
}

CLI::App* add_matrix_command(CLI::App& app, MatrixOptions& options) {
  auto* cmd = app.add_subcommand("matrix", "Print the build matrix (GitHub Actions, bake, JSON)");
  cmd->footer(
      "Example:\n  imagegate matrix --env staging --sha $(git rev-parse HEAD) --format github\n"
      "  -> {\"include\":[{\"id\":\"control-center\",\"dockerfile\":...,\"tags\":...}]}");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  add_env_sha_options(*cmd, options.env, options.sha);
  add_feature_version_options(*cmd, options.features, &options.version);
  add_build_arg_option(*cmd, options.build_args);
  cmd->add_option("--format", options.format, "github | bake | json")
      ->check(CLI::IsMember({"github", "bake", "json"}))
      ->capture_default_str();
  cmd->add_option("--registry-host", options.registry_host,
                  "Registry HOST[:PORT] to prefix repositories with");
  cmd->add_flag("--github-output", options.github_output,
                "Also append the matrix as output `matrix` to $GITHUB_OUTPUT");
  return cmd;
}

int run_matrix(const MatrixOptions& options) {
  std::vector<std::string> tags;
  int exit_code = kExitOk;
  static const std::string kAll;
  const auto plans =
      plan({"matrix", options.common, options.env, options.sha, options.version, options.features,
            options.build_args, true, true, kAll, options.registry_host},
           tags, exit_code);
  if (exit_code != kExitOk) return exit_code;
  nlohmann::json doc;
  if (options.format == "bake") {
    doc["group"]["default"]["targets"] = nlohmann::json::array();
    for (const auto& p : plans) {
      const auto& img = p.image;
      doc["group"]["default"]["targets"].push_back(img.id);
      // Bake resolves a target's dockerfile relative to its context (the bake file reference),
      // the manifest relative to the repository root.
      const auto dockerfile =
          std::filesystem::path(img.dockerfile)
              .lexically_normal()
              .lexically_relative(std::filesystem::path(img.context).lexically_normal())
              .generic_string();
      nlohmann::json target = {
          {"context", img.context}, {"dockerfile", dockerfile}, {"tags", p.references}};
      if (!img.platforms.empty()) target["platforms"] = img.platforms;
      if (!p.build_args.empty()) {
        for (const auto& [name, value] : p.build_args) target["args"][name] = value;
      }
      doc["target"][img.id] = target;
    }
  } else {
    auto list = nlohmann::json::array();
    for (const auto& p : plans) {
      const auto& img = p.image;
      nlohmann::json entry = {{"id", img.id},
                              {"dockerfile", img.dockerfile},
                              {"context", img.context},
                              {"repository", p.repository}};
      if (options.format == "github") {
        // Matrix values feed action inputs that take comma/newline separated lists.
        entry["tags"] = util::join(p.references, ",");
        entry["platforms"] = util::join(img.platforms, ",");
        entry["required"] = img.required;
        // docker/build-push-action's build-args input: one NAME=VALUE per line.
        std::vector<std::string> lines;
        for (const auto& [name, value] : p.build_args) lines.push_back(name + "=" + value);
        entry["build-args"] = util::join(lines, "\n");
      } else {
        entry["name"] = img.name;
        entry["required"] = img.required;
        entry["container"] = img.container;
        entry["platforms"] = img.platforms;
        entry["tags"] = tags;
        entry["references"] = p.references;
        nlohmann::json args = nlohmann::json::object();
        for (const auto& [name, value] : p.build_args) args[name] = value;
        entry["buildArgs"] = args;
      }
      list.push_back(std::move(entry));
    }
    doc = options.format == "github" ? nlohmann::json{{"include", list}} : list;
  }
  const bool compact = options.format == "github";
  std::cout << (compact ? doc.dump() : doc.dump(2)) << "\n";
  if (options.github_output) report::append_github_outputs({{"matrix", doc.dump()}});
  return kExitOk;
}

}  // namespace imagegate::commands
