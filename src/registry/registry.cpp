#include "registry/registry.hpp"

namespace imagegate::registry {

std::vector<ContentResult> Registry::fetch(const std::vector<ContentRequest>& requests) {
  std::vector<ContentResult> results(requests.size());
  for (auto& r : results) {
    r.status = ContentStatus::kError;
    r.error = Error{"UNSUPPORTED", "this registry backend cannot read content"};
  }
  return results;
}

std::vector<ScanResult> Registry::read_scans(const std::vector<ScanRequest>& requests) {
  std::vector<ScanResult> results(requests.size());
  for (auto& r : results) {
    r.state = ScanState::kUnsupported;
    r.error = Error{"SCAN_UNAVAILABLE", "scan findings are only available from ECR"};
  }
  return results;
}

}  // namespace imagegate::registry
