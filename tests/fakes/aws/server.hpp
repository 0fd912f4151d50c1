// The fake AWS's HTTP front: routes AWS JSON 1.1 (X-Amz-Target) and query-protocol (STS)
// requests to the operations after verifying their SigV4 signature, applies injected faults,
// counts requests, and serves the /_fake/ control API. One mutex guards the whole state: the
// fake favours simple, deterministic answers over throughput.
#pragma once

#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "auth.hpp"
#include "ecr.hpp"
#include "ecr_scan.hpp"
#include "ecs.hpp"
#include "ecs_deployments.hpp"
#include "httplib.h"
#include "sso.hpp"
#include "state_json.hpp"
#include "sts.hpp"

namespace imagegate::fake_aws {

inline constexpr const char* kEcrPrefix = "AmazonEC2ContainerRegistry_V20150921";
inline constexpr const char* kEcsPrefix = "AmazonEC2ContainerServiceV20141113";
inline constexpr const char* kJsonType = "application/x-amz-json-1.1";

using Operation = std::function<Json(State&, const Json&)>;

inline const std::map<std::string, Operation>& ecr_operations() {
  static const std::map<std::string, Operation> ops = {
      {"CreateRepository", ecr::create_repository},
      {"PutImage", ecr::put_image},
      {"DescribeRepositories", ecr::describe_repositories},
      {"BatchGetImage", ecr::batch_get_image},
      {"DescribeImages", ecr::describe_images},
      {"GetAuthorizationToken", ecr::get_authorization_token},
      {"GetDownloadUrlForLayer", ecr::get_download_url_for_layer},
      {"DescribeImageScanFindings", ecr::describe_image_scan_findings}};
  return ops;
}

inline const std::map<std::string, Operation>& ecs_operations() {
  static const std::map<std::string, Operation> ops = {
      {"RegisterTaskDefinition", ecs::register_task_definition},
      {"DescribeTaskDefinition", ecs::describe_task_definition},
      {"CreateService", ecs::create_service},
      {"UpdateService", ecs::update_service},
      {"DescribeServices", ecs::describe_services},
      {"ListTasks", ecs::list_tasks},
      {"DescribeTasks", ecs::describe_tasks},
      {"ListServiceDeployments", ecs::list_service_deployments},
      {"DescribeServiceDeployments", ecs::describe_service_deployments},
      {"DescribeServiceRevisions", ecs::describe_service_revisions}};
  return ops;
}

// AWS's answers to a request that failed authentication, per protocol.
inline AwsError auth_error(const AuthResult& auth, bool query_protocol) {
  const std::string invalid_token = "The security token included in the request is invalid.";
  switch (*auth.failure) {
    case AuthFailure::kMissing:
      return query_protocol ? AwsError{403, "MissingAuthenticationToken",
                                       "Request is missing Authentication Token"}
                            : AwsError{400, "MissingAuthenticationTokenException",
                                       "Missing Authentication Token"};
    case AuthFailure::kIncomplete:
      return {400, query_protocol ? "IncompleteSignature" : "IncompleteSignatureException",
              auth.message};
    case AuthFailure::kUnknownKey:
      return query_protocol ? AwsError{403, "InvalidClientTokenId", invalid_token}
                            : AwsError{400, "UnrecognizedClientException", invalid_token};
    case AuthFailure::kBadSignature:
      return {403, query_protocol ? "SignatureDoesNotMatch" : "InvalidSignatureException",
              auth.message};
    case AuthFailure::kExpired:
      return {400, query_protocol ? "ExpiredToken" : "ExpiredTokenException",
              "The security token included in the request is expired"};
  }
  return {500, "InternalFailure", "unreachable"};
}

class FakeAws {
 public:
  FakeAws(State state, bool verbose) : state_(std::move(state)), verbose_(verbose) {}

