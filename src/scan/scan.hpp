// The opt-in scan gate: with "scan": {"maxSeverity": SEV} in the manifest or --max-severity SEV,
// every gated digest's vulnerability scan is read (ECR's DescribeImageScanFindings, through
// Registry::read_scans) and judged. Judging is pure (a scan result in, findings out), so every
// rule is unit-tested without a registry. Nothing that could not be judged is a pass.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "evidence/evidence.hpp"
#include "manifest/manifest.hpp"
#include "registry/registry.hpp"

namespace imagegate::scan {

// The five severities ECR ranks, lowest first.
enum class Level { kInformational, kLow, kMedium, kHigh, kCritical };

// "INFORMATIONAL" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" (as ECR spells them); nullopt for
// anything else.
std::optional<Level> parse_level(std::string_view text);
std::string_view to_string(Level level);

// Whether a finding of this severity fails at this threshold: a ranked severity at or above it;
// any other severity (UNDEFINED of basic scanning, Amazon Inspector's UNTRIAGED, a name newer
// than this build) fails at every threshold, since it cannot be shown to be below.
bool fails_at(std::string_view severity, Level threshold);

struct Policy {
  bool active = false;
  Level max_severity = Level::kCritical;
  std::string source;  // "--max-severity" | "manifest"
};

// --max-severity (when given) overrides the manifest's scan.maxSeverity; neither: inactive.
// Throws UsageError (exit 2) for an unknown value in either place, or a manifest "scan" that is
// not an object with a string maxSeverity: a typo must never switch the check off.
Policy effective_policy(const manifest::ScanPolicy& manifest_scan, const std::string& cli);

// The rules on one image's scan result (pure). kPending: SCAN_PENDING; kFailed: SCAN_FAILED
// with the status and what the registry said; kComplete with findings at or above the threshold:
// VULNERABILITIES_FOUND with the counts per severity; else a pass. Every finding is an error.
// Fills out.scan and appends to out.findings.
void judge(const Policy& policy, const std::string& digest, const registry::ScanResult& result,
           evidence::ImageEvidence& out);

// The whole scan step of a gate, after provenance: every image whose tags resolved to one
// digest is read in one batch and judged; an image whose scan fails becomes "fail" (its digest is
// kept in scan.digest only). A registry without scan results gets one SCAN_UNAVAILABLE error
// for the whole gate and nothing is read. The evidence's findings and verdict are recomputed.
void check(registry::Registry& registry, const Policy& policy, evidence::Evidence& evidence);

}  // namespace imagegate::scan
