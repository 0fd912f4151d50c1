// verify's human and JSON output, beside the gate's: per container what was concluded about its
// image, and per ECS service its rollout, current deployment, task definition and tasks checked.
// commands/verify only wires these together.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deploy/expectations.hpp"
#include "deploy/service_check.hpp"
#include "report/text.hpp"

namespace imagegate::report {

// "  ✓ container image" lines (✗ failed, ! warning, - unmanaged and kept).
std::string render_verify_containers(const std::vector<deploy::ContainerVerdict>& containers,
                                     const Style& style);
nlohmann::json verify_containers_json(const std::vector<deploy::ContainerVerdict>& containers);

// "service 'cluster/name': rollout COMPLETED, task definition ARN", the deployment line when
// the deployments API answered, the containers and the number of tasks checked.
std::string render_verify_service(const std::string& cluster, const deploy::ServiceReport& report,
                                  const Style& style);
nlohmann::json verify_service_json(const std::string& cluster, const deploy::ServiceReport& report);

}  // namespace imagegate::report
