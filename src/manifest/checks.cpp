// Semantic checks the schema cannot express: the manifest against the repository it lives in
// (files inside the root, no escapes through `..` or symlinks), cross-field consistency and the
// tag templates rendered for a real SHA.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "manifest/manifest.hpp"
#include "manifest/tagging.hpp"
#include "util/text.hpp"

namespace imagegate::manifest {
namespace {

namespace fs = std::filesystem;

std::string image_pointer(const Image& image, std::string_view field) {
  return fmt::format("/images/{}/{}", image.index, field);
}

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

enum class Kind { kFile, kDirectory };

// Checks that `value` names an existing file/directory inside root; records findings.
void check_path(const Image& image, std::string_view field, const std::string& value, Kind kind,
                const fs::path& root, findings::Findings& findings) {
  if (value.empty()) return;  // the schema reports it
  const std::string subject = image_pointer(image, field);
  const std::string shown = util::quote(value);
  const fs::path relative(value);
  if (relative.is_absolute()) {
    findings.error("PATH_ABSOLUTE", image.id, subject,
                   fmt::format("{} {} is absolute; expected a path relative to the root {}", field,
                               shown, util::quote(root.string())));
    return;
  }
  const fs::path normal = relative.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") {
    findings.error(
        "PATH_ESCAPE", image.id, subject,
        fmt::format("{} {} points outside the root {}", field, shown, util::quote(root.string())));
    return;
  }
  std::error_code ec;
  const fs::path root_real = fs::weakly_canonical(root, ec);
  const fs::path full = root / normal;
  if (!fs::exists(fs::symlink_status(full, ec)) && !fs::exists(full, ec)) {
    findings.error(kind == Kind::kFile ? "DOCKERFILE_MISSING" : "CONTEXT_MISSING", image.id,
                   subject,
                   fmt::format("{} {} does not exist; expected a {} inside the root {}", field,
                               shown, kind == Kind::kFile ? "regular file" : "directory",
                               util::quote(root.string())));
    return;
  }
  const fs::path real = fs::weakly_canonical(full, ec);
  if (ec || !is_within(real, root_real)) {
    findings.error(
        "PATH_ESCAPE", image.id, subject,
        fmt::format("{} {} resolves to {} (through a symbolic link), outside the root {}", field,
                    shown, util::quote(real.string()), util::quote(root.string())));
    return;
  }
  const auto status = fs::status(real, ec);
  if (kind == Kind::kFile && !fs::is_regular_file(status)) {
    findings.error("DOCKERFILE_NOT_FILE", image.id, subject,
                   fmt::format("{} {} is not a regular file", field, shown));
  } else if (kind == Kind::kDirectory && !fs::is_directory(status)) {
    findings.error("CONTEXT_NOT_DIRECTORY", image.id, subject,
                   fmt::format("{} {} is not a directory", field, shown));
  }
}

void check_unique(const Manifest& m, std::string_view field, const char* code,
                  std::string Image::*member, findings::Findings& findings) {
  std::map<std::string, const Image*> seen;
  for (const auto& image : m.images) {
    const std::string& value = image.*member;
    if (value.empty()) continue;
    const auto [it, inserted] = seen.emplace(value, &image);
    if (!inserted) {
      findings.error(code, image.id, image_pointer(image, field),
                     fmt::format("{} {} is used by images[{}] and images[{}]; it must be unique",
                                 field, util::quote(value), it->second->index, image.index));
    }
  }
}

void check_repositories(const Manifest& m, findings::Findings& findings) {
  if (!m.ecr_repositories) return;
  std::set<std::string> names;
  for (const auto& image : m.images) {
    if (!image.name.empty()) names.insert(image.name);
  }
  const std::set<std::string> repos(m.ecr_repositories->begin(), m.ecr_repositories->end());
  for (const auto& image : m.images) {
    if (!image.name.empty() && !repos.contains(image.name)) {
      findings.error("REPOSITORY_UNLISTED", image.id, image_pointer(image, "name"),
                     fmt::format("image name {} is not listed in ecrRepositories; add it there",
                                 util::quote(image.name)));
    }
  }
  for (std::size_t i = 0; i < m.ecr_repositories->size(); ++i) {
    const auto& repo = (*m.ecr_repositories)[i];
    if (!names.contains(repo)) {
      findings.error("REPOSITORY_UNUSED", "", fmt::format("/ecrRepositories/{}", i),
                     fmt::format("repository {} in ecrRepositories belongs to no image; remove it "
                                 "or add an image named so",
                                 util::quote(repo)));
    }
  }
}

void check_tagging(const Manifest& m, findings::Findings& findings) {
  const Tagging& t = m.tagging;
  if (!t.strategy.empty() && t.strategy != "git-sha" && t.strategy != "semantic-version") {
    findings.error(
        "UNKNOWN_STRATEGY", "", "/tagging/strategy",
        fmt::format("tagging strategy {} is unknown; expected \"git-sha\" or \"semantic-version\"",
                    util::quote(t.strategy)));
  }
  for (const auto& [env, prefix] : t.prefixes) {
    // A prefix starts every tag, so it must itself be a valid tag.
    if (!is_valid_tag(prefix)) {
      findings.error("BAD_PREFIX", "", "/tagging/prefixes/" + env,
                     fmt::format("prefix {} of environment {} is not a valid tag start; expected "
                                 "[A-Za-z0-9_][A-Za-z0-9_.-]*",
                                 util::quote(prefix), util::quote(env)));
    }
  }
  DeployTarget sample{"", "", std::string(40, 'f'), parse_version("1.2.3")};
  bool any_unique = false;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < t.templates.size(); ++i) {
    const auto& tmpl = t.templates[i];
    const std::string subject = fmt::format("/tagging/alwaysTag/{}", i);
    if (!seen.insert(tmpl).second) {
      findings.error("DUPLICATE_TEMPLATE", "", subject,
                     fmt::format("template {} is listed twice", util::quote(tmpl)));
    }
    const auto unknown = unknown_placeholders(tmpl);
    if (!unknown.empty()) {
      findings.error(
          "UNKNOWN_PLACEHOLDER", "", subject,
          fmt::format("template {} uses {}; known placeholders are {{prefix}}, "
                      "{{full_sha}}, {{short_sha}}, {{version}}, {{major}}, {{minor}}, {{patch}}",
                      util::quote(tmpl), util::escape_display(util::join(unknown, ", "))));
      continue;
    }
    if (tmpl.find("{full_sha}") != std::string::npos ||
        tmpl.find("{version}") != std::string::npos) {
      any_unique = true;
    }
    for (const auto& [env, prefix] : t.prefixes) {
      if (!is_valid_tag(prefix)) continue;
      sample.prefix = prefix;
      const std::string tag = render_tag(tmpl, sample).value_or(tmpl);
      if (!is_valid_tag(tag)) {
        findings.error(
            "BAD_TAG", "", subject,
            fmt::format("template {} renders to {} ({} characters) for environment {}; a tag must "
                        "match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}",
                        util::quote(tmpl), util::quote(tag), tag.size(), util::quote(env)));
        break;
      }
    }
  }
  if (!t.templates.empty() && !any_unique) {
    findings.error("NO_FULL_SHA_TEMPLATE", "", "/tagging/alwaysTag",
                   "no template contains {full_sha} or {version}; without one two builds could "
                   "share every tag");
  }
}

