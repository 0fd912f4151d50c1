// ECS service deployments and revisions (ListServiceDeployments, DescribeServiceDeployments,
// DescribeServiceRevisions): what DescribeServices no longer shows once a deployment is over. A
// deployment the circuit breaker rolled back leaves a service that looks stable on the old task
// definition; only the deployment record says it was rolled back, to which revision, and why.
#pragma once

#include <functional>
#include <string>

#include "deploy/ecs.hpp"
#include "deploy/expectations.hpp"
#include "findings/findings.hpp"

namespace imagegate::deploy {

// DescribeServiceDeployments and DescribeServiceRevisions take at most 20 ARNs a call.
inline constexpr std::size_t kMaxArnsPerDescribe = 20;

struct DeploymentReport {
  bool judged = false;   // the APIs answered and listed a deployment
  std::string arn{};     // the service's current (newest) deployment
  std::string status{};  // its status after any waiting: SUCCESSFUL, ROLLBACK_SUCCESSFUL, ...
  std::string target_revision{};
  std::string task_definition{};  // of the target revision, when it was read
};

// Judges the service's current deployment. SUCCESSFUL passes when its target revision's
// containerImages carry the expected digests (REVISION_DIGEST_MISMATCH, DIGEST_UNVERIFIED);
// rolled back is ROLLOUT_ROLLED_BACK (reason, the revision it went back to, circuit breaker and
// alarms), STOPPED DEPLOYMENT_STOPPED, still running ROLLOUT_IN_PROGRESS. While it runs,
// `wait_more` (when set) sleeps and answers whether to look again. Denied or absent APIs are one
// warning DEPLOYMENTS_UNAVAILABLE (the other checks still decide); any other failure is an error.
DeploymentReport check_deployments(EcsApi& api, const std::string& cluster,
                                   const std::string& service, const Expectations& expectations,
                                   const ExpectedDigests& digests,
                                   const std::function<bool()>& wait_more,
                                   findings::Findings& findings);

}  // namespace imagegate::deploy
