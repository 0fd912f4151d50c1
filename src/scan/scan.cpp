#include "scan/scan.hpp"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "report/gate_text.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::scan {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH",
                                                    "CRITICAL"};

std::string accepted() {
  return "INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL";
}

// Highest first (CRITICAL … INFORMATIONAL), then every other name as the registry gave it.
std::string describe_counts(const std::map<std::string, long long>& counts) {
  std::vector<std::string> parts;
  for (auto it = kNames.rbegin(); it != kNames.rend(); ++it) {
    const auto found = counts.find(std::string(*it));
    if (found != counts.end() && found->second > 0) {
      parts.push_back(fmt::format("{} {}", *it, found->second));
    }
  }
  for (const auto& [severity, n] : counts) {
    if (!parse_level(severity) && n > 0) {
      parts.push_back(fmt::format("{} {}", util::escape_display(severity), n));
    }
  }
  return parts.empty() ? "none" : util::join(parts, ", ");
}

long long total(const std::map<std::string, long long>& counts) {
  long long n = 0;
  for (const auto& [severity, count] : counts) n += count;
  return n;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (text == kNames[i]) return static_cast<Level>(i);
  }
  return std::nullopt;
}

std::string_view to_string(Level level) {
  return kNames[static_cast<std::size_t>(level)];
}

bool fails_at(std::string_view severity, Level threshold) {
  const auto level = parse_level(severity);
  return !level || *level >= threshold;
}

Policy effective_policy(const manifest::ScanPolicy& manifest_scan, const std::string& cli) {
  Policy policy;
  if (manifest_scan.declared) {
    if (!manifest_scan.well_formed) {
      throw UsageError(fmt::format(
          "manifest \"scan\" must be an object with \"maxSeverity\", one of {} (a misspelt scan "
          "policy would switch the scan gate off)",
          accepted()));
    }
    const auto level = parse_level(manifest_scan.max_severity);
    if (!level) {
      throw UsageError(fmt::format(
          "manifest scan.maxSeverity {} is not a severity; expected one of {} (a misspelt "
          "severity would switch the scan gate off)",
          util::quote(manifest_scan.max_severity), accepted()));
    }
    policy = {true, *level, "manifest"};
  }
  if (!cli.empty()) {
    const auto level = parse_level(cli);
    if (!level) {
      throw UsageError(fmt::format("--max-severity {} is not a severity; expected one of {}",
                                   util::quote(cli), accepted()));
    }
    policy = {true, *level, "--max-severity"};
  }
  return policy;
}

void judge(const Policy& policy, const std::string& digest, const registry::ScanResult& result,
           evidence::ImageEvidence& out) {
  auto& s = out.scan;
  s.checked = true;
  s.digest = digest;
  s.max_severity = std::string(to_string(policy.max_severity));
  s.policy_source = policy.source;
  s.scan_status = result.status;
  s.description = result.description;
  s.kind = result.kind;
  s.findings_listed = result.findings_listed;
  s.pages = result.pages;
  s.completed_at = result.completed_at;
  const std::string what =
      fmt::format("{} in {}", report::short_digest(digest), util::quote(out.repository));
  const auto error = [&](const char* code, std::string message) {
    out.findings.push_back({findings::Severity::kError, code, out.id, "scan", std::move(message)});
  };
  switch (result.state) {
    case registry::ScanState::kPending:
      s.status = "pending";
      error("SCAN_PENDING",
            fmt::format("the scan of {} is {}{}: not judged until it completes; run the gate "
                        "again when it has",
                        what, util::escape_display(result.status),
                        result.description.empty()
                            ? std::string()
                            : " (" + util::escape_display(result.description) + ")"));
      return;
    case registry::ScanState::kFailed:
    case registry::ScanState::kUnsupported:
      s.status = "fail";
      error("SCAN_FAILED",
            fmt::format("the scan of {} cannot be judged: {}", what,
                        result.error.message.empty() ? "no answer" : result.error.message));
      return;
    case registry::ScanState::kComplete:
      break;
  }
  s.counts = result.counts;
  for (const auto& [severity, n] : result.counts) {
    if (n > 0 && fails_at(severity, policy.max_severity)) s.failing[severity] = n;
  }
  if (s.failing.empty()) {
    s.status = "pass";
    return;
  }
  s.status = "fail";
  error("VULNERABILITIES_FOUND",
        fmt::format("{} has {} {} at or above {}: {} (all findings: {}; {} scan, {})", what,
                    total(s.failing), total(s.failing) == 1 ? "finding" : "findings",
                    to_string(policy.max_severity), describe_counts(s.failing),
                    describe_counts(s.counts), s.kind.empty() ? "basic" : s.kind,
                    util::escape_display(result.status)));
}

void check(registry::Registry& registry, const Policy& policy, evidence::Evidence& evidence) {
  if (!policy.active) return;
  if (!registry.has_scans()) {
    evidence::recompute_verdict(evidence);
    evidence.findings.push_back(
        {findings::Severity::kError, "SCAN_UNAVAILABLE", "", "scan",
         fmt::format("a scan policy is set (maxSeverity {} from {}) but scan findings are only "
                     "available from ECR, not from {}: nothing was scanned, so the gate fails",
                     to_string(policy.max_severity), policy.source,
                     util::escape_display(registry.describe()))});
    evidence.verdict = "fail";
    return;
  }
  std::vector<std::size_t> judged;
  std::vector<registry::ScanRequest> requests;
  for (std::size_t i = 0; i < evidence.images.size(); ++i) {
    const auto& image = evidence.images[i];
    // Provenance keeps the digest it failed in provenance.digest: its scan is still reported.
    const std::string digest = !image.digest.empty()
                                   ? image.digest
                                   : (image.provenance.checked ? image.provenance.digest : "");
    if (digest.empty()) continue;
    judged.push_back(i);
    requests.push_back({image.repository, digest});
  }
  const auto results = registry.read_scans(requests);
  for (std::size_t k = 0; k < judged.size(); ++k) {
    auto& image = evidence.images[judged[k]];
    const std::size_t before = image.findings.size();
    registry::ScanResult missing;
    missing.error = Error{"SCAN_FAILED", "the registry gave no scan answer"};
    judge(policy, requests[k].digest, k < results.size() ? results[k] : missing, image);
    if (image.findings.size() > before) {
      image.status = "fail";
      image.digest.clear();
    }
  }
  evidence::recompute_verdict(evidence);
}

}  // namespace imagegate::scan