// conditionalOn.environments must name environments the manifest has, or the image would be
// left out everywhere by a typo.
void check_conditions(const Manifest& m, findings::Findings& findings) {
  for (const auto& image : m.images) {
    if (!image.only_environments) continue;
    for (std::size_t i = 0; i < image.only_environments->size(); ++i) {
      const auto& env = (*image.only_environments)[i];
      if (m.tagging.prefix_for(env) != nullptr) continue;
      std::vector<std::string> known;
      for (const auto& [name, prefix] : m.tagging.prefixes) known.push_back(util::quote(name));
      findings.error("UNKNOWN_ENVIRONMENT", image.id,
                     fmt::format("/images/{}/conditionalOn/environments/{}", image.index, i),
                     fmt::format("conditionalOn names environment {}, which is not a key of "
                                 "tagging.prefixes; known: {}",
                                 util::quote(env), util::join(known, ", ")));
    }
  }
}

}  // namespace

void check_semantics(const Manifest& manifest, const std::filesystem::path& root,
                     findings::Findings& findings, bool check_files) {
  for (const auto& image : manifest.images) {
    if (!check_files) break;
    check_path(image, "dockerfile", image.dockerfile, Kind::kFile, root, findings);
    check_path(image, "context", image.context, Kind::kDirectory, root, findings);
  }
  check_unique(manifest, "id", "DUPLICATE_ID", &Image::id, findings);
  check_unique(manifest, "name", "DUPLICATE_NAME", &Image::name, findings);
  check_unique(manifest, "taskDefContainerName", "DUPLICATE_CONTAINER", &Image::container,
               findings);
  check_repositories(manifest, findings);
  check_tagging(manifest, findings);
  check_conditions(manifest, findings);
}

void select_images(Manifest& manifest, std::string_view env,
                   const std::vector<std::string>& features) {
  std::vector<Image> kept;
  kept.reserve(manifest.images.size());
  for (auto& image : manifest.images) {
    std::string reason;
    if (image.only_environments) {
      const auto& envs = *image.only_environments;
      if (std::find(envs.begin(), envs.end(), env) == envs.end()) {
        std::vector<std::string> quoted;
        for (const auto& e : envs) quoted.push_back(util::quote(e));
        reason = envs.empty() ? "conditionalOn.environments is empty: excluded everywhere"
                              : fmt::format("conditionalOn.environments is {}, not {}",
                                            util::join(quoted, ", "), util::quote(env));
      }
    }
    if (reason.empty() && !image.only_feature.empty() &&
        std::find(features.begin(), features.end(), image.only_feature) == features.end()) {
      reason =
          fmt::format("conditionalOn.feature {} is not enabled (--feature or IMAGEGATE_FEATURES)",
                      util::quote(image.only_feature));
    }
    if (reason.empty()) {
      kept.push_back(std::move(image));
    } else {
      manifest.excluded.push_back({image.id, image.container, std::move(reason)});
    }
  }
  manifest.images = std::move(kept);
}

}  // namespace imagegate::manifest
