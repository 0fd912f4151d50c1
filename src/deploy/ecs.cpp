#include "deploy/ecs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

using nlohmann::json;

constexpr const char* kTargetPrefix = "AmazonEC2ContainerServiceV20141113.";

aws::AwsResult<json> call(aws::JsonClient& client, const std::string& operation, json body) {
  return client.call({"ecs", kTargetPrefix + operation, std::move(body)});
}

std::string string_field(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::optional<long long> number_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<long long>();
}

std::string counts(const json& deployment) {
  auto show = [&](const char* key) {
    const auto n = number_field(deployment, key);
    return n ? std::to_string(*n) : std::string("?");
  };
  return fmt::format("running {}/{} desired, {} pending", show("runningCount"),
                     show("desiredCount"), show("pendingCount"));
}

}  // namespace

aws::AwsResult<json> JsonEcsApi::describe_services(const std::string& cluster,
                                                   const std::vector<std::string>& services) {
  return call(client_, "DescribeServices", {{"cluster", cluster}, {"services", services}});
}

aws::AwsResult<json> JsonEcsApi::describe_task_definition(const std::string& task_definition) {
  return call(client_, "DescribeTaskDefinition", {{"taskDefinition", task_definition}});
}

aws::AwsResult<json> JsonEcsApi::list_tasks(const std::string& cluster, const std::string& service,
                                            const std::string& next_token) {
  json body = {{"cluster", cluster}, {"serviceName", service}, {"desiredStatus", "RUNNING"}};
  if (!next_token.empty()) body["nextToken"] = next_token;
  return call(client_, "ListTasks", std::move(body));
}

aws::AwsResult<json> JsonEcsApi::describe_tasks(const std::string& cluster,
                                                const std::vector<std::string>& tasks) {
  return call(client_, "DescribeTasks", {{"cluster", cluster}, {"tasks", tasks}});
}

aws::AwsResult<json> JsonEcsApi::list_service_deployments(const std::string& cluster,
                                                          const std::string& service,
                                                          const std::string& next_token) {
  json body = {{"cluster", cluster}, {"service", service}};
  if (!next_token.empty()) body["nextToken"] = next_token;
  return call(client_, "ListServiceDeployments", std::move(body));
}

aws::AwsResult<json> JsonEcsApi::describe_service_deployments(
    const std::vector<std::string>& arns) {
  return call(client_, "DescribeServiceDeployments", {{"serviceDeploymentArns", arns}});
}

aws::AwsResult<json> JsonEcsApi::describe_service_revisions(const std::vector<std::string>& arns) {
  return call(client_, "DescribeServiceRevisions", {{"serviceRevisionArns", arns}});
}

bool is_pending_task(const json& task) {
  const auto status = string_field(task, "lastStatus");
  return status == "PROVISIONING" || status == "PENDING" || status == "ACTIVATING";
}

Rollout assess_rollout(const json& service) {
  using State = Rollout::State;
  if (!service.is_object()) return {State::kInvalid, "", "the service is not a JSON object"};
  if (const auto status = string_field(service, "status"); status != "ACTIVE") {
    return {State::kInactive, "",
            fmt::format("the service's status is {}, not ACTIVE", util::quote(status))};
  }
  if (!service.contains("deployments") || !service["deployments"].is_array()) {
    return {State::kInvalid, "", "the service has no deployments list"};
  }
  const auto& deployments = service["deployments"];
  std::vector<const json*> primaries;
  for (const auto& d : deployments) {
    if (string_field(d, "status") == "PRIMARY") primaries.push_back(&d);
  }
  if (primaries.size() != 1) {
    return {State::kInvalid, "",
            fmt::format("the service has {} PRIMARY deployments, expected exactly one",
                        primaries.size())};
  }
  const json& primary = *primaries.front();
  Rollout out{State::kInvalid, string_field(primary, "taskDefinition"), ""};
  if (out.primary_task_definition.empty()) {
    out.detail = "the PRIMARY deployment names no task definition";
    return out;
  }
  const auto others = deployments.size() - 1;
  if (primary.contains("rolloutState")) {
    const auto state = string_field(primary, "rolloutState");
    const auto reason = string_field(primary, "rolloutStateReason");
    if (state == "COMPLETED") {
      out.state = State::kCompleted;
      out.detail = counts(primary);
    } else if (state == "FAILED") {
      out.state = State::kFailed;
      out.detail = reason.empty() ? "no rolloutStateReason given" : util::escape_display(reason);
    } else if (state == "IN_PROGRESS") {
      out.state = State::kInProgress;
      out.detail = fmt::format("{}; {} older deployment{} still listed", counts(primary), others,
                               others == 1 ? "" : "s");
    } else {
      out.detail = fmt::format("unknown rolloutState {}", util::quote(state));
    }
    return out;
  }
  // Deployment controllers other than ECS report no rolloutState: steady state is one
  // deployment running everything it wants.
  const auto running = number_field(primary, "runningCount");
  const auto desired = number_field(primary, "desiredCount");
  if (!running || !desired) {
    out.detail = "the PRIMARY deployment has neither rolloutState nor running/desired counts";
    return out;
  }
  out.state = (others == 0 && *running == *desired) ? State::kCompleted : State::kInProgress;
  out.detail = fmt::format("{}; {} older deployment{} still listed", counts(primary), others,
                           others == 1 ? "" : "s");
  return out;
}

