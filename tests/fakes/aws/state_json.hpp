// The fake AWS's state document: parse (with defaults filled in: digests, revisions, ARNs,
// deployments, tasks) and dump, so GET /_fake/state -> POST /_fake/state round-trips. Unknown
// keys are rejected so a typo in a test's state fails loudly instead of being ignored.
#pragma once

#include <algorithm>
#include <set>
#include <string>

#include "aws/sigv4.hpp"
#include "ecs_model.hpp"
#include "identity.hpp"
#include "state.hpp"

namespace imagegate::fake_aws {

inline void check_keys(const Json& obj, const std::set<std::string>& allowed,
                       const std::string& where) {
  if (!obj.is_object()) throw StateError(where + ": expected an object");
  for (const auto& [key, value] : obj.items()) {
    if (!allowed.contains(key)) throw StateError(fmt::format("{}: unknown key '{}'", where, key));
  }
}

template <typename T>
T get_or(const Json& obj, const char* key, T fallback, const std::string& where) {
  if (!obj.contains(key)) return fallback;
  try {
    return obj.at(key).get<T>();
  } catch (const Json::exception&) {
    throw StateError(fmt::format("{}.{}: wrong type", where, key));
  }
}

inline double parse_time(const Json& obj, const char* key, double fallback,
                         const std::string& where) {
  if (!obj.contains(key)) return fallback;
  const Json& v = obj.at(key);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    if (auto t = parse_iso8601(v.get<std::string>())) return *t;
  }
  throw StateError(fmt::format("{}.{}: expected epoch seconds or an ISO 8601 time", where, key));
}

inline Image parse_image(const Json& j, const std::string& where) {
  check_keys(j, {"digest", "manifest", "mediaType", "tags", "pushedAt", "imageStatus", "scan"},
             where);
  Image img;
  if (!j.contains("manifest")) throw StateError(where + ".manifest: required");
  img.manifest = get_or<std::string>(j, "manifest", "", where);
  img.digest = "sha256:" + aws::sha256_hex(img.manifest);
  if (j.contains("digest") && get_or<std::string>(j, "digest", "", where) != img.digest) {
    throw StateError(fmt::format("{}.digest: the manifest's sha256 is {}", where, img.digest));
  }
  std::string inferred;
  try {
    inferred = Json::parse(img.manifest).value("mediaType", "");
  } catch (const Json::exception&) {
  }
  img.media_type = get_or<std::string>(j, "mediaType", inferred, where);
  if (img.media_type.empty()) throw StateError(where + ".mediaType: required (not in manifest)");
  img.tags = get_or<std::vector<std::string>>(j, "tags", {}, where);
  img.pushed_at = parse_time(j, "pushedAt", now_epoch(), where);
  img.status = get_or<std::string>(j, "imageStatus", "ACTIVE", where);
  if (j.contains("scan")) {
    const Json& scan = j["scan"];
    if (!scan.is_object()) throw StateError(where + ".scan: expected an object");
    check_keys(scan, {"imageScanStatus", "imageScanFindings"}, where + ".scan");
    if (scan.contains("imageScanFindings")) {
      const Json& f = scan["imageScanFindings"];
      if (!f.is_object()) throw StateError(where + ".scan.imageScanFindings: expected an object");
      for (const char* list : {"findings", "enhancedFindings"}) {
        if (f.contains(list) && !f[list].is_array()) {
          throw StateError(
              fmt::format("{}.scan.imageScanFindings.{}: expected a list", where, list));
        }
      }
    }
    img.scan = scan;
  }
  return img;
}

