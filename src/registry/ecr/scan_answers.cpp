#include "registry/ecr/scan_answers.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/text.hpp"

namespace imagegate::registry::ecr::detail {
namespace {

using nlohmann::json;

void failed(ScanResult& scan, std::string message) {
  scan.state = ScanState::kFailed;
  scan.error = Error{"SCAN_FAILED", std::move(message)};
}

// findings[] or enhancedFindings[]: every entry an object with a string severity.
bool count_list(const json& list, const char* key, ScanResult& scan) {
  if (!list.is_array()) {
    failed(scan, fmt::format("DescribeImageScanFindings answered imageScanFindings.{} that is not "
                             "a list",
                             key));
    return false;
  }
  for (const auto& finding : list) {
    const auto severity = finding.is_object() ? finding.find("severity") : finding.end();
    if (!finding.is_object() || severity == finding.end() || !severity->is_string()) {
      failed(scan, fmt::format("DescribeImageScanFindings answered an entry of "
                               "imageScanFindings.{} without a severity",
                               key));
      return false;
    }
    ++scan.listed[severity->get<std::string>()];
    ++scan.findings_listed;
  }
  return true;
}

bool read_findings(const json& findings, ScanResult& scan) {
  if (!findings.is_object()) {
    failed(scan, fmt::format("the scan is {} but DescribeImageScanFindings answered no "
                             "imageScanFindings",
                             util::escape_display(scan.status)));
    return false;
  }
  if (const auto at = findings.find("imageScanCompletedAt");
      at != findings.end() && at->is_number()) {
    scan.completed_at = at->dump();
  }
  if (const auto counts = findings.find("findingSeverityCounts"); counts != findings.end()) {
    if (!counts->is_object()) {
      failed(scan, "DescribeImageScanFindings answered findingSeverityCounts that is not a map");
      return false;
    }
    for (const auto& [severity, n] : counts->items()) {
      if (!n.is_number_integer() || n.get<long long>() < 0) {
        failed(scan, fmt::format("DescribeImageScanFindings answered findingSeverityCounts.{} "
                                 "that is not a count",
                                 util::escape_display(severity)));
        return false;
      }
      auto& kept = scan.reported[severity];
      kept = std::max(kept, n.get<long long>());
    }
  }
  bool any_list = false;
  for (const char* key : {"findings", "enhancedFindings"}) {
    const auto list = findings.find(key);
    if (list == findings.end() || list->is_null()) continue;
    if (!count_list(*list, key, scan)) return false;
    const std::string kind = std::string_view(key) == "findings" ? "basic" : "enhanced";
    if (scan.kind.empty() || scan.kind == kind) {
      scan.kind = kind;
    } else {
      scan.kind = "basic+enhanced";
    }
    any_list = true;
  }
  if (!any_list && !findings.contains("findingSeverityCounts") &&
      !findings.contains("imageScanCompletedAt") && scan.pages == 1) {
    // Every member is optional in the model, but a completed scan has at least its time; an
    // empty object is no result.
    failed(scan, "DescribeImageScanFindings answered an empty imageScanFindings");
    return false;
  }
  return true;
}

}  // namespace

std::string read_scan_page(const json& answer, ScanResult& scan) {
  ++scan.pages;
  const auto status_object = answer.is_object() ? answer.find("imageScanStatus") : answer.end();
  if (!answer.is_object() || status_object == answer.end() || !status_object->is_object() ||
      !status_object->contains("status") || !(*status_object)["status"].is_string()) {
    failed(scan, "DescribeImageScanFindings answered no imageScanStatus.status");
    return "";
  }
  const std::string status = (*status_object)["status"].get<std::string>();
  std::string description;
  if (const auto d = status_object->find("description");
      d != status_object->end() && d->is_string()) {
    description = d->get<std::string>();
  }
  if (scan.pages > 1 && status != scan.status) {
    failed(scan, fmt::format("the scan status changed between pages, from {} to {}",
                             util::escape_display(scan.status), util::escape_display(status)));
    return "";
  }
  scan.status = status;
  scan.description = description;
  if (status == "IN_PROGRESS" || status == "PENDING") {
    scan.state = ScanState::kPending;
    return "";
  }
  if (status != "COMPLETE" && status != "ACTIVE") {
    // FAILED, UNSUPPORTED_IMAGE, FINDINGS_UNAVAILABLE, SCAN_ELIGIBILITY_EXPIRED (continuous
    // scanning stopped: the findings are stale), LIMIT_EXCEEDED, IMAGE_ARCHIVED, and anything
    // newer: no result to judge.
    failed(scan, fmt::format("the scan status is {}{}", util::escape_display(status),
                             description.empty() ? std::string()
                                                 : ": " + util::escape_display(description)));
    return "";
  }
  scan.state = ScanState::kComplete;
  const auto findings = answer.find("imageScanFindings");
  if (!read_findings(findings == answer.end() ? json() : *findings, scan)) return "";
  const auto token = answer.find("nextToken");
  if (token == answer.end() || token->is_null()) return "";
  if (!token->is_string()) {
    failed(scan, "DescribeImageScanFindings answered a nextToken that is not a string");
    return "";
  }
  if (!token->get<std::string>().empty() && scan.pages >= kMaxScanPages) {
    failed(scan,
           fmt::format("the findings go on past {} pages; they were not judged", kMaxScanPages));
    return "";
  }
  return token->get<std::string>();
}

void scan_call_failed(ScanResult& scan, std::string_view aws_code, std::string_view message) {
  if (aws_code == "ScanNotFoundException") {
    failed(scan,
           "no scan exists for this image (ScanNotFoundException): turn on scan on push for the "
           "repository, or start a scan");
    return;
  }
  failed(scan, fmt::format("the call failed: {}", message));
}

void finish_scan(ScanResult& scan) {
  if (scan.state != ScanState::kComplete) return;
  scan.counts = scan.reported;
  for (const auto& [severity, n] : scan.listed) {
    auto& kept = scan.counts[severity];
    kept = std::max(kept, n);
  }
}

}  // namespace imagegate::registry::ecr::detail
