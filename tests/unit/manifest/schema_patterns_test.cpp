#include "manifest/schema_patterns.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"
#include "util/embedded.hpp"

namespace imagegate::manifest {
namespace {

const nlohmann::json& embedded_schema() {
  static const nlohmann::json doc =
      nlohmann::json::parse(embedded::schemas().at("images-manifest.schema.json"));
  return doc;
}

void collect_patterns(const nlohmann::json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "pattern" && value.is_string()) out.push_back(value.get<std::string>());
      collect_patterns(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& value : node) collect_patterns(value, out);
  }
}

// Every string of length 0..max_length over `alphabet`, then the extra cases.
std::vector<std::string> strings_over(const std::string& alphabet, int max_length,
                                      std::vector<std::string> extra) {
  std::vector<std::string> out{""};
  std::vector<std::string> level{""};
  for (int length = 1; length <= max_length; ++length) {
    std::vector<std::string> next;
    for (const auto& prefix : level) {
      for (const char c : alphabet) next.push_back(prefix + c);
    }
    out.insert(out.end(), next.begin(), next.end());
    level = std::move(next);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// The matcher of `pattern` says what ECMAScript's regex_search (valijson's check) says, for
// every string given. Returns how many were compared.
std::size_t expect_agrees(const std::string& pattern, const std::vector<std::string>& inputs) {
  const auto matcher = hand_matcher(pattern);
  EXPECT_NE(matcher, nullptr) << pattern;
  if (matcher == nullptr) return 0;
  const std::regex regex(pattern);
  std::size_t disagreements = 0;
  for (const auto& s : inputs) {
    const bool want = std::regex_search(s, regex);
    if (matcher(s) != want && ++disagreements <= 10) {
      ADD_FAILURE() << pattern << " on '" << s << "' (" << s.size() << " bytes): the regex says "
                    << want;
    }
  }
  return inputs.size();
}

// Characters every alphabet adds: a newline (ECMAScript's $ does not match before it), NUL, a
// byte above 0x7f, upper case, space.
const std::vector<std::string> kOdd{
    "\n",  std::string(1, '\0'),   "\xc3\xa9", "A", " ", "a\n", "a\nb",
    "\na", std::string("a\0b", 3), "a b",      "\t"};

TEST(SchemaPatterns, EveryPatternOfTheManifestSchemaIsMatchedByHand) {
  std::vector<std::string> patterns;
  collect_patterns(embedded_schema(), patterns);
  ASSERT_EQ(patterns.size(), 7u);
  for (const auto& p : patterns) EXPECT_NE(hand_matcher(p), nullptr) << p;

  std::vector<std::string> removed;
  const auto for_valijson = without_hand_matched_patterns(embedded_schema(), &removed);
  std::vector<std::string> left;
  collect_patterns(for_valijson, left);
  EXPECT_TRUE(left.empty()) << left.front();
  EXPECT_EQ(removed, (std::vector<std::string>{
                         "/definitions/image/properties/buildArgs/items",
                         "/definitions/image/properties/healthCheck",
                         "/definitions/image/properties/id",
                         "/definitions/image/properties/taskDefContainerName",
                         "/definitions/platforms/items",
                         "/definitions/repositoryName",
                         "/properties/version",
                     }));
}

TEST(SchemaPatterns, FormatVersionAgreesWithTheRegex) {
  const auto n = expect_agrees(R"(^[0-9]+\.[0-9]+(\.[0-9]+)?$)",
                               strings_over("0.1a", 7, {"1.0.0\n", "10.20.30", "1.2.3.4"}));
  EXPECT_EQ(n, 21845u + 3u);
}

TEST(SchemaPatterns, RepositoryNameAgreesWithTheRegex) {
  auto extra = kOdd;
  extra.insert(extra.end(), {"afu9/control-center", "a__b", "a___b", "a--b", "a-_b", "a._b",
                             "a/b/c", "a//b", "/a", "a/", "a.b.c/d-e_f"});
  const auto n =
      expect_agrees(R"(^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$)",
                    strings_over("a1._-/", 7, extra));
  EXPECT_GT(n, 335000u);
}

TEST(SchemaPatterns, PlatformAgreesWithTheRegex) {
  auto extra = kOdd;
  extra.insert(extra.end(), {"linux/amd64", "linux/arm64/v8", "linux/arm64/v8/x", "linux/x_86",
                             "linux/arm/v_7"});
  const auto n =
      expect_agrees(R"(^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$)", strings_over("a1_/", 8, extra));
  EXPECT_GT(n, 87000u);
}

TEST(SchemaPatterns, ImageIdAgreesWithTheRegex) {
  auto extra = kOdd;
  for (const std::size_t length : {62, 63, 64, 100}) extra.push_back(std::string(length, 'a'));
  extra.push_back("-" + std::string(62, 'a'));
  const auto n = expect_agrees(R"(^[a-z0-9][a-z0-9._-]{0,62}$)", strings_over("a1._-Z", 6, extra));
  EXPECT_GT(n, 55000u);
}

TEST(SchemaPatterns, ContainerNameAgreesWithTheRegex) {
  auto extra = kOdd;
  for (const std::size_t length : {254, 255, 256, 1000}) extra.push_back(std::string(length, 'A'));
  const auto n = expect_agrees(R"(^[A-Za-z0-9_-]{1,255}$)", strings_over("aZ9_-.", 6, extra));
  EXPECT_GT(n, 55000u);
}

TEST(SchemaPatterns, BuildArgNameAgreesWithTheRegex) {
  const auto n = expect_agrees(R"(^[A-Za-z_][A-Za-z0-9_]*$)", strings_over("aZ9_-", 7, kOdd));
  EXPECT_GT(n, 97000u);
}

TEST(SchemaPatterns, AbsolutePathAgreesWithTheRegex) {
  auto extra = kOdd;
  extra.insert(extra.end(), {"/api/ready", "health", "\n/x"});
  const auto n = expect_agrees("^/", strings_over("/a\n", 5, extra));
  EXPECT_GT(n, 360u);
}

TEST(SchemaPatterns, UnknownPatternsHaveNoMatcher) {
  EXPECT_EQ(hand_matcher("^[a-z]+$"), nullptr);
  EXPECT_EQ(hand_matcher(""), nullptr);
  // Spelled differently, the same language is still another pattern: left to valijson.
  EXPECT_EQ(hand_matcher("^[0-9]+[.][0-9]+([.][0-9]+)?$"), nullptr);
}

// Only a pattern that applies wherever its node is reached is taken from valijson: never one
// a combinator may make optional, one beside $ref, or one a combinator reaches through $ref.
TEST(SchemaPatterns, PatternsUnderCombinatorsStayWithValijson) {
  const auto schema = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "plain": {"type": "string", "pattern": "^/"},
      "choice": {"oneOf": [{"type": "string", "pattern": "^/"}, {"type": "number"}]},
      "viaRef": {"$ref": "#/definitions/name"},
      "viaAnyOf": {"anyOf": [{"$ref": "#/definitions/platform"}, {"type": "null"}]},
      "besideRef": {"$ref": "#/definitions/other", "pattern": "^/"},
      "list": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
      "tuple": {"type": "array", "items": [{"type": "string", "pattern": "^/"}]},
      "map": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^/"}},
      "mixed": {"type": "object", "patternProperties": {"^x": {"type": "string"}},
                "additionalProperties": {"type": "string", "pattern": "^/"}},
      "unknown": {"type": "string", "pattern": "^[a-z]+$"},
      "chain": {"allOf": [{"$ref": "#/definitions/outer"}]}
    },
    "definitions": {
      "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,62}$"},
      "platform": {"type": "string", "pattern": "^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$"},
      "other": {"type": "string"},
      "outer": {"type": "object", "properties": {"inner": {"$ref": "#/definitions/inner"}}},
      "inner": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,255}$"}
    }
  })");
  std::vector<std::string> removed;
  const auto out = without_hand_matched_patterns(schema, &removed);
  EXPECT_EQ(removed, (std::vector<std::string>{"/definitions/name", "/properties/list/items",
                                               "/properties/map/additionalProperties",
                                               "/properties/plain"}));
  EXPECT_FALSE(out["properties"]["plain"].contains("pattern"));
  EXPECT_TRUE(out["properties"]["choice"]["oneOf"][0].contains("pattern"));
  EXPECT_TRUE(out["definitions"]["platform"].contains("pattern"));
  EXPECT_TRUE(out["properties"]["besideRef"].contains("pattern"));
  EXPECT_TRUE(out["properties"]["tuple"]["items"][0].contains("pattern"));
  EXPECT_TRUE(out["properties"]["mixed"]["additionalProperties"].contains("pattern"));
  EXPECT_TRUE(out["properties"]["unknown"].contains("pattern"));
  EXPECT_TRUE(out["definitions"]["inner"].contains("pattern"));
  // The input is left as it was.
  EXPECT_TRUE(schema["properties"]["plain"].contains("pattern"));
}

