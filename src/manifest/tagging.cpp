#include "manifest/tagging.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::manifest {
namespace {

// SemVer 2.0 (semver.org) by hand: the grammar of its regular expression, without compiling one
// in every process (std::regex cost a seventh of a manifest check).
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
// 0 | [1-9][0-9]*
bool is_numeric_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit) && (s.size() == 1 || s[0] != '0');
}
// A dot-separated list of non-empty [0-9A-Za-z-]+ identifiers; for a prerelease, an all-digit
// identifier has no leading zero.
bool is_identifier_list(std::string_view s, bool prerelease) {
  while (true) {
    const auto dot = s.find('.');
    const std::string_view id = s.substr(0, dot);
    if (id.empty() || !std::all_of(id.begin(), id.end(), is_identifier_char)) return false;
    if (prerelease && std::all_of(id.begin(), id.end(), is_digit) && !is_numeric_identifier(id)) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}
bool split_semver(std::string_view s, Version& v) {
  const auto plus = s.find('+');
  if (plus != std::string_view::npos) {
    if (!is_identifier_list(s.substr(plus + 1), false)) return false;
    s = s.substr(0, plus);
  }
  const auto dash = s.find('-');
  if (dash != std::string_view::npos) {
    if (!is_identifier_list(s.substr(dash + 1), true)) return false;
    v.prerelease = true;
    s = s.substr(0, dash);
  }
  std::string* parts[] = {&v.major, &v.minor, &v.patch};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto dot = i < 2 ? s.find('.') : std::string_view::npos;
    if (i < 2 && dot == std::string_view::npos) return false;
    const std::string_view number = s.substr(0, dot);
    if (!is_numeric_identifier(number)) return false;
    *parts[i] = std::string(number);
    if (i < 2) s.remove_prefix(dot + 1);
  }
  return true;
}

bool is_tag_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

constexpr std::string_view kPlaceholders[] = {"{prefix}", "{full_sha}", "{short_sha}", "{version}",
                                              "{major}",  "{minor}",    "{patch}"};

bool uses(std::string_view tmpl, std::string_view placeholder) {
  return tmpl.find(placeholder) != std::string_view::npos;
}

bool uses_sha(std::string_view tmpl) {
  return uses(tmpl, "{full_sha}") || uses(tmpl, "{short_sha}");
}

bool uses_version(std::string_view tmpl) {
  return uses(tmpl, "{version}") || uses(tmpl, "{major}") || uses(tmpl, "{minor}") ||
         uses(tmpl, "{patch}");
}

std::string lower_trimmed(std::string_view raw) {
  const auto first = raw.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = raw.find_last_not_of(" \t\r\n");
  std::string out(raw.substr(first, last - first + 1));
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  });
  return out;
}

std::string accepted_names(const Tagging& tagging, std::string_view label = "known") {
  std::vector<std::string> keys;
  std::vector<std::string> prefixes;
  for (const auto& [name, prefix] : tagging.prefixes) {
    keys.push_back(util::quote(name));
    prefixes.push_back(util::quote(prefix));
  }
  return fmt::format("{}: {} (or their prefixes {}, in any case)", label, util::join(keys, ", "),
                     util::join(prefixes, ", "));
}

}  // namespace

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_tag_start(tag[0])) return false;
  return std::all_of(tag.begin() + 1, tag.end(),
                     [](char c) { return is_tag_start(c) || c == '.' || c == '-'; });
}

std::vector<std::string> unknown_placeholders(std::string_view tmpl) {
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '}') {
      unknown.emplace_back("}");
      continue;
    }
    if (tmpl[i] != '{') continue;
    const auto end = tmpl.find('}', i);
    if (end == std::string_view::npos) {
      unknown.emplace_back("{");
      break;
    }
    const auto name = tmpl.substr(i, end - i + 1);
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
        std::end(kPlaceholders)) {
      unknown.emplace_back(name);
    }
    i = end;
  }
  return unknown;
}

Version parse_version(std::string_view raw) {
  std::string text(raw);
  if (text.starts_with('v')) text.erase(0, 1);
  Version v;
  if (!split_semver(text, v)) {
    throw UsageError(fmt::format(
        "--version {} is not a semantic version; expected MAJOR.MINOR.PATCH[-PRERELEASE] "
        "(SemVer 2.0, a leading 'v' is dropped), e.g. 1.2.3 or v1.2.3-rc.1",
        util::quote(raw)));
  }
  v.text = std::move(text);
  return v;
}

std::string render_tag(std::string_view tmpl, std::string_view prefix, std::string_view full_sha) {
  DeployTarget target{"", std::string(prefix), std::string(full_sha), std::nullopt};
  if (const auto tag = render_tag(tmpl, target)) return *tag;
  return std::string(tmpl);
}

