// Tag templates: rendering {prefix}/{full_sha}/{short_sha}, and the checks on the deploy
// environment and commit SHA given on the command line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "manifest/manifest.hpp"

namespace imagegate::manifest {

inline constexpr std::size_t kShortShaLength = 7;

// A valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(std::string_view tag);

// Placeholders a template uses that are not {prefix}, {full_sha} or {short_sha}; also reports
// an unbalanced brace as "{" or "}".
std::vector<std::string> unknown_placeholders(std::string_view tmpl);

std::string render_tag(std::string_view tmpl, std::string_view prefix, std::string_view full_sha);

// Throws UsageError unless sha is 40 (or 64) lower-case hex; the value is shown escaped.
void require_valid_sha(std::string_view sha);

// Throws UsageError unless env is a key of tagging.prefixes (the message lists them); returns
// its prefix.
const std::string& require_prefix(const Tagging& tagging, std::string_view env);

// Every tag a build of `env` at `sha` must carry, in template order, without duplicates.
std::vector<std::string> expected_tags(const Tagging& tagging, std::string_view env,
                                       std::string_view sha);

}  // namespace imagegate::manifest
