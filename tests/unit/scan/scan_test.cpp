// The scan gate's rules: severities and thresholds, the policy's precedence and its input
// errors, the judgement of every scan state, and the step over a registry (every image reported,
// one finding for a registry without scans).
#include "scan/scan.hpp"

#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "util/embedded.hpp"
#include "util/error.hpp"

namespace imagegate::scan {
namespace {

using registry::ScanResult;
using registry::ScanState;

TEST(ScanLevels, AsEcrNamesThem) {
  EXPECT_EQ(parse_level("HIGH"), Level::kHigh);
  EXPECT_EQ(parse_level("INFORMATIONAL"), Level::kInformational);
  EXPECT_EQ(parse_level("high"), std::nullopt);
  EXPECT_EQ(parse_level("UNDEFINED"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
  EXPECT_EQ(to_string(Level::kCritical), "CRITICAL");
}

TEST(ScanLevels, AtOrAboveTheThresholdFails) {
  EXPECT_TRUE(fails_at("HIGH", Level::kHigh));
  EXPECT_TRUE(fails_at("CRITICAL", Level::kHigh));
  EXPECT_FALSE(fails_at("MEDIUM", Level::kHigh));
  EXPECT_FALSE(fails_at("INFORMATIONAL", Level::kLow));
  EXPECT_TRUE(fails_at("INFORMATIONAL", Level::kInformational));
  // Unranked severities cannot be shown to be below any threshold.
  EXPECT_TRUE(fails_at("UNDEFINED", Level::kCritical));
  EXPECT_TRUE(fails_at("UNTRIAGED", Level::kCritical));
  EXPECT_TRUE(fails_at("high", Level::kCritical));
}

std::string usage_error(const manifest::ScanPolicy& m, const std::string& cli) {
  try {
    effective_policy(m, cli);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

manifest::ScanPolicy in_manifest(std::string severity) {
  return {true, true, std::move(severity)};
}

TEST(ScanPolicy, TheManifestLoaderReadsIt) {
  const auto with = manifest::parse(R"({"images": [], "scan": {"maxSeverity": "HIGH"}})", "m.json");
  ASSERT_TRUE(with);
  EXPECT_TRUE(with->scan.declared);
  EXPECT_TRUE(with->scan.well_formed);
  EXPECT_EQ(with->scan.max_severity, "HIGH");
  const auto without = manifest::parse(R"({"images": []})", "m.json");
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->scan.declared);
  for (const char* bad : {R"({"scan": "HIGH"})", R"({"scan": {"maxSeverty": "HIGH"}})",
                          R"({"scan": {"maxSeverity": 3}})"}) {
    const auto m = manifest::parse(bad, "m.json");
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->scan.declared) << bad;
    EXPECT_FALSE(m->scan.well_formed) << bad;
    EXPECT_NE(usage_error(m->scan, "HIGH"), "no error") << bad;
  }
}

TEST(ScanPolicy, OffWhenNeitherIsGiven) {
  EXPECT_FALSE(effective_policy({}, "").active);
}

TEST(ScanPolicy, TheCommandLineOverridesTheManifest) {
  const auto manifest_only = effective_policy(in_manifest("HIGH"), "");
  EXPECT_TRUE(manifest_only.active);
  EXPECT_EQ(manifest_only.max_severity, Level::kHigh);
  EXPECT_EQ(manifest_only.source, "manifest");
  const auto both = effective_policy(in_manifest("HIGH"), "CRITICAL");
  EXPECT_EQ(both.max_severity, Level::kCritical);
  EXPECT_EQ(both.source, "--max-severity");
  const auto cli_only = effective_policy({}, "LOW");
  EXPECT_EQ(cli_only.max_severity, Level::kLow);
}

TEST(ScanPolicy, UnknownSeveritiesAreInputErrors) {
  EXPECT_EQ(usage_error(in_manifest("HIGHH"), ""),
            "manifest scan.maxSeverity 'HIGHH' is not a severity; expected one of INFORMATIONAL, "
            "LOW, MEDIUM, HIGH, CRITICAL (a misspelt severity would switch the scan gate off)");
  EXPECT_EQ(usage_error({}, "UNDEFINED"),
            "--max-severity 'UNDEFINED' is not a severity; expected one of INFORMATIONAL, LOW, "
            "MEDIUM, HIGH, CRITICAL");
  // The manifest's typo counts even when the command line overrides it.
  EXPECT_NE(usage_error(in_manifest("hihg"), "HIGH"), "no error");
  EXPECT_EQ(usage_error({true, false, ""}, ""),
            "manifest \"scan\" must be an object with \"maxSeverity\", one of INFORMATIONAL, LOW, "
            "MEDIUM, HIGH, CRITICAL (a misspelt scan policy would switch the scan gate off)");
}

const Policy kHigh{true, Level::kHigh, "manifest"};
const std::string kDigest = "sha256:" + std::string(64, 'a');

evidence::ImageEvidence image() {
  evidence::ImageEvidence out;
  out.id = "web";
  out.repository = "afu9/web";
  out.status = "pass";
  out.digest = kDigest;
  return out;
}

TEST(ScanJudge, FindingsAtTheThresholdFailWithCountsPerSeverity) {
  ScanResult r;
  r.state = ScanState::kComplete;
  r.status = "COMPLETE";
  r.kind = "basic";
  r.counts = {{"HIGH", 2}, {"CRITICAL", 1}, {"MEDIUM", 4}, {"UNDEFINED", 1}};
  r.pages = 2;
  auto out = image();
  judge(kHigh, kDigest, r, out);
  ASSERT_EQ(out.findings.size(), 1u);
  EXPECT_EQ(out.findings[0].code, "VULNERABILITIES_FOUND");
  EXPECT_EQ(out.findings[0].severity, findings::Severity::kError);
  EXPECT_EQ(out.findings[0].subject, "scan");
  EXPECT_EQ(out.findings[0].image_id, "web");
  EXPECT_EQ(
      out.findings[0].message,
      "sha256:aaaaaaaaaaaa in 'afu9/web' has 4 findings at or above HIGH: CRITICAL 1, HIGH 2, "
      "UNDEFINED 1 (all findings: CRITICAL 1, HIGH 2, MEDIUM 4, UNDEFINED 1; basic scan, "
      "COMPLETE)");
  EXPECT_EQ(out.scan.status, "fail");
  EXPECT_EQ(out.scan.failing,
            (std::map<std::string, long long>{{"CRITICAL", 1}, {"HIGH", 2}, {"UNDEFINED", 1}}));
  EXPECT_EQ(out.scan.counts.at("MEDIUM"), 4);
  EXPECT_EQ(out.scan.max_severity, "HIGH");
  EXPECT_EQ(out.scan.pages, 2);
}

TEST(ScanJudge, UnderTheThresholdPassesWithTheCountsRecorded) {
  ScanResult r;
  r.state = ScanState::kComplete;
  r.status = "COMPLETE";
  r.counts = {{"MEDIUM", 3}, {"LOW", 1}, {"HIGH", 0}};
  auto out = image();
  judge(kHigh, kDigest, r, out);
  EXPECT_TRUE(out.findings.empty());
  EXPECT_EQ(out.scan.status, "pass");
  EXPECT_EQ(out.scan.counts.at("MEDIUM"), 3);
  EXPECT_TRUE(out.scan.failing.empty());
  EXPECT_EQ(out.scan.digest, kDigest);
}

TEST(ScanJudge, PendingAndFailedScansAreTheirOwnFindings) {
  ScanResult pending;
  pending.state = ScanState::kPending;
  pending.status = "IN_PROGRESS";
  pending.description = "The scan is in progress.";
  auto a = image();
  judge(kHigh, kDigest, pending, a);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].code, "SCAN_PENDING");
  EXPECT_EQ(a.findings[0].message,
            "the scan of sha256:aaaaaaaaaaaa in 'afu9/web' is IN_PROGRESS (The scan is in "
            "progress.): not judged until it completes; run the gate again when it has");
  EXPECT_EQ(a.scan.status, "pending");

  ScanResult failed;
  failed.state = ScanState::kFailed;
  failed.status = "FAILED";
  failed.error = {"SCAN_FAILED", "the scan status is FAILED: boom"};
  auto b = image();
  judge(kHigh, kDigest, failed, b);
  ASSERT_EQ(b.findings.size(), 1u);
  EXPECT_EQ(b.findings[0].code, "SCAN_FAILED");
  EXPECT_EQ(b.findings[0].message,
            "the scan of sha256:aaaaaaaaaaaa in 'afu9/web' cannot be judged: the scan status is "
            "FAILED: boom");
  EXPECT_EQ(b.scan.status, "fail");
  EXPECT_EQ(b.scan.scan_status, "FAILED");
}

// A registry whose scans are given per digest; counts its read_scans calls.
class ScanRegistry final : public registry::Registry {
 public:
  explicit ScanRegistry(bool has) : has_(has) {}
  std::vector<registry::RepositoryResult> resolve(const std::vector<registry::TagQuery>&) override {
    return {};
  }
  std::string describe() const override { return has_ ? "ecr" : "https://registry.example"; }
  bool has_scans() const override { return has_; }
  std::vector<ScanResult> read_scans(const std::vector<registry::ScanRequest>& rs) override {
    ++calls;
    std::vector<ScanResult> out;
    for (const auto& r : rs) {
      asked.push_back(r.repository + "@" + r.digest);
      out.push_back(by_digest.contains(r.digest) ? by_digest.at(r.digest) : ScanResult{});
    }
    return out;
  }
  bool has_;
  int calls = 0;
  std::vector<std::string> asked;
  std::map<std::string, ScanResult> by_digest;
};

evidence::Evidence two_images() {
  evidence::Evidence e;
  auto a = image();
  auto b = image();
  b.id = "api";
  b.repository = "afu9/api";
  b.digest = "sha256:" + std::string(64, 'b');
  auto c = image();  // its tags failed: no digest, nothing to scan
  c.id = "gone";
  c.status = "fail";
  c.digest.clear();
  c.findings.push_back({findings::Severity::kError, "TAG_MISSING", "gone", "t", "missing"});
  e.images = {a, b, c};
  evidence::recompute_verdict(e);
  return e;
}

TEST(ScanCheck, EveryImageWithADigestIsReadInOneBatchAndReported) {
  ScanRegistry reg(true);
  ScanResult high;
  high.state = ScanState::kComplete;
  high.status = "COMPLETE";
  high.counts = {{"HIGH", 1}};
  ScanResult pending;
  pending.state = ScanState::kPending;
  pending.status = "PENDING";
  reg.by_digest[kDigest] = high;
  reg.by_digest["sha256:" + std::string(64, 'b')] = pending;
  auto e = two_images();
  check(reg, kHigh, e);
  EXPECT_EQ(reg.calls, 1);
  EXPECT_EQ(reg.asked, (std::vector<std::string>{"afu9/web@" + kDigest,
                                                 "afu9/api@sha256:" + std::string(64, 'b')}));
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(e.images[0].status, "fail");
  EXPECT_TRUE(e.images[0].digest.empty());
  EXPECT_EQ(e.images[0].scan.digest, kDigest);
  EXPECT_EQ(e.images[0].findings.back().code, "VULNERABILITIES_FOUND");
  EXPECT_EQ(e.images[1].findings.back().code, "SCAN_PENDING");
  EXPECT_FALSE(e.images[2].scan.checked);
  EXPECT_EQ(e.findings.size(), 3u);
}

TEST(ScanCheck, AnImageWhoseProvenanceFailedIsStillScanned) {
  ScanRegistry reg(true);
  auto e = two_images();
  e.images.resize(1);
  e.images[0].status = "fail";
  e.images[0].digest.clear();
  e.images[0].provenance.checked = true;
  e.images[0].provenance.digest = kDigest;
  check(reg, kHigh, e);
  EXPECT_EQ(reg.asked, (std::vector<std::string>{"afu9/web@" + kDigest}));
  // A default ScanResult is kFailed: no answer never passes.
  EXPECT_EQ(e.images[0].findings.back().code, "SCAN_FAILED");
}

TEST(ScanCheck, OffReadsNothing) {
  ScanRegistry reg(true);
  auto e = two_images();
  check(reg, Policy{}, e);
  EXPECT_EQ(reg.calls, 0);
  EXPECT_FALSE(e.images[0].scan.checked);
}

TEST(ScanCheck, ARegistryWithoutScansFailsOnceForTheWholeGate) {
  ScanRegistry reg(false);
  auto e = two_images();
  e.images.resize(2);
  evidence::recompute_verdict(e);
  ASSERT_EQ(e.verdict, "pass");
  check(reg, kHigh, e);
  EXPECT_EQ(reg.calls, 0);
  EXPECT_EQ(e.verdict, "fail");
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_EQ(e.findings[0].code, "SCAN_UNAVAILABLE");
  EXPECT_EQ(e.findings[0].image_id, "");
  EXPECT_EQ(e.findings[0].message,
            "a scan policy is set (maxSeverity HIGH from manifest) but scan findings are only "
            "available from ECR, not from https://registry.example: nothing was scanned, so the "
            "gate fails");
}

// The scan record (passing, failing, pending) is in the evidence schema, and the schema can fail.
TEST(ScanCheck, TheScanRecordMatchesTheEvidenceSchema) {
  const auto schema_doc = nlohmann::json::parse(embedded::schemas().at("evidence.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  ScanRegistry reg(true);
  ScanResult clean;
  clean.state = ScanState::kComplete;
  clean.status = "COMPLETE";
  clean.counts = {{"LOW", 2}};
  clean.pages = 1;
  clean.completed_at = "1764547200";
  clean.kind = "basic";
  ScanResult pending;
  pending.state = ScanState::kPending;
  pending.status = "IN_PROGRESS";
  reg.by_digest[kDigest] = clean;
  reg.by_digest["sha256:" + std::string(64, 'b')] = pending;
  auto e = two_images();
  e.tool = "imagegate test";
  e.manifest_path = "images-manifest.json";
  e.manifest_sha256 = std::string(64, 'c');
  e.env = "production";
  e.sha = std::string(40, 'd');
  e.registry = "ecr";
  e.time = "2026-12-02T00:00:00Z";
  check(reg, kHigh, e);
  auto doc = evidence::to_json(e);
  EXPECT_EQ(doc["images"][0]["scan"]["status"], "pass");
  EXPECT_EQ(doc["images"][0]["scan"]["severityCounts"]["LOW"], 2);
  EXPECT_EQ(doc["images"][1]["scan"]["status"], "pending");
  EXPECT_FALSE(doc["images"][2].contains("scan"));
  {
    valijson::Validator validator;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    EXPECT_TRUE(validator.validate(schema, target, nullptr)) << doc.dump(2);
  }
  doc["images"][0]["scan"]["maxSeverity"] = "SEVERE";
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  EXPECT_FALSE(validator.validate(schema, target, nullptr));
}

}  // namespace
}  // namespace imagegate::scan
