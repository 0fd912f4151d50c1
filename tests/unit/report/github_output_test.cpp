// $GITHUB_OUTPUT: each output a heredoc whose delimiter no value contains, names GitHub accepts,
// appended (never replacing other steps' outputs), and a UsageError when the file is unusable.
#include "report/github_output.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/scratch_dir.hpp"
#include "util/error.hpp"

namespace imagegate::report {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses heredoc outputs the way the runner does: NAME<<DELIM, lines, DELIM.
Outputs parse(const std::string& text) {
  Outputs out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto marker = line.find("<<");
    if (marker == std::string::npos) throw std::runtime_error("not a heredoc: " + line);
    const std::string name = line.substr(0, marker);
    const std::string delimiter = line.substr(marker + 2);
    std::string value;
    bool first = true;
    while (std::getline(in, line) && line != delimiter) {
      value += (first ? "" : "\n") + line;
      first = false;
    }
    if (line != delimiter) throw std::runtime_error("unterminated heredoc " + name);
    out.emplace_back(name, value);
  }
  return out;
}

TEST(GithubOutput, EachValueIsAHeredocWithARandomDelimiter) {
  const std::string text = format_github_outputs({{"verdict", "pass"}, {"digests", "{}"}});
  const std::regex shape(
      "verdict<<(ghadelimiter_[0-9a-f]{32})\npass\n\\1\ndigests<<(ghadelimiter_[0-9a-f]{32})\n"
      "\\{\\}\n\\2\n");
  EXPECT_TRUE(std::regex_match(text, shape)) << text;
  // Two formats of the same outputs use different delimiters: none can be guessed in advance.
  EXPECT_NE(format_github_outputs({{"verdict", "pass"}}),
            format_github_outputs({{"verdict", "pass"}}));
}

TEST(GithubOutput, NoValueCanEndItsHeredocOrInjectAnotherOutput) {
  const std::string hostile =
      "line one\nghadelimiter_0000\nverdict<<EOF\npass\nEOF\nverdict=pass\n\nlast";
  const Outputs outputs = {{"message", hostile}, {"verdict", "fail"}, {"empty", ""}};
  const Outputs parsed = parse(format_github_outputs(outputs));
  EXPECT_EQ(parsed, outputs);
}

TEST(GithubOutput, NamesAreWhatGithubAccepts) {
  EXPECT_EQ(output_name("control-center_digest"), "control-center_digest");
  EXPECT_EQ(output_name("afu9/mcp-deploy"), "afu9_mcp-deploy");
  EXPECT_EQ(output_name("a b.c:d<<e\nf"), "a_b_c_d__e_f");
  EXPECT_EQ(output_name(""), "");
  EXPECT_EQ(format_github_outputs({{"x\ny<<z", "v"}}).substr(0, 7), "x_y__z<");
}

class GithubOutputFile : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("GITHUB_OUTPUT")) saved_ = old;
  }
  void TearDown() override {
    if (saved_) {
      setenv("GITHUB_OUTPUT", saved_->c_str(), 1);
    } else {
      unsetenv("GITHUB_OUTPUT");
    }
  }
  std::optional<std::string> saved_;
  testing::ScratchDir scratch_;
};

TEST_F(GithubOutputFile, AppendsToWhatEarlierStepsWrote) {
  const auto path = scratch_.write("github_output", "earlier=kept\n");
  setenv("GITHUB_OUTPUT", path.c_str(), 1);
  append_github_outputs({{"verdict", "pass"}});
  append_github_outputs({{"images", "4"}});
  const std::string text = read(path);
  ASSERT_TRUE(text.starts_with("earlier=kept\n")) << text;
  EXPECT_EQ(parse(text.substr(std::string("earlier=kept\n").size())),
            (Outputs{{"verdict", "pass"}, {"images", "4"}}));
}

TEST_F(GithubOutputFile, UnsetOrEmptyIsAUsageError) {
  unsetenv("GITHUB_OUTPUT");
  try {
    append_github_outputs({{"verdict", "pass"}});
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "GITHUB_OUTPUT is not set; the github format appends step outputs to it");
  }
  setenv("GITHUB_OUTPUT", "", 1);
  EXPECT_THROW(append_github_outputs({{"verdict", "pass"}}), UsageError);
}

TEST_F(GithubOutputFile, AFileThatCannotBeOpenedIsAUsageError) {
  const auto path = scratch_.path() / "missing" / "output";
  setenv("GITHUB_OUTPUT", path.c_str(), 1);
  try {
    append_github_outputs({{"verdict", "pass"}});
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open GITHUB_OUTPUT '" + path.string() + "' for appending");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  setenv("GITHUB_OUTPUT", scratch_.path().c_str(), 1);  // a directory
  EXPECT_THROW(append_github_outputs({{"verdict", "pass"}}), UsageError);
}

}  // namespace
}  // namespace imagegate::report
