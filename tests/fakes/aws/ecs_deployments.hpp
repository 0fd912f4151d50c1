// ECS service deployments and revisions of the fake AWS: ListServiceDeployments,
// DescribeServiceDeployments and DescribeServiceRevisions, shaped as the service model
// (botocore ecs/2014-11-13, @aws-sdk/client-ecs) describes them. The state gives each service's
// ServiceDeployment and ServiceRevision objects (timestamps as epoch seconds); the fake fills in
// serviceArn and clusterArn, lists newest first, and answers unknown ARNs as failures (MISSING).
//
//   "serviceDeployments": [{"serviceDeploymentArn", "status", "statusReason"?, "createdAt"?,
//       "startedAt"?, "finishedAt"?, "targetServiceRevision": {"arn", ...}, "rollback"?: {"reason",
//       "startedAt", "serviceRevisionArn"}, "deploymentCircuitBreaker"?, "alarms"?,
//       "completeAfterDescribes"?: K}]   (IN_PROGRESS: the next K DescribeServiceDeployments still
//                                        show it so, the one after shows it SUCCESSFUL)
//   "serviceRevisions": [{"serviceRevisionArn", "taskDefinition", "containerImages": [
//       {"containerName", "image", "imageDigest"}], ...}]
#pragma once

#include <algorithm>
#include <string>

#include "ecs.hpp"
#include "ecs_model.hpp"
#include "params.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::ecs {

inline constexpr std::size_t kMaxDeploymentArns = 20;  // DescribeServiceDeployments, -Revisions

inline Json with_service_arns(const State& s, const std::string& cluster,
                              const std::string& service, Json object) {
  object["serviceArn"] = service_arn(s, cluster, service);
  object["clusterArn"] = cluster_arn(s, cluster);
  object.erase("completeAfterDescribes");
  return object;
}

inline double created_at(const Json& deployment) {
  const auto it = deployment.find("createdAt");
  return it != deployment.end() && it->is_number() ? it->get<double>() : 0;
}

inline Json list_service_deployments(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, false);
  auto [name, svc] = find_service(*c, str(body, "service", true));
  if (!svc) throw AwsError{400, "ServiceNotFoundException", "Service not found."};
  Json statuses = list(body, "status", 0, 10);
  auto max_results = integer(body, "maxResults");
  if (max_results && (*max_results < 1 || *max_results > 100)) {
    throw invalid_parameter("maxResults must be between 1 and 100.");
  }
  std::vector<const Json*> matching;
  for (const auto& d : svc->service_deployments) {
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), d.value("status", "")) == statuses.end()) {
      continue;
    }
    matching.push_back(&d);
  }
  std::stable_sort(matching.begin(), matching.end(),
                   [](const Json* a, const Json* b) { return created_at(*a) > created_at(*b); });
  Page page = paginate(matching.size(), str(body, "nextToken"), max_results.value_or(20));
  Json briefs = Json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    const Json& d = *matching[i];
    Json brief = {{"serviceDeploymentArn", d.value("serviceDeploymentArn", "")},
                  {"serviceArn", service_arn(s, cname, name)},
                  {"clusterArn", cluster_arn(s, cname)}};
    for (const char* key : {"startedAt", "createdAt", "finishedAt", "status", "statusReason"}) {
      if (d.contains(key)) brief[key] = d[key];
    }
    if (d.contains("targetServiceRevision") && d["targetServiceRevision"].contains("arn")) {
      brief["targetServiceRevisionArn"] = d["targetServiceRevision"]["arn"];
    }
    briefs.push_back(std::move(brief));
  }
  Json out = {{"serviceDeployments", briefs}};
  if (!page.next_token.empty()) out["nextToken"] = page.next_token;
  return out;
}

// Every service's objects under `key` whose `arn_key` is one of the request's ARNs, and a
// MISSING failure for each ARN no service has.
template <typename Visit>
Json describe_by_arn(State& s, const Json& body, const char* request_key, const char* key,
                     const char* arn_key, const char* answer_key, Visit visit) {
  Json arns = list(body, request_key, 1, 1000, true);
  if (arns.size() > kMaxDeploymentArns) {
    throw invalid_parameter(
        fmt::format("{} can have at most {} items.", request_key, kMaxDeploymentArns));
  }
  Json found = Json::array();
  Json failures = Json::array();
  for (const auto& arn : arns) {
    const std::string wanted = arn.is_string() ? arn.get<std::string>() : "";
    bool hit = false;
    for (auto& [cname, c] : s.clusters) {
      for (auto& [sname, svc] : c.services) {
        for (auto& object : key == std::string("serviceDeployments") ? svc.service_deployments
                                                                     : svc.service_revisions) {
          if (object.value(arn_key, "") != wanted) continue;
          visit(object);
          found.push_back(with_service_arns(s, cname, sname, object));
          hit = true;
        }
      }
    }
    if (!hit) failures.push_back({{"arn", wanted}, {"reason", "MISSING"}});
  }
  return {{answer_key, found}, {"failures", failures}};
}

inline Json describe_service_deployments(State& s, const Json& body) {
  return describe_by_arn(s, body, "serviceDeploymentArns", "serviceDeployments",
                         "serviceDeploymentArn", "serviceDeployments", [](Json& d) {
                           const auto it = d.find("completeAfterDescribes");
                           if (it == d.end() || !it->is_number_integer()) return;
                           const int left = it->get<int>();
                           if (left < 0) return;
                           if (left > 0) {
                             d["completeAfterDescribes"] = left - 1;
                             return;
                           }
                           d["status"] = "SUCCESSFUL";
                           d["finishedAt"] = now_epoch();
                           d["completeAfterDescribes"] = -1;
                         });
}

inline Json describe_service_revisions(State& s, const Json& body) {
  return describe_by_arn(s, body, "serviceRevisionArns", "serviceRevisions", "serviceRevisionArn",
                         "serviceRevisions", [](Json&) {});
}

}  // namespace imagegate::fake_aws::ecs
