// ECS model of the fake AWS: ARNs, task definition lookup, how a task's image digest is
// resolved, and the JSON shapes of services, deployments and tasks (botocore's ecs model).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "state.hpp"

namespace imagegate::fake_aws {

inline std::string cluster_arn(const State& s, const std::string& cluster) {
  return fmt::format("arn:aws:ecs:{}:{}:cluster/{}", s.region, s.account, cluster);
}

inline std::string service_arn(const State& s, const std::string& cluster,
                               const std::string& service) {
  return fmt::format("arn:aws:ecs:{}:{}:service/{}/{}", s.region, s.account, cluster, service);
}

inline std::string task_arn(const State& s, const std::string& cluster, const std::string& id) {
  return fmt::format("arn:aws:ecs:{}:{}:task/{}/{}", s.region, s.account, cluster, id);
}

inline std::string task_definition_arn(const State& s, const std::string& family, int revision) {
  return fmt::format("arn:aws:ecs:{}:{}:task-definition/{}:{}", s.region, s.account, family,
                     revision);
}

// The last '/'-separated part: a cluster, service or task ARN names its resource there.
inline std::string arn_last_part(const std::string& ref) {
  if (!ref.starts_with("arn:")) return ref;
  auto slash = ref.rfind('/');
  return slash == std::string::npos ? ref : ref.substr(slash + 1);
}

// cluster name from a name or arn:aws:ecs:...:cluster/NAME
inline std::string cluster_name(const std::string& ref) {
  if (!ref.starts_with("arn:")) return ref;
  auto pos = ref.find(":cluster/");
  return pos == std::string::npos ? ref : ref.substr(pos + 9);
}

// Resolves a family (latest ACTIVE revision), family:revision or full ARN, like ECS does.
inline const Json* find_task_definition(const State& s, const std::string& ref) {
  if (ref.starts_with("arn:")) {
    for (const auto& td : s.task_definitions) {
      if (td.value("taskDefinitionArn", "") == ref) return &td;
    }
    return nullptr;
  }
  auto colon = ref.find(':');
  std::string family = ref.substr(0, colon);
  int revision = 0;
  if (colon != std::string::npos) {
    try {
      std::size_t used = 0;
      revision = std::stoi(ref.substr(colon + 1), &used);
      if (used != ref.size() - colon - 1) return nullptr;
    } catch (const std::exception&) {
      return nullptr;
    }
  }
  const Json* best = nullptr;
  for (const auto& td : s.task_definitions) {
    if (td.value("family", "") != family) continue;
    int rev = td.value("revision", 0);
    if (revision != 0 ? rev == revision
                      : (td.value("status", "ACTIVE") == "ACTIVE" &&
                         (!best || rev > best->value("revision", 0)))) {
      best = &td;
    }
  }
  return best;
}

inline int next_revision(const State& s, const std::string& family) {
  int max = 0;
  for (const auto& td : s.task_definitions) {
    if (td.value("family", "") == family) max = std::max(max, td.value("revision", 0));
  }
  return max + 1;
}

// What ECS reports as a running container's imageDigest: the digest pinned in the image
// reference, else what the ECR repository's tag points at, else nothing (not resolvable).
inline std::string resolve_image_digest(const State& s, const std::string& image) {
  if (auto at = image.find("@sha256:"); at != std::string::npos) return image.substr(at + 1);
  std::string host = fmt::format("{}.dkr.ecr.{}.amazonaws.com/", s.account, s.region);
  if (!image.starts_with(host)) return "";
  std::string rest = image.substr(host.size());
  std::string tag = "latest";
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  auto repo = s.repositories.find(rest);
  if (repo == s.repositories.end()) return "";
  for (const auto& img : repo->second.images) {
    if (std::find(img.tags.begin(), img.tags.end(), tag) != img.tags.end()) return img.digest;
  }
  return "";
}

inline std::vector<Container> containers_of(const State& s, const std::string& td_arn) {
  std::vector<Container> out;
  const Json* td = find_task_definition(s, td_arn);
  if (!td) return out;
  for (const auto& def : td->value("containerDefinitions", Json::array())) {
    Container c;
    c.name = def.value("name", "");
    c.image = def.value("image", "");
    c.image_digest = resolve_image_digest(s, c.image);
    out.push_back(std::move(c));
  }
  return out;
}

inline Task make_task(State& s, const std::string& cluster, const std::string& td_arn,
                      const std::string& started_by) {
  Task t;
  t.arn = task_arn(s, cluster, random_string(32, "0123456789abcdef"));
  t.task_definition_arn = td_arn;
  t.started_by = started_by;
  t.containers = containers_of(s, td_arn);
  t.created_at = now_epoch();
  return t;
}

inline Deployment make_deployment(const std::string& td_arn, int desired) {
  Deployment d;
  d.id = "ecs-svc/" + random_string(19, "0123456789");
  d.task_definition = td_arn;
  d.desired_count = desired;
  d.running_count = desired;
  d.created_at = d.updated_at = now_epoch();
  return d;
}

// Makes the PRIMARY deployment's rollout COMPLETED the way ECS ends a rollout: the other
// deployments are drained and the service runs desiredCount tasks of the new task definition.
inline void complete_rollout(State& s, const std::string& cluster, Service& svc) {
  auto primary = std::find_if(svc.deployments.begin(), svc.deployments.end(),
                              [](const Deployment& d) { return d.status == "PRIMARY"; });
  if (primary == svc.deployments.end()) return;
  Deployment done = *primary;
  done.rollout_state = "COMPLETED";
  done.rollout_state_reason = "ECS deployment " + done.id + " completed.";
  done.running_count = done.desired_count;
  done.pending_count = 0;
  done.complete_after_describes = -1;
  done.updated_at = now_epoch();
  svc.deployments = {done};
  std::erase_if(svc.tasks,
                [&](const Task& t) { return t.task_definition_arn != done.task_definition; });
  while (static_cast<int>(svc.tasks.size()) < done.desired_count) {
    svc.tasks.push_back(make_task(s, cluster, done.task_definition, done.id));
  }
  while (static_cast<int>(svc.tasks.size()) > done.desired_count) svc.tasks.pop_back();
}

inline Json deployment_json(const Deployment& d) {
  Json j = {{"id", d.id},
            {"status", d.status},
            {"taskDefinition", d.task_definition},
            {"desiredCount", d.desired_count},
            {"pendingCount", d.pending_count},
            {"runningCount", d.running_count},
            {"failedTasks", d.failed_tasks},
            {"createdAt", d.created_at},
            {"updatedAt", d.updated_at},
            {"launchType", "FARGATE"},
            {"rolloutState", d.rollout_state}};
  if (!d.rollout_state_reason.empty()) j["rolloutStateReason"] = d.rollout_state_reason;
  return j;
}

inline Json service_json(const State& s, const std::string& cluster, const std::string& name,
                         const Service& svc) {
  int running = 0, pending = 0;
  for (const auto& t : svc.tasks) {
    if (t.last_status == "RUNNING") ++running;
    if (t.last_status == "PENDING") ++pending;
  }
  Json deployments = Json::array();
  for (const auto& d : svc.deployments) {
    if (d.status == "PRIMARY") deployments.push_back(deployment_json(d));
  }
  for (const auto& d : svc.deployments) {
    if (d.status != "PRIMARY") deployments.push_back(deployment_json(d));
  }
  return {{"serviceArn", service_arn(s, cluster, name)},
          {"serviceName", name},
          {"clusterArn", cluster_arn(s, cluster)},
          {"loadBalancers", Json::array()},
          {"serviceRegistries", Json::array()},
          {"status", svc.status},
          {"desiredCount", svc.desired_count},
          {"runningCount", running},
          {"pendingCount", pending},
          {"launchType", "FARGATE"},
          {"taskDefinition", svc.task_definition},
          {"deploymentConfiguration",
           {{"deploymentCircuitBreaker", {{"enable", false}, {"rollback", false}}},
            {"maximumPercent", 200},
            {"minimumHealthyPercent", 100}}},
          {"deployments", deployments},
          {"events", Json::array()},
          {"createdAt", svc.created_at},
          {"placementConstraints", Json::array()},
          {"placementStrategy", Json::array()},
          {"schedulingStrategy", "REPLICA"},
          {"deploymentController", {{"type", "ECS"}}},
          {"enableECSManagedTags", false},
          {"propagateTags", "NONE"},
          {"enableExecuteCommand", false}};
}

inline Json task_json(const State& s, const std::string& cluster, const std::string& service,
                      const Task& t) {
  std::string id = arn_last_part(t.arn);
  Json containers = Json::array();
  for (const auto& c : t.containers) {
    Json cj = {{"containerArn", fmt::format("arn:aws:ecs:{}:{}:container/{}/{}/{}", s.region,
                                            s.account, cluster, id, c.name)},
               {"taskArn", t.arn},
               {"name", c.name},
               {"image", c.image}};
    if (!c.image_digest.empty()) cj["imageDigest"] = c.image_digest;
    cj["runtimeId"] = id + "-" + c.name;
    cj["lastStatus"] = c.last_status;
    cj["networkInterfaces"] = Json::array();
    cj["healthStatus"] = "UNKNOWN";
    containers.push_back(std::move(cj));
  }
  Json j = {{"attachments", Json::array()},
            {"availabilityZone", s.region + "a"},
            {"clusterArn", cluster_arn(s, cluster)},
            {"containers", containers},
            {"createdAt", t.created_at},
            {"desiredStatus", t.desired_status},
            {"group", "service:" + service},
            {"lastStatus", t.last_status},
            {"launchType", "FARGATE"}};
  if (!t.started_by.empty()) j["startedBy"] = t.started_by;
  j["startedAt"] = t.created_at;
  j["taskArn"] = t.arn;
  j["taskDefinitionArn"] = t.task_definition_arn;
  j["version"] = 1;
  return j;
}

}  // namespace imagegate::fake_aws
