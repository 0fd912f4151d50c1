#include "deploy/deployments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

using nlohmann::json;

std::string text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

double number(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0;
}

// Denied by policy, or an API this partition does not have: the deployment view is missing,
// not wrong.
bool unavailable(const aws::AwsError& error) {
  static const std::set<std::string, std::less<>> kCodes = {
      "AccessDeniedException", "AccessDenied", "UnknownOperationException", "InvalidAction",
      "UnsupportedOperation"};
  return kCodes.contains(error.aws_code);
}

bool settled(const std::string& status) {
  return status != "PENDING" && status != "IN_PROGRESS" && status != "ROLLBACK_REQUESTED" &&
         status != "ROLLBACK_IN_PROGRESS" && status != "STOP_REQUESTED";
}

class Judge {
 public:
  Judge(EcsApi& api, const std::string& service, const Expectations& expectations,
        const ExpectedDigests& digests, findings::Findings& findings)
      : api_(api),
        service_(service),
        expectations_(expectations),
        digests_(digests),
        findings_(findings) {}

  // false: the call failed (the finding is recorded).
  bool failed_call(const char* operation, const aws::AwsError& error) {
    if (unavailable(error)) {
      findings_.warning(
          "DEPLOYMENTS_UNAVAILABLE", "", service_,
          fmt::format("{} is not available here ({}): the service's deployments and revisions are "
                      "not judged, only DescribeServices and the running tasks",
                      operation, error.aws_code));
    } else {
      findings_.error(finding_code(error), "", service_,
                      fmt::format("{} failed: {}", operation, util::escape_display(error.message)));
    }
    return false;
  }

  void bad(const std::string& message) { findings_.error("BAD_RESPONSE", "", service_, message); }

  // The full ServiceDeployment objects of `arns`, by ARN (chunks of 20).
  std::optional<std::map<std::string, json>> describe(const std::vector<std::string>& arns) {
    std::map<std::string, json> out;
    for (std::size_t start = 0; start < arns.size(); start += kMaxArnsPerDescribe) {
      const std::vector<std::string> chunk(
          arns.begin() + static_cast<std::ptrdiff_t>(start),
          arns.begin() +
              static_cast<std::ptrdiff_t>(std::min(arns.size(), start + kMaxArnsPerDescribe)));
      auto answer = api_.describe_service_deployments(chunk);
      if (!answer) {
        failed_call("DescribeServiceDeployments", answer.error());
        return std::nullopt;
      }
      if (!answer->is_object() || !answer->value("serviceDeployments", json()).is_array()) {
        bad("DescribeServiceDeployments answer not understood: no serviceDeployments list");
        return std::nullopt;
      }
      for (const auto& d : (*answer)["serviceDeployments"]) {
        if (!text(d, "serviceDeploymentArn").empty()) out[text(d, "serviceDeploymentArn")] = d;
      }
    }
    return out;
  }

  void judge_rollback(const json& d, const std::string& arn, const std::string& status) {
    const json rollback = d.value("rollback", json::object());
    std::string detail = text(rollback, "reason");
    if (detail.empty()) detail = text(d, "statusReason");
    if (detail.empty()) detail = "no reason given";
    std::string monitors;
    const json breaker = d.value("deploymentCircuitBreaker", json::object());
    if (text(breaker, "status") == "TRIGGERED") {
      monitors += fmt::format("; circuit breaker TRIGGERED ({} failed tasks, threshold {})",
                              static_cast<long long>(number(breaker, "failureCount")),
                              static_cast<long long>(number(breaker, "threshold")));
    }
    const json alarms = d.value("alarms", json::object());
    if (text(alarms, "status") == "TRIGGERED") {
      std::vector<std::string> names;
      for (const auto& n : alarms.value("triggeredAlarmNames", json::array())) {
        if (n.is_string()) names.push_back(n.get<std::string>());
      }
      monitors += fmt::format("; alarms TRIGGERED: {}",
                              names.empty() ? "(none named)" : util::join(names, ", "));
    }
    const std::string back_to = text(rollback, "serviceRevisionArn");
    findings_.error(
        "ROLLOUT_ROLLED_BACK", "", service_,
        fmt::format("deployment {} of revision {} was rolled back ({}) to revision {}: {}{}", arn,
                    text(d.value("targetServiceRevision", json::object()), "arn"), status,
                    back_to.empty() ? "(not named)" : back_to, util::escape_display(detail),
                    monitors));
  }