  void install(httplib::Server& server) {
    server.Post(
        "/", [this](const httplib::Request& req, httplib::Response& res) { handle_aws(req, res); });
    // Presigned blob downloads: no Authorization, the signature rides in the query. Counted as
    // "BlobDownload".
    server.Get(R"(/_fake/blobs/(.+)/(sha256:[a-f0-9]{64}))", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
      std::lock_guard lock(mutex_);
      ++runtime_.counters["BlobDownload"];
      const std::string* blob = req.get_param_value("X-Amz-Signature").empty()
                                    ? nullptr
                                    : ecr::find_blob(state_, req.matches[1], req.matches[2]);
      if (req.get_param_value("X-Amz-Signature").empty()) {
        res.status = 403;
        res.set_content("<Error><Code>AccessDenied</Code></Error>", "application/xml");
      } else if (blob == nullptr) {
        res.status = 404;
        res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
      } else {
        res.set_content(*blob, "application/octet-stream");
      }
    });
    server.Get("/federation/credentials", [this](const httplib::Request& req,
                                                 httplib::Response& res) { handle_sso(req, res); });
    server.Get("/_fake/container-credentials", [this](const httplib::Request& req,
                                                      httplib::Response& res) {
      std::lock_guard lock(mutex_);
      ++runtime_.counters["ContainerCredentials"];
      try {
        res.set_content(container_credentials(state_, req.get_header_value("Authorization")).dump(),
                        "application/json");
      } catch (const AwsError& e) {
        res.status = e.status;
        res.set_content(Json{{"message", e.message}}.dump(), "application/json");
      }
    });
    // IMDSv2: a session token first (PUT, with its TTL header), then the role and its credentials
    // with that token; counted as "InstanceMetadata". Never logs the token.
    server.Put("/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      ++runtime_.counters["InstanceMetadata"];
      if (state_.identity.imds_token.empty() ||
          !req.has_header("X-aws-ec2-metadata-token-ttl-seconds")) {
        res.status = state_.identity.imds_token.empty() ? 404 : 400;
        return;
      }
      res.set_content(state_.identity.imds_token, "text/plain");
    });
    server.Get(R"(/latest/meta-data/iam/security-credentials/(.*))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard lock(mutex_);
                 ++runtime_.counters["InstanceMetadata"];
                 const std::string token = req.get_header_value("X-aws-ec2-metadata-token");
                 if (state_.identity.imds_key.empty() || token != state_.identity.imds_token) {
                   res.status = state_.identity.imds_key.empty() ? 404 : 401;
                   return;
                 }
                 const std::string role = req.matches[1];
                 if (role.empty()) {
                   res.set_content(state_.identity.imds_role, "text/plain");
                 } else if (role != state_.identity.imds_role) {
                   res.status = 404;
                 } else {
                   res.set_content(instance_credentials(state_, token).dump(), "application/json");
                 }
               });
    server.Get("/_fake/requests", [this](const httplib::Request&, httplib::Response& res) {
      control(res, [&] { return Json(runtime_.requests); });
    });
    server.Get("/_fake/state", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      res.set_content(dump_state(state_).dump(2), "application/json");
    });
    server.Post("/_fake/state", [this](const httplib::Request& req, httplib::Response& res) {
      control(res, [&] {
        Json patch = Json::parse(req.body);
        if (req.has_param("merge")) {
          Json current = dump_state(state_);
          current.merge_patch(patch);
          patch = current;
        }
        state_ = parse_state(patch);
        return dump_state(state_);
      });
    });
    server.Get("/_fake/counters", [this](const httplib::Request&, httplib::Response& res) {
      control(res, [&] { return Json(runtime_.counters); });
    });
    server.Post("/_fake/reset-counters", [this](const httplib::Request&, httplib::Response& res) {
      control(res, [&] {
        runtime_.counters.clear();
        runtime_.requests.clear();
        return Json::object();
      });
    });
    server.Get("/_fake/faults", [this](const httplib::Request&, httplib::Response& res) {
      control(res, [&] { return faults_json(); });
    });
    server.Post("/_fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
      control(res, [&] {
        Json j = Json::parse(req.body);
        check_keys(j,
                   {"throttle", "internalFailure", "delayMs", "clockOffsetSeconds", "rules",
                    "skewErrorType"},
                   "faults");
        if (j.contains("rules")) runtime_.rules = parse_rules(j["rules"]);
        runtime_.skew_error =
            get_or<std::string>(j, "skewErrorType", runtime_.skew_error, "faults");
        if (j.contains("throttle")) runtime_.throttle = parse_fault(j["throttle"], "throttle");
        if (j.contains("internalFailure")) {
          runtime_.internal_failure = parse_fault(j["internalFailure"], "internalFailure");
        }
        runtime_.delay_ms = get_or<int>(j, "delayMs", runtime_.delay_ms, "faults");
        runtime_.clock_offset_seconds =
            get_or<int>(j, "clockOffsetSeconds", runtime_.clock_offset_seconds, "faults");
        return faults_json();
      });
    });
  }

 private:
  static Fault parse_fault(const Json& j, const std::string& where) {
    check_keys(j, {"count", "operation"}, "faults." + where);
    return Fault{get_or<int>(j, "count", 0, where), get_or<std::string>(j, "operation", "", where)};
  }

  static std::vector<FaultRule> parse_rules(const Json& j) {
    if (!j.is_array()) throw StateError("faults.rules: expected a list");
    static const std::vector<std::string> kAnswers = {
        "throttle", "internalFailure", "expiredToken", "error", "truncatedJson", "html502", "cut"};
    std::vector<FaultRule> rules;
    for (const auto& r : j) {
      check_keys(r,
                 {"operation", "call", "count", "answer", "status", "type", "message",
                  "dateOffsetSeconds"},
                 "faults.rules[]");
      FaultRule rule;
      rule.operation = get_or<std::string>(r, "operation", "", "faults.rules[]");
      rule.call = get_or<int>(r, "call", 1, "faults.rules[]");
      rule.count = get_or<int>(r, "count", 1, "faults.rules[]");
      rule.answer = get_or<std::string>(r, "answer", "", "faults.rules[]");
      rule.status = get_or<int>(r, "status", 400, "faults.rules[]");
      rule.type = get_or<std::string>(r, "type", "", "faults.rules[]");
      rule.message = get_or<std::string>(r, "message", "", "faults.rules[]");
      rule.date_offset_seconds = get_or<int>(r, "dateOffsetSeconds", 0, "faults.rules[]");
      if (std::find(kAnswers.begin(), kAnswers.end(), rule.answer) == kAnswers.end()) {
        throw StateError("faults.rules[].answer: unknown answer '" + rule.answer + "'");
      }
      if (rule.call < 1) throw StateError("faults.rules[].call: calls count from 1");
      if (rule.answer == "error" && rule.type.empty()) {
        throw StateError("faults.rules[]: an \"error\" answer needs its \"type\"");
      }
      rules.push_back(std::move(rule));
    }
    return rules;
  }

  Json faults_json() const {
    auto fault = [](const Fault& f) {
      return Json{{"count", f.count}, {"operation", f.operation}};
    };
    Json rules = Json::array();
    for (const auto& r : runtime_.rules) {
      rules.push_back({{"operation", r.operation},
                       {"call", r.call},
                       {"count", r.count},
                       {"answer", r.answer},
                       {"status", r.status},
                       {"type", r.type},
                       {"message", r.message},
                       {"dateOffsetSeconds", r.date_offset_seconds}});
    }
    return {{"throttle", fault(runtime_.throttle)},
            {"internalFailure", fault(runtime_.internal_failure)},
            {"delayMs", runtime_.delay_ms},
            {"clockOffsetSeconds", runtime_.clock_offset_seconds},
            {"rules", rules},
            {"skewErrorType", runtime_.skew_error}};
  }

  // The first rule that answers this call of `op` (its count since reset-counters), if any.
  const FaultRule* rule_for(const std::string& op) const {
    const auto counted = runtime_.counters.find(op);
    const int call = counted == runtime_.counters.end() ? 0 : counted->second;
    for (const auto& r : runtime_.rules) {
      if (!r.operation.empty() && r.operation != op) continue;
      if (call >= r.call && (r.count < 0 || call < r.call + r.count)) return &r;
    }
    return nullptr;
  }

  // Throws the answer of a rule that replaces the operation's; the rules that mangle the real
  // answer (truncatedJson, cut) pass, and mangle() applies them afterwards.
  void apply_rule(const FaultRule& rule, httplib::Response& res) {
    if (rule.date_offset_seconds != 0) {
      res.headers.erase("Date");
      res.set_header("Date", format_http_date(now() + rule.date_offset_seconds));
    }
    if (rule.answer == "throttle") throw AwsError{400, "ThrottlingException", "Rate exceeded"};
    if (rule.answer == "internalFailure") {
      throw AwsError{500, "InternalFailure",
                     "The request processing has failed because of an unknown error, exception "
                     "or failure."};
    }
    if (rule.answer == "expiredToken") {
      throw AwsError{400, "ExpiredTokenException",
                     "The security token included in the request is expired"};
    }
    if (rule.answer == "error") throw AwsError{rule.status, rule.type, rule.message};
    if (rule.answer == "html502") throw Html502{};
  }

  // A proxy in front of AWS that could not reach it: HTML, no AWS error shape, no request id.
  struct Html502 {};
  static void html_502(httplib::Response& res) {
    res.headers.erase("x-amzn-RequestId");
    res.status = 502;
    res.set_content(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 "
        "Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        "text/html");
  }

  // truncatedJson: half the answer, framed as the whole. cut: the whole answer's Content-Length,
  // half of it sent, then the connection closed.
  static void mangle(const FaultRule& rule, httplib::Response& res, const std::string& body) {
    const std::string half = body.substr(0, body.size() / 2);
    if (rule.answer == "truncatedJson") {
      res.set_content(half, kJsonType);
      return;
    }
    res.set_content_provider(body.size(), kJsonType,
                             [half](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               if (offset > 0) return false;  // abort: the connection is closed
                               sink.write(half.data(), half.size());
                               return true;
                             });
  }

  void control(httplib::Response& res, const std::function<Json()>& body) {
    std::lock_guard lock(mutex_);
    try {
      res.set_content(body().dump(2), "application/json");
    } catch (const StateError& e) {
      res.status = 400;
      res.set_content(Json{{"error", e.what()}}.dump(), "application/json");
    } catch (const Json::exception& e) {
      res.status = 400;
      res.set_content(Json{{"error", std::string("invalid JSON: ") + e.what()}}.dump(),
                      "application/json");
    }
  }

  // The fake's clock; callers hold mutex_.
  double now() const { return now_epoch() + runtime_.clock_offset_seconds; }

  static std::string new_request_id() {
    std::string hex = random_string(32, "0123456789abcdef");
    return fmt::format("{}-{}-4{}-a{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 3),
                       hex.substr(15, 3), hex.substr(18, 12));
  }

  // Injected faults, consumed in order: throttling first, then internal failures.
  void apply_faults(const std::string& op, bool query_protocol) {
    auto hits = [&](Fault& f) {
      if (f.count <= 0 || (!f.operation.empty() && f.operation != op)) return false;
      --f.count;
      return true;
    };
    if (hits(runtime_.throttle)) {
      throw AwsError{400, query_protocol ? "Throttling" : "ThrottlingException", "Rate exceeded"};
    }
    if (hits(runtime_.internal_failure)) {
      throw AwsError{500, "InternalFailure",
                     "The request processing has failed because of an unknown error, exception "
                     "or failure."};
    }
  }

  void handle_aws(const httplib::Request& req, httplib::Response& res) {
    std::string request_id = new_request_id();
    res.set_header("x-amzn-RequestId", request_id);
    {
      std::lock_guard lock(mutex_);
      res.set_header("Date", format_http_date(now()));
    }
    std::string target = req.get_header_value("X-Amz-Target");
    std::string op;
    int delay_ms = 0;
    if (!target.empty()) {
      op = handle_json(req, res, target);
    } else {
      op = handle_query(req, res, request_id);
    }
    {
      std::lock_guard lock(mutex_);
      delay_ms = runtime_.delay_ms;
    }
    if (verbose_) {
      std::cerr << fmt::format("fake_aws: {} {} {}\n", op.empty() ? "?" : op, res.status,
                               request_id)
                << std::flush;
    }
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }

  std::string handle_json(const httplib::Request& req, httplib::Response& res,
                          const std::string& target) {
    auto dot = target.find('.');
    std::string prefix = target.substr(0, dot);
    std::string op = dot == std::string::npos ? "" : target.substr(dot + 1);
    std::lock_guard lock(mutex_);
    std::string caller;
    const FaultRule* rule = nullptr;
    struct Logged {  // one entry per answered request, however it ends
      FakeAws& fake;
      const std::string& operation;
      const std::string& key;
      httplib::Response& response;
      ~Logged() {
        fake.log_request(
            {{"operation", operation}, {"accessKeyId", key}, {"status", response.status}});
      }
    } logged{*this, op, caller, res};
    try {
      const auto* ops = prefix == kEcrPrefix   ? &ecr_operations()
                        : prefix == kEcsPrefix ? &ecs_operations()
                                               : nullptr;
      if (!ops || !ops->contains(op)) {
        op.clear();  // not logged: an unknown target is arbitrary client text
        throw AwsError{400, "UnknownOperationException", ""};
      }
      ++runtime_.counters[op];
      const std::string service = prefix == kEcrPrefix ? "ecr" : "ecs";
      AuthResult auth = verify_request(req, state_, service, now());
      if (auth.failure) {
        AwsError error = auth_error(auth, false);
        if (auth.skewed && !runtime_.skew_error.empty()) error.type = runtime_.skew_error;
        throw error;
      }
      caller = auth.access_key_id;
      check_service_allowed(caller, service, op);
      apply_faults(op, false);
      rule = rule_for(op);
      if (rule) apply_rule(*rule, res);
      if (const auto gone = state_.unavailable_operations.find(op);
          gone != state_.unavailable_operations.end()) {
        throw AwsError{400, gone->second,
                       fmt::format("{} is not available to this caller (fake: "
                                   "unavailableOperations)",
                                   op)};
      }
      Json body;
      try {
        body = Json::parse(req.body.empty() ? "{}" : req.body);
      } catch (const Json::exception&) {
        throw AwsError{400, "SerializationException", "Malformed JSON in the request body"};
      }
      if (!body.is_object()) throw AwsError{400, "SerializationException", "Expected an object"};
      Json out = ops->at(op)(state_, body);
      if (op == "GetDownloadUrlForLayer") {
        out["downloadUrl"] =
            "http://" + req.get_header_value("Host") + out["downloadUrl"].get<std::string>();
      }
      res.status = 200;
      if (rule && (rule->answer == "truncatedJson" || rule->answer == "cut")) {
        mangle(*rule, res, out.dump());
      } else {
        res.set_content(out.dump(), kJsonType);
      }
    } catch (const Html502&) {
      html_502(res);
    } catch (const AwsError& e) {
      res.status = e.status;
      Json err = {{"__type", e.type}};
      if (!e.message.empty()) err["message"] = e.message;
      res.set_content(err.dump(), kJsonType);
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(Json{{"__type", "InternalFailure"}, {"message", e.what()}}.dump(), kJsonType);
    }
    return op;
  }

  std::string handle_query(const httplib::Request& req, httplib::Response& res,
                           const std::string& request_id) {
    httplib::Params raw;
    httplib::detail::parse_query_text(req.body, raw);
    sts::Params params(raw.begin(), raw.end());
    std::string action = params.count("Action") ? params["Action"] : "";
    std::lock_guard lock(mutex_);
    Json entry = Json::object();
    try {
      if (params["Version"] != "2011-06-15" ||
          (action != "AssumeRoleWithWebIdentity" && action != "GetCallerIdentity" &&
           action != "AssumeRole")) {
        std::string message =
            fmt::format("Could not find operation {} for version {}", action, params["Version"]);
        action.clear();  // not logged: an unknown action is arbitrary client text
        throw AwsError{400, "InvalidAction", message};
      }
      ++runtime_.counters[action];
      std::string body;
      if (action == "AssumeRoleWithWebIdentity") {
        apply_faults(action, true);
        body = sts::assume_role_with_web_identity(state_, params, request_id);
      } else {
        AuthResult auth = verify_request(req, state_, "sts", now());
        if (auth.failure) throw auth_error(auth, true);
        entry["accessKeyId"] = auth.access_key_id;
        apply_faults(action, true);
        if (action == "AssumeRole") {
          entry["roleArn"] = params["RoleArn"];
          entry["roleSessionName"] = params["RoleSessionName"];
          entry["externalIdSent"] = params.count("ExternalId") > 0;
          if (params.count("DurationSeconds")) entry["durationSeconds"] = params["DurationSeconds"];
          body = sts::assume_role(state_, params, auth.access_key_id, request_id);
        } else {
          body = sts::get_caller_identity(state_, auth.access_key_id, request_id);
        }
      }
      res.status = 200;
      res.set_content(body, "text/xml");
    } catch (const AwsError& e) {
      res.status = e.status;
      res.set_content(sts::error_xml(e, request_id), "text/xml");
    }
    if (!action.empty()) {
      entry["operation"] = action;
      entry["status"] = res.status;
      log_request(entry);
    }
    return action;
  }

  // The SSO portal (unsigned: the bearer token authenticates). Never logs the token.
  void handle_sso(const httplib::Request& req, httplib::Response& res) {
    const std::string request_id = new_request_id();
    res.set_header("x-amzn-RequestId", request_id);
    const std::string account = req.get_param_value("account_id");
    const std::string role = req.get_param_value("role_name");
    std::lock_guard lock(mutex_);
    ++runtime_.counters["GetRoleCredentials"];
    try {
      apply_faults("GetRoleCredentials", false);
      Json out = sso::get_role_credentials(state_, req.get_header_value("x-amz-sso_bearer_token"),
                                           account, role);
      res.status = 200;
      res.set_content(out.dump(), "application/json");
    } catch (const AwsError& e) {
      res.status = e.status;
      res.set_header("x-amzn-ErrorType", e.type + ":http://internal.amazon.com/coral/");
      res.set_content(Json{{"message", e.message}}.dump(), "application/json");
    }
    log_request({{"operation", "GetRoleCredentials"},
                 {"accountId", account},
                 {"roleName", role},
                 {"status", res.status}});
    if (verbose_) {
      std::cerr << fmt::format("fake_aws: GetRoleCredentials {} {}\n", res.status, request_id)
                << std::flush;
    }
  }

  // Who called what, for tests that must show which credentials reached which service. Never
  // secrets or tokens; access key ids are not secret. Callers hold mutex_.
  void log_request(Json entry) { runtime_.requests.push_back(std::move(entry)); }

  // Credentials limited to some services (identity.hpp) are refused elsewhere, as IAM would.
  void check_service_allowed(const std::string& caller, const std::string& service,
                             const std::string& op) {
    const Credential& who = state_.credentials.at(caller);
    if (!service_allowed(who.services, service)) {
      throw AwsError{
          400, "AccessDeniedException",
          fmt::format("User: {} is not authorized to perform: {}:{}", who.arn, service, op)};
    }
  }

  std::mutex mutex_;
  State state_;
  Runtime runtime_;
  bool verbose_;
};

}  // namespace imagegate::fake_aws