void record_rollout(const std::string& service, const Rollout& rollout, bool waited,
                    findings::Findings& findings) {
  using State = Rollout::State;
  switch (rollout.state) {
    case State::kCompleted:
      return;
    case State::kFailed:
      findings.error("ROLLOUT_FAILED", "", service,
                     fmt::format("the rollout of {} failed: {}", rollout.primary_task_definition,
                                 rollout.detail));
      return;
    case State::kInProgress:
      findings.error("ROLLOUT_IN_PROGRESS", "", service,
                     fmt::format("the rollout of {} is still in progress{} ({})",
                                 rollout.primary_task_definition,
                                 waited ? " after --wait" : "; pass --wait DURATION to wait for it",
                                 rollout.detail));
      return;
    case State::kInactive:
      findings.error("SERVICE_INACTIVE", "", service, rollout.detail);
      return;
    case State::kInvalid:
      findings.error("BAD_RESPONSE", "", service,
                     "DescribeServices answer not understood: " + rollout.detail);
      return;
  }
}

ExpectedDigests expected_digests(const Expectations& expectations, const DigestResolver& resolver) {
  ExpectedDigests out;
  for (const auto& image : expectations.images) {
    if (image.has_evidence) {
      if (image.evidence_status == "pass") {
        out.emplace(image.id, image.digest);
      } else if (!(image.evidence_status == "absent" && !image.required)) {
        out.emplace(image.id, fail("DIGEST_UNVERIFIED",
                                   fmt::format("the evidence has no verified digest for image {}",
                                               util::quote(image.id))));
      }
    } else if (resolver) {
      out.emplace(image.id, resolver(image));
    } else {
      out.emplace(image.id,
                  fail("DIGEST_UNVERIFIED",
                       fmt::format("the digest of image {} is not known without --evidence, so "
                                   "running containers cannot be verified",
                                   util::quote(image.id))));
    }
  }
  return out;
}

void check_tasks(const std::string& service, const json& tasks,
                 const std::string& primary_task_definition, const Expectations& expectations,
                 const ExpectedDigests& digests, findings::Findings& findings) {
  if (!tasks.is_array() || tasks.empty()) {
    findings.error("NO_RUNNING_TASKS", "", service,
                   "the service runs no tasks, so no running image can be verified");
    return;
  }
  std::set<std::string> unknown_reported;
  for (const auto& task : tasks) {
    const auto arn = string_field(task, "taskArn");
    const auto td = string_field(task, "taskDefinitionArn");
    const auto subject = arn.empty() ? service : arn;
    if (arn.empty() || td.empty() || !task.contains("containers") ||
        !task["containers"].is_array()) {
      findings.error("BAD_RESPONSE", "", subject,
                     "DescribeTasks answer not understood: a task lacks taskArn, "
                     "taskDefinitionArn or containers");
      continue;
    }
    if (is_pending_task(task)) {
      findings.error("TASK_PENDING", "", arn,
                     fmt::format("task {} is {}: it has not started, so what it will run is not "
                                 "known yet (verify --wait DURATION waits for it)",
                                 util::quote(arn), string_field(task, "lastStatus")));
      continue;
    }
    if (td != primary_task_definition) {
      findings.error(
          "STALE_TASK", "", arn,
          fmt::format("task {} runs task definition {}, not the primary {}", util::quote(arn),
                      util::quote(td), util::quote(primary_task_definition)));
    }
    for (const auto& c : task["containers"]) {
      const auto name = string_field(c, "name");
      const auto* image = expectations.for_container(name);
      if (image == nullptr) continue;  // unmanaged: judged on the task definition
      const auto want = digests.find(image->id);
      if (want == digests.end()) continue;  // optional and absent from the evidence
      if (!want->second) {
        if (unknown_reported.insert(image->id).second) {
          findings.error(want->second.error().code, image->id, name, want->second.error().message);
        }
        continue;
      }
      const auto got = string_field(c, "imageDigest");
      if (got.empty()) {
        findings.error("DIGEST_UNVERIFIED", image->id, name,
                       fmt::format("container {} of task {} reports no imageDigest",
                                   util::quote(name), util::quote(arn)));
      } else if (got != *want->second) {
        findings.error("DIGEST_MISMATCH", image->id, name,
                       fmt::format("container {} of task {} runs {} ({}), expected {}",
                                   util::quote(name), util::quote(arn), util::quote(got),
                                   util::quote(string_field(c, "image")), *want->second));
      }
    }
  }
}

std::string finding_code(const aws::AwsError& error) {
  if (error.code == "AWS_ERROR") {
    if (error.aws_code == "ClusterNotFoundException") return "CLUSTER_MISSING";
    if (error.aws_code == "ServiceNotFoundException") return "SERVICE_MISSING";
  }
  return error.code;
}

}  // namespace imagegate::deploy