  void judge_revision(const std::string& revision, DeploymentReport& report) {
    auto answer = api_.describe_service_revisions({revision});
    if (!answer) {
      failed_call("DescribeServiceRevisions", answer.error());
      return;
    }
    const json revisions = answer->is_object() ? answer->value("serviceRevisions", json()) : json();
    const auto found =
        revisions.is_array()
            ? std::find_if(revisions.begin(), revisions.end(),
                           [&](const json& r) { return text(r, "serviceRevisionArn") == revision; })
            : revisions.end();
    if (!revisions.is_array() || found == revisions.end()) {
      bad(fmt::format("DescribeServiceRevisions gave no revision {}", revision));
      return;
    }
    report.task_definition = text(*found, "taskDefinition");
    const json images = found->value("containerImages", json());
    if (!images.is_array()) {
      bad(fmt::format("service revision {} lists no containerImages", revision));
      return;
    }
    std::set<std::string> unknown_reported;
    for (const auto& c : images) {
      const std::string name = text(c, "containerName");
      const auto* image = expectations_.for_container(name);
      if (image == nullptr) continue;  // unmanaged: judged on the task definition
      const auto want = digests_.find(image->id);
      if (want == digests_.end()) continue;
      if (!want->second) {
        if (unknown_reported.insert(image->id).second) {
          findings_.error(want->second.error().code, image->id, name, want->second.error().message);
        }
        continue;
      }
      const std::string got = text(c, "imageDigest");
      if (got.empty()) {
        findings_.error("DIGEST_UNVERIFIED", image->id, name,
                        fmt::format("container {} of service revision {} has no imageDigest",
                                    util::quote(name), revision));
      } else if (got != *want->second) {
        findings_.error(
            "REVISION_DIGEST_MISMATCH", image->id, name,
            fmt::format("container {} of service revision {} (the current deployment's target) "
                        "is {} ({}), expected {}",
                        util::quote(name), revision, got, util::quote(text(c, "image")),
                        *want->second));
      }
    }
  }

 private:
  EcsApi& api_;
  const std::string& service_;
  const Expectations& expectations_;
  const ExpectedDigests& digests_;
  findings::Findings& findings_;
};

}  // namespace

DeploymentReport check_deployments(EcsApi& api, const std::string& cluster,
                                   const std::string& service, const Expectations& expectations,
                                   const ExpectedDigests& digests,
                                   const std::function<bool()>& wait_more,
                                   findings::Findings& findings) {
  DeploymentReport report;
  Judge judge(api, service, expectations, digests, findings);
  auto listed = api.list_service_deployments(cluster, service, "");
  if (!listed) {
    judge.failed_call("ListServiceDeployments", listed.error());
    return report;
  }
  if (!listed->is_object() || !listed->value("serviceDeployments", json()).is_array()) {
    judge.bad("ListServiceDeployments answer not understood: no serviceDeployments list");
    return report;
  }
  // The newest deployment is the service's current one.
  const json* current = nullptr;
  std::vector<std::string> arns;
  for (const auto& brief : (*listed)["serviceDeployments"]) {
    if (text(brief, "serviceDeploymentArn").empty()) continue;
    arns.push_back(text(brief, "serviceDeploymentArn"));
    if (current == nullptr || number(brief, "createdAt") > number(*current, "createdAt")) {
      current = &brief;
    }
  }
  // None in the API's window (older services): DescribeServices and the tasks decide.
  if (current == nullptr) return report;
  report.arn = text(*current, "serviceDeploymentArn");
  auto described = judge.describe(arns);
  if (!described) return report;
  auto it = described->find(report.arn);
  if (it == described->end()) {
    judge.bad(fmt::format("DescribeServiceDeployments gave no deployment {}", report.arn));
    return report;
  }
  json deployment = it->second;
  report.status = text(deployment, "status");
  while (!settled(report.status) && wait_more && wait_more()) {
    auto again = judge.describe({report.arn});
    if (!again) return report;
    if (!again->contains(report.arn)) {
      judge.bad(fmt::format("DescribeServiceDeployments gave no deployment {}", report.arn));
      return report;
    }
    deployment = again->at(report.arn);
    report.status = text(deployment, "status");
  }
  report.judged = true;
  report.target_revision = text(deployment.value("targetServiceRevision", json::object()), "arn");
  const std::string reason = util::escape_display(text(deployment, "statusReason"));
  if (report.status.starts_with("ROLLBACK_")) {
    judge.judge_rollback(deployment, report.arn, report.status);
  } else if (report.status == "STOPPED" || report.status == "STOP_REQUESTED") {
    findings.error(
        "DEPLOYMENT_STOPPED", "", service,
        fmt::format("deployment {} of revision {} is {}: {}", report.arn, report.target_revision,
                    report.status, reason.empty() ? "no reason given" : reason));
  } else if (report.status == "PENDING" || report.status == "IN_PROGRESS") {
    findings.error(
        "ROLLOUT_IN_PROGRESS", "", service,
        fmt::format("deployment {} of revision {} is still {}{}", report.arn,
                    report.target_revision, report.status,
                    wait_more ? " after --wait" : "; pass --wait DURATION to wait for it"));
  } else if (report.status == "SUCCESSFUL") {
    if (report.target_revision.empty()) {
      judge.bad(fmt::format("deployment {} names no target revision", report.arn));
    } else {
      judge.judge_revision(report.target_revision, report);
    }
  } else {
    judge.bad(fmt::format("deployment {} has an unknown status {}", report.arn,
                          util::quote(report.status)));
  }
  return report;
}

}  // namespace imagegate::deploy
