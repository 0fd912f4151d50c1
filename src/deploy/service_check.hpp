// Verifying ECS services end to end: describe them, optionally wait for their rollouts, check the
// primary task definition with the same rules as a task definition file, and check every running
// task's task definition and image digests. Every AWS failure is a failing finding.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "deploy/deployments.hpp"
#include "deploy/ecs.hpp"
#include "deploy/expectations.hpp"

namespace imagegate::deploy {

struct WaitPolicy {
  std::chrono::milliseconds deadline{0};  // 0: do not wait
  std::chrono::milliseconds first_delay{2000};
  std::chrono::milliseconds max_delay{15000};
  double factor = 1.5;
  // Injectable for tests; defaults are the steady clock and sleep_for.
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
};

// The delays a poll makes: first_delay, growing by factor up to max_delay, never past deadline.
std::chrono::milliseconds next_delay(const WaitPolicy& policy, std::chrono::milliseconds previous,
                                     std::chrono::milliseconds left);

struct ServiceReport {
  std::string name;
  bool found = false;
  Rollout rollout;
  std::vector<ContainerVerdict> containers;  // of the primary task definition
  bool task_definition_checked = false;
  std::size_t tasks_checked = 0;
  DeploymentReport deployment{};  // ListServiceDeployments' newest, when the APIs answered
};

// Verifies every service of `cluster`; findings for everything that does not hold or could not
// be checked, each naming its service (as subject, or "(service 'cluster/name')" at the end).
// With a wait deadline, rollouts, deployments and tasks still starting are waited for. One report
// per service, in the order given. Together the services' primary task definitions must hold a
// container for every required image (CONTAINER_MISSING otherwise).
std::vector<ServiceReport> verify_services(EcsApi& api, const std::string& cluster,
                                           const std::vector<std::string>& services,
                                           const Expectations& expectations,
                                           const DigestResolver& resolver, const WaitPolicy& wait,
                                           findings::Findings& findings);

}  // namespace imagegate::deploy