inline Task parse_task(State& s, const std::string& cluster, const Json& j,
                       const std::string& where) {
  check_keys(j,
             {"taskArn", "taskDefinitionArn", "lastStatus", "desiredStatus", "startedBy",
              "containers", "createdAt", "runningAfterDescribes"},
             where);
  std::string td_ref = get_or<std::string>(j, "taskDefinitionArn", "", where);
  const Json* td = find_task_definition(s, td_ref);
  if (!td) throw StateError(fmt::format("{}.taskDefinitionArn: unknown '{}'", where, td_ref));
  Task t = make_task(s, cluster, td->at("taskDefinitionArn").get<std::string>(), "");
  t.arn = get_or<std::string>(j, "taskArn", t.arn, where);
  if (!t.arn.starts_with("arn:")) t.arn = task_arn(s, cluster, t.arn);
  t.last_status = get_or<std::string>(j, "lastStatus", t.last_status, where);
  t.desired_status = get_or<std::string>(j, "desiredStatus", t.desired_status, where);
  t.started_by = get_or<std::string>(j, "startedBy", "", where);
  t.created_at = parse_time(j, "createdAt", t.created_at, where);
  t.running_after_describes = get_or<int>(j, "runningAfterDescribes", -1, where);
  if (j.contains("containers")) {
    t.containers.clear();
    for (const auto& cj : j.at("containers")) {
      check_keys(cj, {"name", "image", "imageDigest", "lastStatus"}, where + ".containers[]");
      Container c;
      c.name = get_or<std::string>(cj, "name", "", where);
      c.image = get_or<std::string>(cj, "image", "", where);
      c.image_digest =
          get_or<std::string>(cj, "imageDigest", resolve_image_digest(s, c.image), where);
      c.last_status = get_or<std::string>(cj, "lastStatus", "RUNNING", where);
      t.containers.push_back(std::move(c));
    }
  }
  return t;
}

inline std::string resolve_td_arn(const State& s, const std::string& ref,
                                  const std::string& where) {
  const Json* td = find_task_definition(s, ref);
  if (!td) throw StateError(fmt::format("{}: unknown task definition '{}'", where, ref));
  return td->at("taskDefinitionArn").get<std::string>();
}

inline Service parse_service(State& s, const std::string& cluster, const Json& j,
                             const std::string& where) {
  check_keys(j,
             {"taskDefinition", "desiredCount", "status", "createdAt", "deployments", "tasks",
              "onUpdate", "serviceDeployments", "serviceRevisions"},
             where);
  Service svc;
  svc.task_definition =
      resolve_td_arn(s, get_or<std::string>(j, "taskDefinition", "", where), where);
  svc.desired_count = get_or<int>(j, "desiredCount", 1, where);
  svc.status = get_or<std::string>(j, "status", "ACTIVE", where);
  svc.created_at = parse_time(j, "createdAt", now_epoch(), where);
  if (j.contains("deployments")) {
    for (const auto& dj : j.at("deployments")) {
      std::string w = where + ".deployments[]";
      check_keys(dj,
                 {"id", "status", "taskDefinition", "desiredCount", "runningCount", "pendingCount",
                  "failedTasks", "rolloutState", "rolloutStateReason", "createdAt", "updatedAt",
                  "completeAfterDescribes"},
                 w);
      std::string td = get_or<std::string>(dj, "taskDefinition", svc.task_definition, w);
      Deployment d = make_deployment(resolve_td_arn(s, td, w), svc.desired_count);
      d.id = get_or<std::string>(dj, "id", d.id, w);
      d.status = get_or<std::string>(dj, "status", "PRIMARY", w);
      d.desired_count = get_or<int>(dj, "desiredCount", d.desired_count, w);
      d.running_count = get_or<int>(dj, "runningCount", d.desired_count, w);
      d.pending_count = get_or<int>(dj, "pendingCount", 0, w);
      d.failed_tasks = get_or<int>(dj, "failedTasks", 0, w);
      d.rollout_state = get_or<std::string>(dj, "rolloutState", "COMPLETED", w);
      d.rollout_state_reason = get_or<std::string>(dj, "rolloutStateReason", "", w);
      d.created_at = parse_time(dj, "createdAt", d.created_at, w);
      d.updated_at = parse_time(dj, "updatedAt", d.updated_at, w);
      d.complete_after_describes = get_or<int>(dj, "completeAfterDescribes", -1, w);
      svc.deployments.push_back(std::move(d));
    }
  } else {
    svc.deployments.push_back(make_deployment(svc.task_definition, svc.desired_count));
  }
  if (j.contains("tasks")) {
    for (const auto& tj : j.at("tasks")) svc.tasks.push_back(parse_task(s, cluster, tj, where));
  } else {
    for (const auto& d : svc.deployments) {
      for (int i = 0; i < d.running_count; ++i) {
        svc.tasks.push_back(make_task(s, cluster, d.task_definition, d.id));
      }
    }
  }
  if (j.contains("onUpdate")) {
    const Json& pj = j.at("onUpdate");
    std::string w = where + ".onUpdate";
    check_keys(pj, {"rolloutState", "rolloutStateReason", "completeAfterDescribes"}, w);
    RolloutPlan plan;
    plan.rollout_state = get_or<std::string>(pj, "rolloutState", "COMPLETED", w);
    plan.rollout_state_reason = get_or<std::string>(pj, "rolloutStateReason", "", w);
    plan.complete_after_describes = get_or<int>(pj, "completeAfterDescribes", -1, w);
    svc.on_update = plan;
  }
  for (const char* key : {"serviceDeployments", "serviceRevisions"}) {
    if (j.contains(key) && !j.at(key).is_array()) {
      throw StateError(fmt::format("{}.{}: expected an array", where, key));
    }
  }
  svc.service_deployments = j.value("serviceDeployments", Json::array());
  svc.service_revisions = j.value("serviceRevisions", Json::array());
  return svc;
}

