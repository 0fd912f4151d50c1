// ECS operations of the fake AWS (AmazonEC2ContainerServiceV20141113): task definitions,
// services with deployments and rollouts, tasks with the image digests they run.
#pragma once

#include <string>

#include "ecs_model.hpp"
#include "params.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::ecs {

inline AwsError client_error(const std::string& message) {
  return {400, "ClientException", message};
}

// The request's cluster ("default" when omitted); the default cluster exists on first use, any
// other one must be in the state.
inline std::pair<std::string, Cluster*> cluster(State& s, const Json& body, bool create_default) {
  std::string name = cluster_name(str(body, "cluster"));
  if (name.empty()) name = "default";
  auto it = s.clusters.find(name);
  if (it == s.clusters.end()) {
    if (name != "default" || !create_default) {
      throw AwsError{400, "ClusterNotFoundException", "Cluster not found."};
    }
    it = s.clusters.emplace(name, Cluster{}).first;
  }
  return {name, &it->second};
}

inline Json register_task_definition(State& s, const Json& body) {
  std::string family = str(body, "family", true);
  Json containers = list(body, "containerDefinitions", 0, 10000, true);
  if (family.empty() || family.size() > 255 ||
      family.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
          std::string::npos) {
    throw client_error("Family contains invalid characters or is too long.");
  }
  if (containers.empty()) throw client_error("Container list cannot be empty.");
  for (const auto& c : containers) {
    if (!c.is_object() || str(c, "name").empty()) {
      throw client_error("Container.name should not be null or empty.");
    }
    if (str(c, "image").empty()) throw client_error("Container.image should not be null or empty.");
  }
  int revision = next_revision(s, family);
  Json td = {{"taskDefinitionArn", task_definition_arn(s, family, revision)},
             {"containerDefinitions", containers},
             {"family", family}};
  // The request members the model's TaskDefinition echoes back; others (tags) are not part of it.
  for (const char* key :
       {"taskRoleArn", "executionRoleArn", "networkMode", "volumes", "placementConstraints",
        "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode", "proxyConfiguration",
        "inferenceAccelerators", "ephemeralStorage", "runtimePlatform"}) {
    if (body.contains(key)) td[key] = body[key];
  }
  td["revision"] = revision;
  if (!td.contains("volumes")) td["volumes"] = Json::array();
  td["status"] = "ACTIVE";
  td["requiresAttributes"] = Json::array();
  if (!td.contains("placementConstraints")) td["placementConstraints"] = Json::array();
  td["compatibilities"] = Json::array({"EC2"});
  if (td.value("networkMode", "") == "awsvpc") td["compatibilities"].push_back("FARGATE");
  td["registeredAt"] = now_epoch();
  td["registeredBy"] = fmt::format("arn:aws:iam::{}:user/imagegate-test", s.account);
  s.task_definitions.push_back(td);
  Json out = {{"taskDefinition", td}};
  if (body.contains("tags")) out["tags"] = body["tags"];
  return out;
}

inline Json describe_task_definition(State& s, const Json& body) {
  const Json* td = find_task_definition(s, str(body, "taskDefinition", true));
  if (!td) throw client_error("Unable to describe task definition.");
  return {{"taskDefinition", *td}};
}

inline std::string resolve_task_definition(const State& s, const Json& body) {
  std::string ref = str(body, "taskDefinition");
  if (ref.empty()) throw invalid_parameter("TaskDefinition must be specified.");
  const Json* td = find_task_definition(s, ref);
  if (!td) throw invalid_parameter("TaskDefinition not found.");
  return td->at("taskDefinitionArn");
}

inline Json create_service(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, true);
  std::string name = str(body, "serviceName", true);
  std::string td = resolve_task_definition(s, body);
  int desired = integer(body, "desiredCount").value_or(1);
  if (desired < 0) throw invalid_parameter("Invalid desiredCount.");
  if (auto it = c->services.find(name); it != c->services.end() && it->second.status == "ACTIVE") {
    throw invalid_parameter("Creation of service was not idempotent.");
  }
  Service svc;
  svc.task_definition = td;
  svc.desired_count = desired;
  svc.created_at = now_epoch();
  Deployment d = make_deployment(td, desired);
  d.rollout_state_reason = "ECS deployment " + d.id + " completed.";
  for (int i = 0; i < desired; ++i) svc.tasks.push_back(make_task(s, cname, td, d.id));
  svc.deployments.push_back(d);
  c->services[name] = svc;
  return {{"service", service_json(s, cname, name, svc)}};
}

inline std::pair<std::string, Service*> find_service(Cluster& c, const std::string& ref) {
  std::string name = arn_last_part(ref);
  auto it = c.services.find(name);
  return {name, it == c.services.end() ? nullptr : &it->second};
}