// What a user sees is unchanged: valijson's words, the pattern and the value, at the value's
// pointer, once, for every field the hand-matched patterns cover (in the document's key order).
TEST(SchemaPatterns, ViolationsReadAsValijsonsDid) {
  const auto manifest = parse(R"({
    "version": "1.0.0-beta",
    "images": [
      {"id": "-a", "name": "Afu9/A", "dockerfile": "a/Dockerfile", "context": ".",
       "required": true, "taskDefContainerName": "a b", "platforms": ["linux"],
       "buildArgs": ["1X"], "healthCheck": "health"}
    ],
    "tagging": {"strategy": "git-sha", "prefixes": {"production": "prod"},
                "alwaysTag": ["{prefix}-{full_sha}"]}
  })",
                              "images-manifest.json");
  ASSERT_TRUE(manifest.has_value()) << manifest.error().message;
  findings::Findings findings;
  check_schema(*manifest, findings);
  std::vector<std::string> seen;
  for (const auto& f : findings.items()) {
    EXPECT_EQ(f.code, "SCHEMA_VIOLATION");
    seen.push_back(f.subject + ": " + f.message);
  }
  const std::string prefix = "Failed to match regex specified by 'pattern' constraint; ";
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "/images/0/buildArgs/0: " + prefix +
                          R"(expected "string" matching ^[A-Za-z_][A-Za-z0-9_]*$; found )"
                          R"(string "1X")",
                      "/images/0/healthCheck: " + prefix +
                          R"(expected "string" matching ^/; found string "health")",
                      "/images/0/id: " + prefix +
                          R"(expected "string" matching ^[a-z0-9][a-z0-9._-]{0,62}$; found )"
                          R"(string "-a")",
                      "/images/0/name: " + prefix +
                          R"(expected "string" matching ^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)"
                          R"((/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$; found string "Afu9/A")",
                      "/images/0/platforms/0: " + prefix +
                          R"(expected "string" matching ^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$; )"
                          R"(found string "linux")",
                      "/images/0/taskDefContainerName: " + prefix +
                          R"(expected "string" matching ^[A-Za-z0-9_-]{1,255}$; found string )"
                          R"("a b")",
                      "/version: " + prefix +
                          R"(expected "string" matching ^[0-9]+\.[0-9]+(\.[0-9]+)?$; found )"
                          R"(string "1.0.0-beta")",
                  }));
}

}  // namespace
}  // namespace imagegate::manifest
