// DescribeImageScanFindings answers, page by page: every status, both findings shapes, the
// counts over pages, and every shape that is not understood (never a pass).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "registry/ecr/scan_answers.hpp"

namespace imagegate::registry::ecr::detail {
namespace {

using nlohmann::json;

json page(const std::string& status, json findings = nullptr, std::string token = "") {
  json out = {{"imageScanStatus", {{"status", status}, {"description", "said " + status}}}};
  if (!findings.is_null()) out["imageScanFindings"] = std::move(findings);
  if (!token.empty()) out["nextToken"] = token;
  return out;
}

json basic(json counts, std::initializer_list<const char*> severities) {
  json list = json::array();
  for (const char* s : severities) list.push_back({{"name", "CVE-1"}, {"severity", s}});
  return {
      {"imageScanCompletedAt", 1764547200}, {"findingSeverityCounts", counts}, {"findings", list}};
}

ScanResult read_all(const std::vector<json>& pages) {
  ScanResult scan;
  for (const auto& p : pages) {
    if (read_scan_page(p, scan).empty()) break;
  }
  finish_scan(scan);
  return scan;
}

TEST(EcrScanAnswers, CompleteBasicScanCountsPerSeverity) {
  const auto scan =
      read_all({page("COMPLETE", basic({{"HIGH", 1}, {"LOW", 2}}, {"HIGH", "LOW", "LOW"}))});
  EXPECT_EQ(scan.state, ScanState::kComplete);
  EXPECT_EQ(scan.status, "COMPLETE");
  EXPECT_EQ(scan.description, "said COMPLETE");
  EXPECT_EQ(scan.kind, "basic");
  EXPECT_EQ(scan.counts, (std::map<std::string, long long>{{"HIGH", 1}, {"LOW", 2}}));
  EXPECT_EQ(scan.findings_listed, 3u);
  EXPECT_EQ(scan.pages, 1);
  EXPECT_EQ(scan.completed_at, "1764547200");
}

TEST(EcrScanAnswers, EnhancedFindingsUnderAnActiveContinuousScan) {
  const json findings = {{"enhancedFindings",
                          {{{"severity", "CRITICAL"}, {"status", "ACTIVE"}},
                           {{"severity", "UNTRIAGED"}, {"status", "ACTIVE"}}}}};
  const auto scan = read_all({page("ACTIVE", findings)});
  EXPECT_EQ(scan.state, ScanState::kComplete);
  EXPECT_EQ(scan.kind, "enhanced");
  EXPECT_EQ(scan.counts, (std::map<std::string, long long>{{"CRITICAL", 1}, {"UNTRIAGED", 1}}));
}

TEST(EcrScanAnswers, PagesAddUpAndTheReportedTotalsAreNotCountedTwice) {
  ScanResult scan;
  EXPECT_EQ(read_scan_page(page("COMPLETE", basic({{"HIGH", 3}}, {"HIGH", "HIGH"}), "t1"), scan),
            "t1");
  EXPECT_EQ(read_scan_page(page("COMPLETE", basic({{"HIGH", 3}}, {"HIGH", "MEDIUM"})), scan), "");
  finish_scan(scan);
  EXPECT_EQ(scan.pages, 2);
  EXPECT_EQ(scan.findings_listed, 4u);
  // HIGH: the total ECR reports (3) is larger than the listed (3); MEDIUM only listed.
  EXPECT_EQ(scan.counts, (std::map<std::string, long long>{{"HIGH", 3}, {"MEDIUM", 1}}));
}

TEST(EcrScanAnswers, ListedFindingsCountEvenWhenTheTotalsSayLess) {
  const auto scan = read_all({page("COMPLETE", basic({{"LOW", 1}}, {"CRITICAL", "LOW"}))});
  EXPECT_EQ(scan.counts, (std::map<std::string, long long>{{"CRITICAL", 1}, {"LOW", 1}}));
}

TEST(EcrScanAnswers, InProgressAndPendingArePendingAndStopPaging) {
  for (const char* status : {"IN_PROGRESS", "PENDING"}) {
    ScanResult scan;
    EXPECT_EQ(read_scan_page(page(status, nullptr, "t1"), scan), "") << status;
    EXPECT_EQ(scan.state, ScanState::kPending) << status;
    EXPECT_EQ(scan.status, status);
  }
}

TEST(EcrScanAnswers, EveryOtherStatusFailsWithItsDescription) {
  for (const char* status :
       {"FAILED", "UNSUPPORTED_IMAGE", "FINDINGS_UNAVAILABLE", "SCAN_ELIGIBILITY_EXPIRED",
        "LIMIT_EXCEEDED", "IMAGE_ARCHIVED", "SOMETHING_NEW"}) {
    const auto scan = read_all({page(status, basic(json::object(), {}))});
    EXPECT_EQ(scan.state, ScanState::kFailed) << status;
    EXPECT_EQ(scan.error.code, "SCAN_FAILED");
    EXPECT_EQ(scan.error.message, std::string("the scan status is ") + status + ": said " + status);
    EXPECT_TRUE(scan.counts.empty()) << "no counts from a scan that is not complete";
  }
}

TEST(EcrScanAnswers, ShapesThatAreNotUnderstoodFail) {
  const std::vector<std::pair<json, std::string>> cases = {
      {json::object(), "DescribeImageScanFindings answered no imageScanStatus.status"},
      {json{{"imageScanStatus", {{"status", 3}}}},
       "DescribeImageScanFindings answered no imageScanStatus.status"},
      {json::array(), "DescribeImageScanFindings answered no imageScanStatus.status"},
      {page("COMPLETE"),
       "the scan is COMPLETE but DescribeImageScanFindings answered no imageScanFindings"},
      {page("COMPLETE", json::object()),
       "DescribeImageScanFindings answered an empty imageScanFindings"},
      {page("COMPLETE", {{"findings", "many"}}),
       "DescribeImageScanFindings answered imageScanFindings.findings that is not a list"},
      {page("COMPLETE", {{"enhancedFindings", {{{"title", "no severity"}}}}}),
       "DescribeImageScanFindings answered an entry of imageScanFindings.enhancedFindings "
       "without a severity"},
      {page("COMPLETE", {{"findingSeverityCounts", {{"HIGH", -1}}}}),
       "DescribeImageScanFindings answered findingSeverityCounts.HIGH that is not a count"},
      {page("COMPLETE", {{"findingSeverityCounts", {{"HIGH", "1"}}}}),
       "DescribeImageScanFindings answered findingSeverityCounts.HIGH that is not a count"},
      {page("COMPLETE", {{"findingSeverityCounts", json::array()}}),
       "DescribeImageScanFindings answered findingSeverityCounts that is not a map"},
  };
  for (const auto& [answer, message] : cases) {
    const auto scan = read_all({answer});
    EXPECT_EQ(scan.state, ScanState::kFailed) << answer.dump();
    EXPECT_EQ(scan.error.code, "SCAN_FAILED") << answer.dump();
    EXPECT_EQ(scan.error.message, message) << answer.dump();
  }
  json bad_token = page("COMPLETE", basic(json::object(), {}));
  bad_token["nextToken"] = 7;
  const auto scan = read_all({bad_token});
  EXPECT_EQ(scan.state, ScanState::kFailed);
  EXPECT_EQ(scan.error.message,
            "DescribeImageScanFindings answered a nextToken that is not a string");
}

TEST(EcrScanAnswers, AStatusThatChangesBetweenPagesFails) {
  ScanResult scan;
  EXPECT_EQ(read_scan_page(page("COMPLETE", basic(json::object(), {"LOW"}), "t1"), scan), "t1");
  EXPECT_EQ(read_scan_page(page("IN_PROGRESS"), scan), "");
  EXPECT_EQ(scan.state, ScanState::kFailed);
  EXPECT_EQ(scan.error.message,
            "the scan status changed between pages, from COMPLETE to "
            "IN_PROGRESS");
}

TEST(EcrScanAnswers, TooManyPagesAreNotJudged) {
  ScanResult scan;
  std::string token = "start";
  for (int i = 0; i < kMaxScanPages && !token.empty(); ++i) {
    token = read_scan_page(page("COMPLETE", basic(json::object(), {"LOW"}), "more"), scan);
  }
  EXPECT_EQ(scan.pages, kMaxScanPages);
  EXPECT_EQ(scan.state, ScanState::kFailed);
  EXPECT_EQ(scan.error.message, "the findings go on past 1000 pages; they were not judged");
}

TEST(EcrScanAnswers, FailedCallsNeverPass) {
  ScanResult never;
  scan_call_failed(never, "ScanNotFoundException", "Image scan does not exist");
  EXPECT_EQ(never.state, ScanState::kFailed);
  EXPECT_EQ(never.error.code, "SCAN_FAILED");
  EXPECT_EQ(never.error.message,
            "no scan exists for this image (ScanNotFoundException): turn on scan on push for the "
            "repository, or start a scan");
  ScanResult denied;
  scan_call_failed(denied, "AccessDeniedException",
                   "DescribeImageScanFindings: AccessDeniedException: denied (HTTP 400)");
  EXPECT_EQ(denied.state, ScanState::kFailed);
  EXPECT_EQ(denied.error.message,
            "the call failed: DescribeImageScanFindings: AccessDeniedException: denied (HTTP 400)");
}

}  // namespace
}  // namespace imagegate::registry::ecr::detail
