// Tag templates: rendering {prefix}/{full_sha}/{short_sha} and the semantic-version placeholders
// {version}/{major}/{minor}/{patch}, and the checks on what the command line says is deployed:
// environment (with its aliases), commit SHA, version.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/manifest.hpp"

namespace imagegate::manifest {

inline constexpr std::size_t kShortShaLength = 7;

// A valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(std::string_view tag);

// Placeholders a template uses that are not {prefix}, {full_sha}, {short_sha}, {version},
// {major}, {minor} or {patch}; also reports an unbalanced brace as "{" or "}".
std::vector<std::string> unknown_placeholders(std::string_view tmpl);

// A SemVer 2.0 version from --version: a leading "v" is dropped.
struct Version {
  std::string text;  // without the "v", e.g. "1.2.3-rc.1"
  std::string major, minor, patch;
  bool prerelease = false;
};

// Throws UsageError unless raw (after a leading "v") is a SemVer 2.0 version.
Version parse_version(std::string_view raw);

// What one invocation deploys. sha and version are empty when not given.
struct DeployTarget {
  std::string env;  // canonical: a key of tagging.prefixes
  std::string prefix;
  std::string sha;
  std::optional<Version> version;
};

std::string render_tag(std::string_view tmpl, std::string_view prefix, std::string_view full_sha);
// nullopt when the template names a placeholder the target cannot fill, or {major}/{minor} of
// a prerelease (a release candidate never moves the "1" or "1.2" tags).
std::optional<std::string> render_tag(std::string_view tmpl, const DeployTarget& target);

// Throws UsageError unless sha is 40 (or 64) lower-case hex; the value is shown escaped.
void require_valid_sha(std::string_view sha);

// The canonical environment for --env / DEPLOY_ENV: trimmed, case-insensitive, either a key of
// tagging.prefixes or its prefix value ("prod", "PRODUCTION", " stage " in the afu9 example).
// Throws UsageError (quoting the raw value and listing the accepted names) when it is empty,
// unknown, or names more than one environment.
std::string canonical_environment(const Tagging& tagging, std::string_view raw);

// canonical_environment, then its prefix.
const std::string& require_prefix(const Tagging& tagging, std::string_view env);

// Checks env, sha and version together (every problem in one UsageError): the sha is required
// by the git-sha strategy and by {full_sha}/{short_sha}, the version by the version
// placeholders.
DeployTarget resolve_target(const Tagging& tagging, std::string_view env, std::string_view sha,
                            std::string_view version = {});

// Every tag a build of the target must carry, in template order, without duplicates.
std::vector<std::string> expected_tags(const Tagging& tagging, const DeployTarget& target);
std::vector<std::string> expected_tags(const Tagging& tagging, std::string_view env,
                                       std::string_view sha);

}  // namespace imagegate::manifest
