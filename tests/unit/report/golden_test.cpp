// Golden-output tests: the same findings rendered five ways, compared byte for byte with the
// reviewed files in tests/data/golden/. UPDATE_GOLDEN=1 rewrites them (review the diff!).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/reports.hpp"
#include "report_fixtures.hpp"

namespace imagegate::report {
namespace {

const std::filesystem::path kGoldenDir = std::filesystem::path(IMAGEGATE_TEST_DATA) / "golden";

struct Format {
  const char* name;
  const char* extension;
};
constexpr Format kFormats[] = {{"text", "txt"},
                               {"junit", "xml"},
                               {"markdown", "md"},
                               {"github", "annotations"},
                               {"html", "html"}};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void check_golden(const std::string& fixture, const ReportInput& input) {
  const bool update = std::getenv("UPDATE_GOLDEN") != nullptr &&
                      std::string_view(std::getenv("UPDATE_GOLDEN")) == "1";
  for (const auto& f : kFormats) {
    const auto path = kGoldenDir / (fixture + "." + f.extension);
    const std::string actual = render_report(f.name, input);
    if (update) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
      continue;
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing; run with UPDATE_GOLDEN=1";
    EXPECT_EQ(actual, read_file(path)) << f.name << " differs from " << path;
  }
}

TEST(GoldenReports, PassingGate) {
  check_golden("gate-pass", testing::passing_gate());
}

TEST(GoldenReports, FailingGateWithHostileStrings) {
  check_golden("gate-fail", testing::failing_gate());
}

TEST(GoldenReports, FailingValidate) {
  check_golden("validate-fail", testing::failing_validate());
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every finding is one annotation line; nothing a registry says starts a second command.
TEST(HostileReports, AnnotationsStayOneLineEachAndInert) {
  const auto input = testing::failing_gate();
  const std::string text = render_annotations(input);
  const auto all = lines(text);
  ASSERT_EQ(all.size(), input.findings.items().size());
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  for (const auto& line : all) {
    const bool error = line.starts_with("::error title=imagegate ");
    const bool warning = line.starts_with("::warning title=imagegate ");
    EXPECT_TRUE(error || warning) << line;
    // The property list ends at the first "::" after the command; the title holds no ':' or ','.
    const auto data = line.find("::", 2);
    ASSERT_NE(data, std::string::npos) << line;
    EXPECT_EQ(line.substr(2, data - 2).find_first_of(",:", line.find("title=")), std::string::npos)
        << line;
  }
  EXPECT_NE(text.find("%25"), std::string::npos) << "a literal % must be percent-encoded";
  EXPECT_EQ(text.find("50% "), std::string::npos);
}

TEST(HostileReports, MarkdownCannotAddHtmlLinksOrCells) {
  const std::string md = render_markdown(testing::failing_gate());
  for (const char* bad : {"<script", "<img", "<b>", "](", "\x1b", "\r", "`c`", "*b*", "https://"}) {
    EXPECT_EQ(md.find(bad), std::string::npos) << "found " << bad << " in\n" << md;
  }
  // Every table row has as many cell separators as the header.
  std::size_t pipes = 0;
  for (const auto& line : lines(md)) {
    if (!line.starts_with("|")) continue;
    const auto n = static_cast<std::size_t>(std::count(line.begin(), line.end(), '|'));
    if (pipes == 0) pipes = n;
    EXPECT_EQ(n, pipes) << line;
  }
  EXPECT_EQ(pipes, 6u);  // image + 3 tags + provenance
}

TEST(HostileReports, HtmlAndJunitCarryNoMarkup) {
  const auto input = testing::failing_gate();
  const std::string html = render_html(input);
  const std::string xml = render_junit(input);
  for (const auto& doc : {html, xml}) {
    for (const char* bad : {"<script", "<img", "<b>|id", "\x1b", "\r"}) {
      EXPECT_EQ(doc.find(bad), std::string::npos) << "found " << bad;
    }
  }
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(JunitReport, CountsFailuresPerImageAndCheck) {
  const std::string xml = render_junit(testing::failing_gate());
  // control-center: 2 tags pass, hostile tag fails, digest consistency fails, provenance
  // skipped; mcp-github: 3 tags fail, digest and provenance skipped; evil: 3 tags fail, digest
  // and provenance skipped, SLOW_REGISTRY warning passes; mcp-deploy (a stale build): 3 tags and
  // its digest consistency pass, its provenance case fails with REVISION_MISMATCH.
  EXPECT_NE(xml.find("<testsuite name=\"imagegate gate\" tests=\"21\" failures=\"9\" "
                     "errors=\"0\" skipped=\"5\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"imagegate.gate.mcp-deploy\" name=\"provenance\" "
                     "time=\"0\">\n      <failure message=\"the config label"),
            std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("name=\"revision\""), std::string::npos)
      << "revision findings are in provenance";
  EXPECT_NE(xml.find("type=\"DIGEST_MISMATCH\""), std::string::npos);
  const std::string pass = render_junit(testing::passing_gate());
  EXPECT_NE(pass.find("failures=\"0\""), std::string::npos);
  EXPECT_EQ(pass.find("<failure"), std::string::npos);
  EXPECT_NE(pass.find("name=\"platforms\""), std::string::npos);
  // One provenance case per image: a verified revision is its output.
  EXPECT_NE(pass.find("name=\"provenance\" time=\"0\">\n      <system-out>digest "
                      "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111, "
                      "revision if-present: 0123456789abcdef0123456789abcdef01234567\n"),
            std::string::npos)
      << pass;
}

}  // namespace
}  // namespace imagegate::report
