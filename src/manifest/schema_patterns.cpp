// Hand-written matchers for the manifest schema's patterns; see schema_patterns.hpp for why.
#include "manifest/schema_patterns.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "manifest/manifest.hpp"
#include "reference/reference.hpp"

namespace imagegate::manifest {
namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || digit(c);
}
bool letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Skips a non-empty run of characters that satisfy `is`; false when there is none.
template <typename Pred>
bool run(std::string_view s, std::size_t& i, Pred is) {
  const std::size_t start = i;
  while (i < s.size() && is(s[i])) ++i;
  return i > start;
}

// ^[0-9]+\.[0-9]+(\.[0-9]+)?$
bool format_version(std::string_view s) {
  std::size_t i = 0;
  for (int groups = 1;; ++groups) {
    if (!run(s, i, digit)) return false;
    if (i == s.size()) return groups >= 2;
    if (s[i] != '.' || groups == 3) return false;
    ++i;
  }
}

// ^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$: the distribution
// spec's repository path, which image references are parsed by too.
bool repository_name(std::string_view s) {
  return reference::is_repository_path(s);
}

// ^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$
bool platform(std::string_view s) {
  std::size_t i = 0;
  if (!run(s, i, lower_or_digit) || i == s.size() || s[i] != '/') return false;
  ++i;
  if (!run(s, i, [](char c) { return lower_or_digit(c) || c == '_'; })) return false;
  if (i == s.size()) return true;
  if (s[i] != '/') return false;
  ++i;
  return run(s, i, lower_or_digit) && i == s.size();
}

// ^[a-z0-9][a-z0-9._-]{0,62}$
bool image_id(std::string_view s) {
  return !s.empty() && s.size() <= 63 && lower_or_digit(s.front()) &&
         std::all_of(s.begin() + 1, s.end(),
                     [](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

// ^[A-Za-z0-9_-]{1,255}$
bool container_name(std::string_view s) {
  return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
    return letter(c) || digit(c) || c == '_' || c == '-';
  });
}

// ^[A-Za-z_][A-Za-z0-9_]*$
bool build_arg_name(std::string_view s) {
  return !s.empty() && (letter(s.front()) || s.front() == '_') &&
         std::all_of(s.begin() + 1, s.end(),
                     [](char c) { return letter(c) || digit(c) || c == '_'; });
}

// ^/
bool absolute_path(std::string_view s) {
  return s.starts_with('/');
}

constexpr std::array<std::pair<std::string_view, PatternMatcher>, 7> kMatchers{{
    {R"(^[0-9]+\.[0-9]+(\.[0-9]+)?$)", format_version},
    {R"(^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$)",
     repository_name},
    {R"(^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$)", platform},
    {R"(^[a-z0-9][a-z0-9._-]{0,62}$)", image_id},
    {R"(^[A-Za-z0-9_-]{1,255}$)", container_name},
    {R"(^[A-Za-z_][A-Za-z0-9_]*$)", build_arg_name},
    {R"(^/)", absolute_path},
}};

struct Ref {
  std::string at;      // pointer of the schema node holding "$ref"
  std::string target;  // the pointer it names ("#/definitions/x" -> "/definitions/x")
  bool plain;
};

struct Candidate {
  std::string at;  // pointer of the schema node holding "pattern"
  bool plain;
};

// Collects every "$ref" and every hand-matched "pattern", each with whether its node is applied
// only through properties, object items and additionalProperties ("plain").
void scan(const nlohmann::json& node, const std::string& at, bool plain, std::vector<Ref>& refs,
          std::vector<Candidate>& patterns) {
  if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      scan(node[i], at + "/" + std::to_string(i), false, refs, patterns);
    }
    return;
  }
  if (!node.is_object()) return;
  const bool has_ref = node.contains("$ref");
  for (const auto& [key, value] : node.items()) {
    const std::string child = at + "/" + json_pointer_token(key);
    if (key == "$ref" && value.is_string()) {
      const auto& ref = value.get_ref<const std::string&>();
      refs.push_back({at, ref.starts_with('#') ? ref.substr(1) : ref, plain});
    } else if (key == "pattern" && value.is_string()) {
      // Beside a $ref, draft 7 ignores every other keyword: left to valijson as it is.
      if (hand_matcher(value.get_ref<const std::string&>()) != nullptr) {
        patterns.push_back({at, plain && !has_ref});
      }
    } else if ((key == "properties" || key == "definitions") && value.is_object()) {
      for (const auto& [name, sub] : value.items()) {
        scan(sub, child + "/" + json_pointer_token(name), plain, refs, patterns);
      }
    } else if (key == "items" && value.is_object()) {
      scan(value, child, plain, refs, patterns);
    } else if (key == "additionalProperties" && value.is_object()) {
      scan(value, child, plain && !node.contains("patternProperties"), refs, patterns);
    } else {
      scan(value, child, false, refs, patterns);
    }
  }
}

bool within(const std::string& at, const std::string& root) {
  return at == root || (at.starts_with(root) && at.size() > root.size() && at[root.size()] == '/');
}

}  // namespace

PatternMatcher hand_matcher(std::string_view pattern) {
  for (const auto& [known, matcher] : kMatchers) {
    if (known == pattern) return matcher;
  }
  return nullptr;
}

nlohmann::json without_hand_matched_patterns(const nlohmann::json& schema,
                                             std::vector<std::string>* removed) {
  std::vector<Ref> refs;
  std::vector<Candidate> patterns;
  scan(schema, "", true, refs, patterns);
  // A $ref inside what a non-plain $ref applies is itself applied that way.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& ref : refs) {
      if (!ref.plain) continue;
      for (const auto& other : refs) {
        if (!other.plain && within(ref.at, other.target)) {
          ref.plain = false;
          changed = true;
          break;
        }
      }
    }
  }
  nlohmann::json out = schema;
  for (const auto& pattern : patterns) {
    if (!pattern.plain) continue;
    const bool reached_otherwise = std::any_of(refs.begin(), refs.end(), [&](const Ref& ref) {
      return !ref.plain && within(pattern.at, ref.target);
    });
    if (reached_otherwise) continue;
    out.at(nlohmann::json::json_pointer(pattern.at)).erase("pattern");
    if (removed != nullptr) removed->push_back(pattern.at);
  }
  return out;
}

}  // namespace imagegate::manifest
