// The evidence's timing object: next to the evidence's fields its JSON validates against
// schema/evidence.schema.json (and the schema rejects a malformed one), survives a round trip, and
// reads as one line in the text, Markdown and HTML reports.
#include "evidence/timing.hpp"

#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "evidence/evidence.hpp"
#include "report/reports.hpp"
#include "util/embedded.hpp"

namespace imagegate::evidence {
namespace {

Timing sample() {
  Timing t;
  t.total_ms = 812.3456;
  t.phases = {
      {"manifest", 3.25, 0}, {"registry", 790, 601}, {"evidence", 1.5, 0}, {"provenance", 17.5, 4}};
  t.http.requests = 605;
  t.http.attempts = 607;
  t.http.retries = 2;
  t.http.throttled = 1;
  t.http.connections = 1;
  t.http.by_kind = {{"HEAD manifest", 600}, {"GET ping", 1}, {"GET referrers", 4}};
  t.http.by_protocol = {{"HTTP/2", 607}};
  return t;
}

Evidence with_timing() {
  Evidence e;
  e.tool = "imagegate test";
  e.manifest_path = "images-manifest.json";
  e.manifest_sha256 = std::string(64, 'a');
  e.env = "production";
  e.sha = std::string(40, 'b');
  e.registry = "https://r.example";
  e.time = "2026-12-02T00:00:00Z";
  e.verdict = "pass";
  return e;
}

// What gate writes: the evidence with its timing.
nlohmann::json document() {
  auto doc = to_json(with_timing());
  doc["timing"] = timing_to_json(sample());
  return doc;
}

bool valid(const nlohmann::json& doc) {
  const auto schema_doc = nlohmann::json::parse(embedded::schemas().at("evidence.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  return validator.validate(schema, target, nullptr);
}

TEST(Timing, JsonMatchesTheEvidenceSchema) {
  const auto doc = document();
  EXPECT_TRUE(valid(doc)) << doc.dump(2);
  EXPECT_EQ(doc["timing"]["phases"]["registry"]["requests"], 601);
  EXPECT_DOUBLE_EQ(doc["timing"]["totalMs"].get<double>(), 812.346);
  EXPECT_EQ(doc["timing"]["requests"]["byKind"]["HEAD manifest"], 600);
  EXPECT_EQ(doc["timing"]["protocols"]["HTTP/2"], 607);
  auto bad = doc;
  bad["timing"]["phases"]["network"] = {{"ms", 1}, {"requests", 0}};
  EXPECT_FALSE(valid(bad)) << "an unknown phase";
  bad = doc;
  bad["timing"]["requests"].erase("retries");
  EXPECT_FALSE(valid(bad)) << "requests without retries";
  bad = doc;
  bad["timing"]["connections"] = -1;
  EXPECT_FALSE(valid(bad)) << "a negative count";
}

TEST(Timing, RoundTripsAndEvidenceWithItStillReads) {
  const auto back = timing_of(document());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->http.requests, 605u);
  EXPECT_EQ(back->http.retries, 2u);
  EXPECT_EQ(back->http.by_kind.at("GET referrers"), 4u);
  EXPECT_EQ(back->http.by_protocol.at("HTTP/2"), 607u);
  ASSERT_EQ(back->phases.size(), 4u);
  EXPECT_EQ(back->phases[3].name, "evidence");  // read back in the order phases run
  EXPECT_EQ(timing_summary(*back), timing_summary(sample()));
  // pin and verify read evidence with a timing object as before.
  const auto read = from_json(document());
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->verdict, "pass");
  EXPECT_FALSE(timing_of(to_json(with_timing())));
}

TEST(Timing, SummaryNamesPhasesKindsConnectionsAndRetries) {
  EXPECT_EQ(timing_summary(sample()),
            "812 ms: manifest 3.2 ms, registry 790 ms (601 requests), provenance 18 ms (4 "
            "requests), evidence 1.5 ms; 605 requests (HEAD manifest 600, GET referrers 4, GET "
            "ping 1), 1 connection, HTTP/2 607, 2 retries, 1 throttled");
}

TEST(Timing, PhaseClockAddsUpAPhaseThatRunsInParts) {
  Timing t;
  PhaseClock clock;
  clock.lap(t, "manifest", 0);
  clock.lap(t, "registry", 10);
  clock.lap(t, "evidence", 10);
  clock.lap(t, "provenance", 14);
  clock.lap(t, "evidence", 14);
  ASSERT_EQ(t.phases.size(), 4u);
  EXPECT_EQ(t.phases[1].requests, 10u);
  EXPECT_EQ(t.phases[3].requests, 4u);
  EXPECT_EQ(t.phases[2].requests, 0u);
  double sum = 0;
  for (const auto& p : t.phases) sum += p.ms;
  EXPECT_NEAR(sum, t.total_ms, 1e-6);
}

TEST(Timing, ShownInTextMarkdownAndHtmlReports) {
  report::ReportInput input;
  input.command = "gate";
  input.verdict = "pass";
  input.evidence = with_timing();
  input.document = document();
  const std::string line = timing_summary(sample());
  EXPECT_NE(report::render_text_report(input).find("timing: " + line), std::string::npos);
  EXPECT_NE(report::render_markdown(input).find("Timing: `812 ms: manifest 3.2 ms"),
            std::string::npos);
  EXPECT_NE(report::render_html(input).find("<p class=\"meta\">timing: 812 ms: manifest"),
            std::string::npos);
  input.document.reset();
  EXPECT_EQ(report::render_text_report(input).find("timing:"), std::string::npos);
}

}  // namespace
}  // namespace imagegate::evidence