std::optional<std::string> render_tag(std::string_view tmpl, const DeployTarget& target) {
  if (uses_sha(tmpl) && target.sha.empty()) return std::nullopt;
  if (uses_version(tmpl) && !target.version) return std::nullopt;
  if (target.version && target.version->prerelease &&
      (uses(tmpl, "{major}") || uses(tmpl, "{minor}"))) {
    return std::nullopt;
  }
  std::string out;
  const std::string_view sha = target.sha;
  const auto short_sha = sha.substr(0, std::min(kShortShaLength, sha.size()));
  const Version empty;
  const Version& v = target.version ? *target.version : empty;
  const std::pair<std::string_view, std::string_view> values[] = {
      {"{prefix}", target.prefix}, {"{full_sha}", sha},  {"{short_sha}", short_sha},
      {"{version}", v.text},       {"{major}", v.major}, {"{minor}", v.minor},
      {"{patch}", v.patch}};
  for (std::size_t i = 0; i < tmpl.size();) {
    bool replaced = false;
    for (const auto& [name, value] : values) {
      if (tmpl.substr(i).starts_with(name)) {
        out += value, i += name.size(), replaced = true;
        break;
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

void require_valid_sha(std::string_view sha) {
  if (sha.empty()) {
    throw UsageError("--sha (or GIT_SHA) is required: the full commit SHA of the build");
  }
  if ((sha.size() != 40 && sha.size() != 64) || !is_lower_hex(sha)) {
    throw UsageError(
        fmt::format("--sha {} is not a commit SHA; expected 40 (or 64) lower-case hex characters",
                    util::quote(sha)));
  }
}

std::string canonical_environment(const Tagging& tagging, std::string_view raw) {
  if (lower_trimmed(raw).empty()) {
    throw UsageError(fmt::format("--env (or DEPLOY_ENV) is required; {}",
                                 accepted_names(tagging, "known environments")));
  }
  // Exactly the key: what the manifest says wins, even where an alias would be ambiguous.
  if (tagging.prefix_for(raw) != nullptr) return std::string(raw);
  const std::string wanted = lower_trimmed(raw);
  std::vector<std::string> matches;
  for (const auto& [name, prefix] : tagging.prefixes) {
    if (lower_trimmed(name) == wanted || lower_trimmed(prefix) == wanted) matches.push_back(name);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) {
    throw UsageError(fmt::format("--env {} is not an environment of tagging.prefixes; {}",
                                 util::quote(raw), accepted_names(tagging)));
  }
  std::vector<std::string> quoted;
  for (const auto& m : matches) quoted.push_back(util::quote(m));
  throw UsageError(fmt::format(
      "--env {} is ambiguous: it names the environments {}; give the environment's exact key",
      util::quote(raw), util::join(quoted, " and ")));
}

const std::string& require_prefix(const Tagging& tagging, std::string_view env) {
  return *tagging.prefix_for(canonical_environment(tagging, env));
}

DeployTarget resolve_target(const Tagging& tagging, std::string_view env, std::string_view sha,
                            std::string_view version) {
  // Report a bad env, sha and version together rather than one per run.
  std::vector<std::string> problems;
  DeployTarget target;
  try {
    target.env = canonical_environment(tagging, env);
    target.prefix = *tagging.prefix_for(target.env);
  } catch (const UsageError& e) {
    problems.emplace_back(e.what());
  }
  bool need_sha = tagging.strategy != "semantic-version";
  bool need_version = false;
  for (const auto& tmpl : tagging.templates) {
    need_sha = need_sha || uses_sha(tmpl);
    need_version = need_version || uses_version(tmpl);
  }
  if (need_sha || !sha.empty()) {
    try {
      require_valid_sha(sha);
      target.sha = std::string(sha);
    } catch (const UsageError& e) {
      problems.emplace_back(e.what());
    }
  }
  if (!version.empty()) {
    try {
      target.version = parse_version(version);
    } catch (const UsageError& e) {
      problems.emplace_back(e.what());
    }
  } else if (need_version) {
    problems.emplace_back(
        "--version is required: a tag template uses {version}, {major}, {minor} or {patch}");
  }
  if (!problems.empty()) throw UsageError(util::join(problems, "\n"));
  return target;
}

std::vector<std::string> expected_tags(const Tagging& tagging, const DeployTarget& target) {
  std::vector<std::string> tags;
  for (const auto& tmpl : tagging.templates) {
    auto tag = render_tag(tmpl, target);
    if (!tag) continue;
    if (!is_valid_tag(*tag)) {
      throw UsageError(fmt::format(
          "template {} renders to {}, not a valid tag; a tag must match "
          "[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}} (build metadata after '+' cannot be in a tag)",
          util::quote(tmpl), util::quote(*tag)));
    }
    if (std::find(tags.begin(), tags.end(), *tag) == tags.end()) tags.push_back(std::move(*tag));
  }
  return tags;
}

std::vector<std::string> expected_tags(const Tagging& tagging, std::string_view env,
                                       std::string_view sha) {
  return expected_tags(tagging, resolve_target(tagging, env, sha));
}

}  // namespace imagegate::manifest