inline Json normalize_task_definition(const State& s, Json td, const std::string& where) {
  if (!td.is_object() || !td.contains("family") || !td["family"].is_string()) {
    throw StateError(where + ".family: required");
  }
  std::string family = td["family"];
  if (!td.contains("revision")) td["revision"] = next_revision(s, family);
  if (!td["revision"].is_number_integer()) throw StateError(where + ".revision: expected integer");
  td["taskDefinitionArn"] = task_definition_arn(s, family, td["revision"].get<int>());
  if (!td.contains("status")) td["status"] = "ACTIVE";
  if (!td.contains("containerDefinitions")) td["containerDefinitions"] = Json::array();
  return td;
}

inline State parse_state(const Json& j) {
  check_keys(j,
             {"account", "region", "credentials", "webIdentityToken", "ecrPassword",
              "listTasksPageSize", "scanFindingsPageSize", "repositories", "taskDefinitions",
              "clusters", "roles", "sso", "container", "instanceMetadata", "unavailableOperations"},
             "state");
  State s;
  s.account = get_or<std::string>(j, "account", s.account, "state");
  s.region = get_or<std::string>(j, "region", s.region, "state");
  s.web_identity_token = get_or<std::string>(j, "webIdentityToken", "", "state");
  s.ecr_password = get_or<std::string>(j, "ecrPassword", s.ecr_password, "state");
  s.list_tasks_page_size = get_or<int>(j, "listTasksPageSize", 100, "state");
  if (s.list_tasks_page_size < 1) throw StateError("state.listTasksPageSize: must be >= 1");
  s.scan_findings_page_size = get_or<int>(j, "scanFindingsPageSize", 1000, "state");
  if (s.scan_findings_page_size < 1) {
    throw StateError("state.scanFindingsPageSize: must be >= 1");
  }
  s.unavailable_operations =
      get_or<std::map<std::string, std::string>>(j, "unavailableOperations", {}, "state");
  for (const auto& cj : j.value("credentials", Json::array())) {
    check_keys(cj,
               {"accessKeyId", "secretAccessKey", "sessionToken", "expiration", "arn", "userId",
                "account", "services"},
               "state.credentials[]");
    std::string akid = get_or<std::string>(cj, "accessKeyId", "", "state.credentials[]");
    Credential c;
    c.secret = get_or<std::string>(cj, "secretAccessKey", "", "state.credentials[]");
    if (akid.empty() || c.secret.empty()) {
      throw StateError("state.credentials[]: accessKeyId and secretAccessKey are required");
    }
    c.session_token = get_or<std::string>(cj, "sessionToken", "", "state.credentials[]");
    if (cj.contains("expiration")) c.expiration = parse_time(cj, "expiration", 0, "credentials");
    c.arn = get_or<std::string>(cj, "arn",
                                fmt::format("arn:aws:iam::{}:user/imagegate-test", s.account),
                                "state.credentials[]");
    c.user_id = get_or<std::string>(cj, "userId", akid, "state.credentials[]");
    c.account = get_or<std::string>(cj, "account", "", "state.credentials[]");
    c.services = string_list(cj, "services", "state.credentials[]");
    s.credentials[akid] = std::move(c);
  }
  s.identity = parse_identity(j);
  const Json repositories = j.value("repositories", Json::object());
  for (const auto& [name, rj] : repositories.items()) {
    std::string where = "state.repositories." + name;
    check_keys(rj, {"imageTagMutability", "createdAt", "images", "blobs"}, where);
    Repository r;
    r.mutability = get_or<std::string>(rj, "imageTagMutability", "MUTABLE", where);
    r.created_at = parse_time(rj, "createdAt", now_epoch(), where);
    for (const auto& ij : rj.value("images", Json::array())) {
      r.images.push_back(parse_image(ij, where + ".images[]"));
    }
    for (const auto& bj : rj.value("blobs", Json::array())) {
      if (!bj.is_string())
        throw StateError(where + ".blobs[]: expected a string (the blob's bytes)");
      r.blobs.push_back(bj.get<std::string>());
    }
    s.repositories[name] = std::move(r);
  }
  for (const auto& tj : j.value("taskDefinitions", Json::array())) {
    s.task_definitions.push_back(normalize_task_definition(s, tj, "state.taskDefinitions[]"));
  }
  const Json clusters = j.value("clusters", Json::object());
  for (const auto& [cname, cj] : clusters.items()) {
    std::string where = "state.clusters." + cname;
    check_keys(cj, {"services"}, where);
    Cluster c;
    const Json services = cj.value("services", Json::object());
    for (const auto& [sname, sj] : services.items()) {
      c.services[sname] = parse_service(s, cname, sj, where + ".services." + sname);
    }
    s.clusters[cname] = std::move(c);
  }
  return s;
}

