#include "manifest/tagging.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::manifest {
namespace {

bool is_tag_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
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
    if (name != "{prefix}" && name != "{full_sha}" && name != "{short_sha}") {
      unknown.emplace_back(name);
    }
    i = end;
  }
  return unknown;
}

std::string render_tag(std::string_view tmpl, std::string_view prefix, std::string_view full_sha) {
  std::string out;
  const auto short_sha = full_sha.substr(0, std::min(kShortShaLength, full_sha.size()));
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl.substr(i).starts_with("{prefix}")) {
      out += prefix, i += 8;
    } else if (tmpl.substr(i).starts_with("{full_sha}")) {
      out += full_sha, i += 10;
    } else if (tmpl.substr(i).starts_with("{short_sha}")) {
      out += short_sha, i += 11;
    } else {
      out += tmpl[i++];
    }
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

const std::string& require_prefix(const Tagging& tagging, std::string_view env) {
  std::vector<std::string> known;
  for (const auto& [name, prefix] : tagging.prefixes) known.push_back(util::quote(name));
  if (env.empty()) {
    throw UsageError(fmt::format("--env (or DEPLOY_ENV) is required; known environments: {}",
                                 util::join(known, ", ")));
  }
  const std::string* prefix = tagging.prefix_for(env);
  if (prefix == nullptr) {
    throw UsageError(fmt::format("--env {} is not an environment of tagging.prefixes; known: {}",
                                 util::quote(env), util::join(known, ", ")));
  }
  return *prefix;
}

std::vector<std::string> expected_tags(const Tagging& tagging, std::string_view env,
                                       std::string_view sha) {
  // Report a bad env and a bad sha together rather than one per run.
  std::string problems;
  const std::string* prefix = nullptr;
  try {
    prefix = &require_prefix(tagging, env);
  } catch (const UsageError& e) {
    problems = e.what();
  }
  try {
    require_valid_sha(sha);
  } catch (const UsageError& e) {
    problems += (problems.empty() ? "" : "\n") + std::string(e.what());
  }
  if (!problems.empty()) throw UsageError(problems);
  std::vector<std::string> tags;
  for (const auto& tmpl : tagging.templates) {
    auto tag = render_tag(tmpl, *prefix, sha);
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(std::move(tag));
  }
  return tags;
}

}  // namespace imagegate::manifest
