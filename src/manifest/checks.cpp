// Semantic checks the schema cannot express: the manifest against the repository it lives in
// (files inside the root, no escapes through `..` or symlinks), cross-field consistency and the
// tag templates rendered for a real SHA.
#include <fmt/format.h>

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
                const fs::path& root, report::Findings& findings) {
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
                  std::string Image::*member, report::Findings& findings) {
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

void check_repositories(const Manifest& m, report::Findings& findings) {
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

void check_tagging(const Manifest& m, report::Findings& findings) {
  const Tagging& t = m.tagging;
  if (!t.strategy.empty() && t.strategy != "git-sha") {
    findings.error("UNKNOWN_STRATEGY", "", "/tagging/strategy",
                   fmt::format("tagging strategy {} is unknown; expected \"git-sha\"",
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
  static const std::string kSampleSha(40, 'f');
  bool any_full_sha = false;
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
                      "{{full_sha}}, {{short_sha}}",
                      util::quote(tmpl), util::escape_display(util::join(unknown, ", "))));
      continue;
    }
    if (tmpl.find("{full_sha}") != std::string::npos) any_full_sha = true;
    for (const auto& [env, prefix] : t.prefixes) {
      if (!is_valid_tag(prefix)) continue;
      const std::string tag = render_tag(tmpl, prefix, kSampleSha);
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
  if (!t.templates.empty() && !any_full_sha) {
    findings.error("NO_FULL_SHA_TEMPLATE", "", "/tagging/alwaysTag",
                   "no template contains {full_sha}; without it two builds could share every tag");
  }
}

}  // namespace

void check_semantics(const Manifest& manifest, const std::filesystem::path& root,
                     report::Findings& findings) {
  for (const auto& image : manifest.images) {
    check_path(image, "dockerfile", image.dockerfile, Kind::kFile, root, findings);
    check_path(image, "context", image.context, Kind::kDirectory, root, findings);
  }
  check_unique(manifest, "id", "DUPLICATE_ID", &Image::id, findings);
  check_unique(manifest, "name", "DUPLICATE_NAME", &Image::name, findings);
  check_unique(manifest, "taskDefContainerName", "DUPLICATE_CONTAINER", &Image::container,
               findings);
  check_repositories(manifest, findings);
  check_tagging(manifest, findings);
}

}  // namespace imagegate::manifest
