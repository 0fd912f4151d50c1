// Reading DescribeImageScanFindings answers (the scan gate), one page at a time, kept apart from
// the calls so every status and shape can be tested on its own. Shapes as the ECR service model
// has them: imageScanStatus {status, description}; imageScanFindings {imageScanCompletedAt,
// findingSeverityCounts {SEVERITY: n}, findings[] {severity} (basic scanning),
// enhancedFindings[] {severity} (enhanced scanning, Amazon Inspector)}; nextToken.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "registry/registry.hpp"

namespace imagegate::registry::ecr::detail {

// Pages of one digest at most; a scan with more findings is not judged (SCAN_FAILED).
inline constexpr int kMaxScanPages = 1000;

// Reads one answer into `scan` and returns the nextToken to ask for next, or "" when there is
// nothing more to read: the last page, a scan still running (kPending), or a status or shape
// that is not understood (kFailed with the reason, never a pass). COMPLETE and ACTIVE answers
// leave kComplete until the last page is read.
std::string read_scan_page(const nlohmann::json& answer, ScanResult& scan);

// A DescribeImageScanFindings call that failed: ScanNotFoundException (never scanned) and every
// other error (its message names the operation, AWS error, HTTP status, request id) are kFailed.
void scan_call_failed(ScanResult& scan, std::string_view aws_code, std::string_view message);

// After the last page: the counts per severity (the larger of the reported totals and the listed
// findings, per severity).
void finish_scan(ScanResult& scan);

}  // namespace imagegate::registry::ecr::detail