inline Json update_service(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, false);
  auto [name, svc] = find_service(*c, str(body, "service", true));
  if (!svc) throw AwsError{400, "ServiceNotFoundException", "Service not found."};
  if (svc->status != "ACTIVE") {
    throw AwsError{400, "ServiceNotActiveException", "Service was not ACTIVE."};
  }
  if (auto desired = integer(body, "desiredCount")) {
    if (*desired < 0) throw invalid_parameter("Invalid desiredCount.");
    svc->desired_count = *desired;
  }
  std::string td =
      body.contains("taskDefinition") ? resolve_task_definition(s, body) : svc->task_definition;
  bool force = body.value("forceNewDeployment", false);
  if (td == svc->task_definition && !force) {
    for (auto& d : svc->deployments) {
      if (d.status == "PRIMARY") d.desired_count = svc->desired_count;
    }
    auto primary = std::find_if(svc->deployments.begin(), svc->deployments.end(),
                                [](const Deployment& d) { return d.status == "PRIMARY"; });
    if (primary != svc->deployments.end() && primary->rollout_state == "COMPLETED") {
      complete_rollout(s, cname, *svc);
    }
    return {{"service", service_json(s, cname, name, *svc)}};
  }
  RolloutPlan plan = svc->on_update.value_or(RolloutPlan{});
  svc->task_definition = td;
  Deployment d = make_deployment(td, svc->desired_count);
  for (auto& old : svc->deployments) old.status = "ACTIVE";
  if (plan.rollout_state == "COMPLETED") {
    svc->deployments.push_back(d);
    complete_rollout(s, cname, *svc);
  } else {
    d.running_count = 0;
    d.pending_count = plan.rollout_state == "IN_PROGRESS" ? svc->desired_count : 0;
    d.failed_tasks = plan.rollout_state == "FAILED" ? 1 : 0;
    d.rollout_state = plan.rollout_state;
    d.rollout_state_reason = plan.rollout_state_reason;
    d.complete_after_describes = plan.complete_after_describes;
    svc->deployments.insert(svc->deployments.begin(), d);
  }
  return {{"service", service_json(s, cname, name, *svc)}};
}

inline Json describe_services(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, false);
  Json refs = list(body, "services", 0, 1000, true);
  if (refs.empty() || refs.size() > 10) {
    throw invalid_parameter("services can have at most 10 items and cannot be empty.");
  }
  Json services = Json::array();
  Json failures = Json::array();
  for (const auto& ref : refs) {
    std::string r = ref.is_string() ? ref.get<std::string>() : "";
    auto [name, svc] = find_service(*c, r);
    if (!svc) {
      failures.push_back({{"arn", r.starts_with("arn:") ? r : service_arn(s, cname, name)},
                          {"reason", "MISSING"}});
      continue;
    }
    // A scripted rollout: the first N describes still see IN_PROGRESS, the next one completes it.
    for (auto& d : svc->deployments) {
      if (d.status != "PRIMARY" || d.complete_after_describes < 0) continue;
      if (d.complete_after_describes == 0) {
        complete_rollout(s, cname, *svc);
      } else {
        --d.complete_after_describes;
      }
      break;
    }
    services.push_back(service_json(s, cname, name, *svc));
  }
  return {{"services", services}, {"failures", failures}};
}

inline Json list_tasks(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, false);
  std::string service = str(body, "serviceName");
  std::string family = str(body, "family");
  std::string desired = str(body, "desiredStatus");
  if (desired.empty()) desired = "RUNNING";
  auto max_results = integer(body, "maxResults");
  if (max_results && (*max_results < 1 || *max_results > 100)) {
    throw invalid_parameter("maxResults must be between 1 and 100.");
  }
  if (!service.empty() && !find_service(*c, service).second) {
    throw AwsError{400, "ServiceNotFoundException", "Service not found."};
  }
  std::vector<std::string> arns;
  for (const auto& [name, svc] : c->services) {
    if (!service.empty() && name != arn_last_part(service)) continue;
    for (const auto& t : svc.tasks) {
      if (t.desired_status != desired) continue;
      if (!family.empty() &&
          t.task_definition_arn.find("task-definition/" + family + ":") == std::string::npos) {
        continue;
      }
      arns.push_back(t.arn);
    }
  }
  std::size_t size = std::min<std::size_t>(max_results.value_or(100), s.list_tasks_page_size);
  Page page = paginate(arns.size(), str(body, "nextToken"), size);
  Json out = {{"taskArns",
               Json(std::vector<std::string>(arns.begin() + page.begin, arns.begin() + page.end))}};
  if (!page.next_token.empty()) out["nextToken"] = page.next_token;
  return out;
}

inline Json describe_tasks(State& s, const Json& body) {
  auto [cname, c] = cluster(s, body, false);
  Json refs = list(body, "tasks", 0, 1000, true);
  if (refs.empty()) throw invalid_parameter("Tasks cannot be empty.");
  if (refs.size() > 100) throw invalid_parameter("Tasks can have at most 100 items.");
  Json tasks = Json::array();
  Json failures = Json::array();
  for (const auto& ref : refs) {
    std::string r = ref.is_string() ? ref.get<std::string>() : "";
    std::string id = arn_last_part(r);
    bool found = false;
    for (auto& [name, svc] : c->services) {
      for (auto& t : svc.tasks) {
        if (arn_last_part(t.arn) == id && (!r.starts_with("arn:") || t.arn == r)) {
          if (t.running_after_describes == 0) {
            t.last_status = "RUNNING";
            for (auto& ct : t.containers) ct.last_status = "RUNNING";
          }
          if (t.running_after_describes >= 0) --t.running_after_describes;
          tasks.push_back(task_json(s, cname, name, t));
          found = true;
        }
      }
    }
    if (!found) {
      failures.push_back(
          {{"arn", r.starts_with("arn:") ? r : task_arn(s, cname, id)}, {"reason", "MISSING"}});
    }
  }
  return {{"tasks", tasks}, {"failures", failures}};
}

}  // namespace imagegate::fake_aws::ecs
