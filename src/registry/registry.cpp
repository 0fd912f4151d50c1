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

}  // namespace imagegate::registry
