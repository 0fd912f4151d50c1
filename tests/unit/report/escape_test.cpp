#include "report/escape.hpp"

#include <gtest/gtest.h>

#include "report/reports.hpp"
#include "util/error.hpp"

namespace imagegate::report {
namespace {

TEST(Escape, XmlEscapesMarkupAndForbiddenCharacters) {
  EXPECT_EQ(xml_escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
  EXPECT_EQ(xml_escape("x\x01y\x1b[31m"), "x\\x01y\\x1b[31m");
  EXPECT_EQ(xml_escape("nl\nz"), "nl\\nz");
  EXPECT_EQ(xml_escape("\xef\xbf\xbf"), "\\uFFFF");
  EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(xml_escape("bad\xff"), "bad\\xff");
}

TEST(Escape, HtmlEscapesMarkup) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
}

TEST(Escape, MarkdownEscapesEveryMarkupCharacter) {
  EXPECT_EQ(markdown_escape("a|b"), "a&#124;b");
  EXPECT_EQ(markdown_escape("[x](y)"), "&#91;x&#93;(y)");
  EXPECT_EQ(markdown_escape("*_`~\\"), "&#42;&#95;&#96;&#126;&#92;");
  EXPECT_EQ(markdown_escape("<b>&"), "&lt;b&gt;&amp;");
  EXPECT_EQ(markdown_escape("l1\r\nl2"), "l1&#92;r&#92;nl2");
  EXPECT_EQ(markdown_escape("see https://x.example or www.x.example, a@b"),
            "see https&#58;//x.example or www&#46;x.example, a&#64;b");
  EXPECT_EQ(markdown_code("sha256:abc"), "`sha256:abc`");
  EXPECT_EQ(markdown_code("TAG_MISSING"), "`TAG_MISSING`");
  EXPECT_EQ(markdown_code("a`b"), "a&#96;b");
  EXPECT_EQ(markdown_code(""), "");
}

TEST(Escape, AnnotationDataAndProperties) {
  EXPECT_EQ(annotation_data("100% done: a,b"), "100%25 done: a,b");
  EXPECT_EQ(annotation_property("100% done: a,b"), "100%25 done%3A a%2Cb");
  // Line breaks never survive as line breaks.
  EXPECT_EQ(annotation_data("x\r\n::set-output name=a::b"), "x\\r\\n::set-output name=a::b");
  EXPECT_EQ(annotation_data("\x1b[31m"), "\\x1b[31m");
}

TEST(ReportSpec, ParsesFormatAndPath) {
  const auto spec = parse_report_spec("junit=out/report.xml");
  EXPECT_EQ(spec.format, "junit");
  EXPECT_EQ(spec.path, "out/report.xml");
  EXPECT_EQ(parse_report_spec("markdown=-").path, "-");
  EXPECT_EQ(parse_report_spec("html=a=b.html").path, "a=b.html");
}

TEST(ReportSpec, RejectsUnknownFormatMissingEqualsAndEmptyPath) {
  EXPECT_THROW(parse_report_spec("junit="), UsageError);
  for (const char* bad : {"junit", "xml=out.xml", "=x"}) {
    try {
      parse_report_spec(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("text, json, junit, markdown, github, html"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(TextReport, FindingsWithoutEvidence) {
  ReportInput in;
  in.command = "validate";
  in.verdict = "pass";
  EXPECT_EQ(render_text_report(in), "✓ validate: passed\n");
  in.findings.warning("W", "", "s", "m");
  EXPECT_EQ(render_text_report(in), "warning[W] s: m\n✓ validate: passed (0 errors, 1 warning)\n");
  const auto doc = nlohmann::json::parse(render_json_report(in));
  EXPECT_EQ(doc.at("verdict"), "pass");
  EXPECT_EQ(doc.at("findings").size(), 1u);
}

}  // namespace
}  // namespace imagegate::report
