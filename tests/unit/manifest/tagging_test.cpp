#include "manifest/tagging.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "util/error.hpp"

namespace imagegate::manifest {
namespace {

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

Tagging afu9_tagging() {
  Tagging t;
  t.strategy = "git-sha";
  t.prefixes = {{"production", "prod"}, {"staging", "stage"}};
  t.templates = {"{prefix}-{full_sha}", "{prefix}-{short_sha}", "{prefix}-latest"};
  return t;
}

TEST(Tagging, RendersTheAfu9Templates) {
  EXPECT_EQ(expected_tags(afu9_tagging(), "production", kSha),
            (std::vector<std::string>{"prod-" + kSha, "prod-0123456", "prod-latest"}));
  EXPECT_EQ(expected_tags(afu9_tagging(), "staging", kSha).back(), "stage-latest");
}

TEST(Tagging, DuplicateRenderedTagsAppearOnce) {
  auto t = afu9_tagging();
  t.templates = {"{prefix}-latest", "{prefix}-latest", "{full_sha}"};
  EXPECT_EQ(expected_tags(t, "production", kSha).size(), 2u);
}

TEST(Tagging, ValidTagGrammar) {
  EXPECT_TRUE(is_valid_tag("prod-latest"));
  EXPECT_TRUE(is_valid_tag("_x.y-z"));
  EXPECT_TRUE(is_valid_tag(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_tag(""));
  EXPECT_FALSE(is_valid_tag("-prod"));
  EXPECT_FALSE(is_valid_tag(".prod"));
  EXPECT_FALSE(is_valid_tag("prod/latest"));
  EXPECT_FALSE(is_valid_tag("prod:latest"));
  EXPECT_FALSE(is_valid_tag("prod latest"));
}

TEST(Tagging, UnknownPlaceholders) {
  EXPECT_TRUE(unknown_placeholders("{prefix}-{full_sha}-{short_sha}").empty());
  EXPECT_EQ(unknown_placeholders("{prefix}-{branch}"), std::vector<std::string>{"{branch}"});
  EXPECT_EQ(unknown_placeholders("{prefix}-{full_sha"), std::vector<std::string>{"{"});
  EXPECT_EQ(unknown_placeholders("x}"), std::vector<std::string>{"}"});
  EXPECT_EQ(unknown_placeholders("{PREFIX}"), std::vector<std::string>{"{PREFIX}"});
}

TEST(Tagging, ShortShaIsSevenCharacters) {
  EXPECT_EQ(render_tag("{short_sha}", "p", kSha), "0123456");
}

TEST(Tagging, ShaMustBeFortyOrSixtyFourLowerHex) {
  EXPECT_NO_THROW(require_valid_sha(kSha));
  EXPECT_NO_THROW(require_valid_sha(kSha + kSha.substr(0, 24)));
  EXPECT_THROW(require_valid_sha(kSha.substr(0, 39)), UsageError);
  EXPECT_THROW(require_valid_sha("0123456789ABCDEF0123456789abcdef01234567"), UsageError);
  EXPECT_THROW(require_valid_sha(""), UsageError);
  try {
    require_valid_sha("abc\n::error::x\x1b[31m");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--sha 'abc\\n::error::x\\x1b[31m' is not a commit SHA; expected 40 (or 64) "
                 "lower-case hex characters");
  }
}

TEST(Tagging, UnknownEnvListsTheKnownOnes) {
  try {
    expected_tags(afu9_tagging(), "qa", kSha);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--env 'qa' is not an environment of tagging.prefixes; known: 'production', "
                 "'staging' (or their prefixes 'prod', 'stage', in any case)");
  }
}

TEST(Tagging, BadEnvAndBadShaAreReportedTogether) {
  try {
    expected_tags(afu9_tagging(), "qa", "nope");
    FAIL();
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--env 'qa'"), std::string::npos);
    EXPECT_NE(what.find("--sha 'nope'"), std::string::npos);
  }
}

TEST(Tagging, EnvironmentAliases) {
  const auto t = afu9_tagging();
  for (const char* alias : {"production", "prod", "PRODUCTION", " Prod\t"}) {
    EXPECT_EQ(canonical_environment(t, alias), "production") << alias;
  }
  EXPECT_EQ(canonical_environment(t, " stage "), "staging");
  EXPECT_THROW(canonical_environment(t, "qa"), UsageError);
  EXPECT_THROW(canonical_environment(t, ""), UsageError);
  auto ambiguous = t;
  ambiguous.prefixes.emplace_back("qa", "stage");
  EXPECT_THROW(canonical_environment(ambiguous, "stage"), UsageError);
  EXPECT_EQ(canonical_environment(ambiguous, "staging"), "staging");
}

// The hand-written parser accepts exactly what SemVer 2.0's own regular expression (semver.org)
// accepts, and captures the same numbers and prerelease flag: every string over a small alphabet
// up to length 7, and SemVer's published examples.
TEST(Tagging, SemanticVersionsAgreeWithTheSemverRegex) {
  const std::regex semver(
      R"(^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*))"
      R"((-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
      R"((\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$)");
  const auto agree = [&](const std::string& text) {
    std::smatch m;
    const bool want = std::regex_match(text, m, semver);
    try {
      const auto v = parse_version(text);
      EXPECT_TRUE(want) << "accepted '" << text << "'";
      if (want) {
        EXPECT_EQ(v.major, m[1].str()) << text;
        EXPECT_EQ(v.minor, m[2].str()) << text;
        EXPECT_EQ(v.patch, m[3].str()) << text;
        EXPECT_EQ(v.prerelease, m[4].matched) << text;
      }
    } catch (const UsageError&) {
      EXPECT_FALSE(want) << "rejected '" << text << "'";
    }
  };
  const std::string alphabet = "01.-+a";
  std::vector<std::string> level{""};
  std::size_t checked = 0;
  for (int length = 1; length <= 7; ++length) {
    std::vector<std::string> next;
    for (const auto& prefix : level) {
      for (const char c : alphabet) next.push_back(prefix + c);
    }
    for (const auto& s : next) {
      agree(s);
      ++checked;
    }
    level = std::move(next);
  }
  EXPECT_EQ(checked, 335922u);  // 6 + 6^2 + ... + 6^7
  for (const char* s : {"1.0.0-alpha",
                        "1.0.0-alpha.1",
                        "1.0.0-0.3.7",
                        "1.0.0-x.7.z.92",
                        "1.0.0-x-y-z.--",
                        "1.0.0-alpha+001",
                        "1.0.0+20130313144700",
                        "1.0.0-beta+exp.sha.5114f85",
                        "1.0.0+21AF26D3----117B344092BD",
                        "99999999999999999999999.999999999999999999.99999999999999999",
                        "1.2.3-0123",
                        "1.2.3-0123.0123",
                        "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
                        "1.2.3+0123",
                        "+invalid",
                        "-invalid",
                        "1.2.3.DEV",
                        "1.2-SNAPSHOT",
                        "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
                        "1.0.0-alpha_beta",
                        "1.0.0-alpha..",
                        "1.0.0-alpha..1",
                        "1.0.0+",
                        "1.0.0-",
                        "1.0.0+a+b",
                        "01.1.1",
                        "1.01.1",
                        "1.1.01",
                        "1.0.0-rc.1+build.1"}) {
    agree(s);
  }
}

TEST(Tagging, SemanticVersions) {
  EXPECT_EQ(parse_version("v1.2.3").text, "1.2.3");
  EXPECT_TRUE(parse_version("1.2.3-rc.1").prerelease);
  EXPECT_EQ(parse_version("10.20.30+build.5").patch, "30");
  for (const char* bad : {"1.2", "01.2.3", "1.2.3-", "1.2.3-01", "vv1.2.3", "1.2.3 "}) {
    EXPECT_THROW(parse_version(bad), UsageError) << bad;
  }
  const auto v = parse_version("v0.10.200-rc.1.x-y+b.01");
  EXPECT_EQ(v.text, "0.10.200-rc.1.x-y+b.01");
  EXPECT_EQ(v.major, "0");
  EXPECT_EQ(v.minor, "10");
  EXPECT_EQ(v.patch, "200");
  EXPECT_TRUE(v.prerelease);
  EXPECT_FALSE(parse_version("1.2.3+b-1").prerelease);
  auto t = afu9_tagging();
  t.strategy = "semantic-version";
  t.templates = {"{prefix}-{version}", "{prefix}-{major}.{minor}", "{prefix}-{major}", "latest"};
  EXPECT_EQ(expected_tags(t, resolve_target(t, "prod", "", "v1.2.3")),
            (std::vector<std::string>{"prod-1.2.3", "prod-1.2", "prod-1", "latest"}));
  EXPECT_EQ(expected_tags(t, resolve_target(t, "prod", "", "1.2.3-rc.1")),
            (std::vector<std::string>{"prod-1.2.3-rc.1", "latest"}));
  EXPECT_THROW(resolve_target(t, "prod", "", ""), UsageError);
  EXPECT_THROW(expected_tags(t, resolve_target(t, "prod", "", "1.2.3+b")), UsageError);
}

}  // namespace
}  // namespace imagegate::manifest