inline Json dump_state(const State& s) {
  Json j = {{"account", s.account},
            {"region", s.region},
            {"credentials", Json::array()},
            {"webIdentityToken", s.web_identity_token},
            {"ecrPassword", s.ecr_password},
            {"listTasksPageSize", s.list_tasks_page_size},
            {"scanFindingsPageSize", s.scan_findings_page_size},
            {"unavailableOperations", s.unavailable_operations}};
  for (const auto& [akid, c] : s.credentials) {
    Json cj = {{"accessKeyId", akid}, {"secretAccessKey", c.secret}};
    if (!c.session_token.empty()) cj["sessionToken"] = c.session_token;
    if (c.expiration) cj["expiration"] = format_iso8601(*c.expiration);
    cj["arn"] = c.arn;
    cj["userId"] = c.user_id;
    if (!c.account.empty()) cj["account"] = c.account;
    if (!c.services.empty()) cj["services"] = c.services;
    j["credentials"].push_back(cj);
  }
  dump_identity(s.identity, j);
  j["repositories"] = Json::object();
  for (const auto& [name, r] : s.repositories) {
    Json images = Json::array();
    for (const auto& img : r.images) {
      images.push_back({{"digest", img.digest},
                        {"manifest", img.manifest},
                        {"mediaType", img.media_type},
                        {"tags", img.tags},
                        {"pushedAt", img.pushed_at},
                        {"imageStatus", img.status}});
      if (!img.scan.is_null()) images.back()["scan"] = img.scan;
    }
    j["repositories"][name] = {{"imageTagMutability", r.mutability},
                               {"createdAt", r.created_at},
                               {"images", images},
                               {"blobs", r.blobs}};
  }
  j["taskDefinitions"] = s.task_definitions;
  j["clusters"] = Json::object();
  for (const auto& [cname, c] : s.clusters) {
    Json services = Json::object();
    for (const auto& [sname, svc] : c.services) {
      Json deployments = Json::array();
      for (const auto& d : svc.deployments) {
        Json dj = deployment_json(d);
        dj.erase("launchType");
        dj["completeAfterDescribes"] = d.complete_after_describes;
        deployments.push_back(dj);
      }
      Json tasks = Json::array();
      for (const auto& t : svc.tasks) {
        Json containers = Json::array();
        for (const auto& ct : t.containers) {
          containers.push_back({{"name", ct.name},
                                {"image", ct.image},
                                {"imageDigest", ct.image_digest},
                                {"lastStatus", ct.last_status}});
        }
        tasks.push_back({{"taskArn", t.arn},
                         {"taskDefinitionArn", t.task_definition_arn},
                         {"lastStatus", t.last_status},
                         {"desiredStatus", t.desired_status},
                         {"startedBy", t.started_by},
                         {"containers", containers},
                         {"createdAt", t.created_at},
                         {"runningAfterDescribes", t.running_after_describes}});
      }
      Json sj = {{"taskDefinition", svc.task_definition},
                 {"desiredCount", svc.desired_count},
                 {"status", svc.status},
                 {"createdAt", svc.created_at},
                 {"deployments", deployments},
                 {"tasks", tasks},
                 {"serviceDeployments", svc.service_deployments},
                 {"serviceRevisions", svc.service_revisions}};
      if (svc.on_update) {
        sj["onUpdate"] = {{"rolloutState", svc.on_update->rollout_state},
                          {"rolloutStateReason", svc.on_update->rollout_state_reason},
                          {"completeAfterDescribes", svc.on_update->complete_after_describes}};
      }
      services[sname] = sj;
    }
    j["clusters"][cname] = {{"services", services}};
  }
  return j;
}

}  // namespace imagegate::fake_aws
