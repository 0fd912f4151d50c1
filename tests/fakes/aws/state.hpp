// The fake AWS's world: ECR repositories and images, ECS task definitions, clusters, services,
// deployments and tasks, known credentials, plus the runtime knobs (faults, counters). Loaded from
// and dumped to the JSON state format documented in tests/fakes/README.md.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace imagegate::fake_aws {

using Json = nlohmann::ordered_json;

// An error the fake answers with, in the caller's protocol (JSON 1.1 __type or query XML Code).
// Handlers throw it because every one of them may bail out deep inside a lookup; the dispatcher
// catches it once and renders AWS's error shape.
struct AwsError {
  int status = 400;
  std::string type;
  std::string message;
};

// A bad state document (control API answers 400, --state exits 2).
struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline double now_epoch() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() / 1000.0;
}

// "2030-01-01T00:00:00Z" (fractional seconds ignored) -> epoch seconds; nullopt when malformed.
inline std::optional<double> parse_iso8601(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm));
}

// RFC 7231 date, as AWS sends in the Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
inline std::string format_http_date(double epoch) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

inline std::string format_iso8601(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Image {
  std::string digest;
  std::string manifest;  // the exact bytes pushed; the digest is their sha256
  std::string media_type;
  std::vector<std::string> tags;
  double pushed_at = 0;
  // ACTIVE, ARCHIVED or ACTIVATING (ECR's archive storage class): DescribeImages' imageStatus.
  std::string status = "ACTIVE";
  // DescribeImageScanFindings' answer for this image, less the ids (imageScanStatus,
  // imageScanFindings), as the state gives it; absent: ScanNotFoundException.
  Json scan{};
};

struct Repository {
  std::string mutability = "MUTABLE";
  double created_at = 0;
  std::vector<Image> images;  // in push order
  // Layer and config blobs by content (their digest is the sha256 of the bytes), served through
  // GetDownloadUrlForLayer's presigned URLs.
  std::vector<std::string> blobs;
};

struct Credential {
  std::string secret;
  std::string session_token;          // when set, requests must carry it in X-Amz-Security-Token
  std::optional<double> expiration;   // epoch seconds; past it -> ExpiredTokenException
  std::string arn;                    // GetCallerIdentity's Arn
  std::string user_id;                // GetCallerIdentity's UserId
  std::string account;                // GetCallerIdentity's Account; empty: the state's
  std::vector<std::string> services;  // services it may call ("ecr", "ecs", "sts"); empty: all
};

struct Container {
  std::string name;
  std::string image;
  std::string image_digest;  // empty when ECS could not resolve one
  std::string last_status = "RUNNING";
};

struct Task {
  std::string arn;
  std::string task_definition_arn;
  std::string last_status = "RUNNING";
  std::string desired_status = "RUNNING";
  std::string started_by;
  std::vector<Container> containers;
  double created_at = 0;
  // A PROVISIONING/PENDING task: the next N DescribeTasks still show it so, the one after shows it
  // RUNNING. -1 = stays as it is.
  int running_after_describes = -1;
};

struct Deployment {
  std::string id;
  std::string status = "PRIMARY";  // PRIMARY | ACTIVE
  std::string task_definition;     // ARN
  int desired_count = 0;
  int running_count = 0;
  int pending_count = 0;
  int failed_tasks = 0;
  std::string rollout_state = "COMPLETED";  // COMPLETED | IN_PROGRESS | FAILED
  std::string rollout_state_reason;
  double created_at = 0;
  double updated_at = 0;
  // IN_PROGRESS deployments: the next N DescribeServices calls still show IN_PROGRESS, the one
  // after completes the rollout. -1 = stays as it is.
  int complete_after_describes = -1;
};

// What UpdateService does with a new deployment (default: completes at once).
struct RolloutPlan {
  std::string rollout_state = "COMPLETED";
  std::string rollout_state_reason;
  int complete_after_describes = -1;
};

struct Service {
  std::string task_definition;  // ARN
  int desired_count = 0;
  std::string status = "ACTIVE";
  double created_at = 0;
  std::vector<Deployment> deployments;
  std::vector<Task> tasks;
  std::optional<RolloutPlan> on_update;
  // ListServiceDeployments / DescribeServiceDeployments / DescribeServiceRevisions answers, as
  // the state gives them (ServiceDeployment and ServiceRevision objects; see ecs_deployments.hpp).
  Json service_deployments = Json::array();
  Json service_revisions = Json::array();
};

struct Cluster {
  std::map<std::string, Service> services;
};

struct Fault {
  int count = 0;
  std::string operation;  // empty = any operation
};

// Roles and SSO assignments: tests/fakes/aws/identity.hpp reads and serves them.
struct Role {
  std::string arn;
  std::string external_id;  // empty: none required
  std::vector<std::string> trusted_keys;
  std::vector<std::string> services;
  std::optional<int> credential_seconds;
  std::string access_key_id;  // issued credentials get this key id (a fresh secret each time)
};

struct SsoRole {
  std::string account_id;
  std::string role_name;
  std::vector<std::string> services;
  std::string access_key_id;  // as Role::access_key_id
};

struct Identity {
  std::vector<Role> roles;
  std::string sso_access_token;
  std::vector<SsoRole> sso_roles;
  // The container credentials endpoint (GET /_fake/container-credentials): the Authorization
  // value it wants and the known credential it hands out.
  std::string container_token;
  std::string container_key;
  // The EC2 instance metadata service (IMDSv2, same port): the session token PUT
  // /latest/api/token hands out, the role it lists and the known credential of that role.
  std::string imds_token;
  std::string imds_role;
  std::string imds_key;
};

struct State {
  std::string account = "123456789012";
  std::string region = "eu-central-1";
  std::map<std::string, Credential> credentials;   // by access key id
  std::string web_identity_token;                  // AssumeRoleWithWebIdentity accepts only this
  std::string ecr_password = "fake-ecr-password";  // GetAuthorizationToken's "AWS:<password>"
  std::map<std::string, Repository> repositories;
  std::vector<Json> task_definitions;  // as DescribeTaskDefinition returns them, in order
  std::map<std::string, Cluster> clusters;
  int list_tasks_page_size = 100;  // ListTasks never returns more per page than this
  // DescribeImageScanFindings never lists more findings per page than this (forces pagination).
  int scan_findings_page_size = 1000;
  Identity identity;  // roles for AssumeRole, the SSO portal (identity.hpp)
  // Operation -> error type every call of it gets (AccessDeniedException: denied by policy;
  // UnknownOperationException: a partition without the API).
  std::map<std::string, std::string> unavailable_operations{};
};

// An answer injected at given calls of one operation (POST /_fake/faults "rules").
struct FaultRule {
  std::string operation;  // empty = any operation
  int call = 1;           // first call it answers (the operation's count since reset-counters)
  int count = 1;          // calls in a row it answers; -1 = every call from `call` on
  // throttle | internalFailure | expiredToken | error (status, type, message) | truncatedJson
  // (the real answer cut in half, Content-Length of the half) | html502 (a proxy's HTML page,
  // no request id) | cut (Content-Length of the real answer, half of it sent, connection closed)
  std::string answer;
  int status = 400;
  std::string type;
  std::string message;
  int date_offset_seconds = 0;  // the Date header of this answer runs this far off
};

// Runtime knobs, not part of the state document.
struct Runtime {
  std::vector<FaultRule> rules;
  // The error type a signature outside the 15-minute window gets (default
  // InvalidSignatureException, as ECR and ECS answer; S3-style RequestTimeTooSkewed, STS-style
  // SignatureDoesNotMatch).
  std::string skew_error;
  Fault throttle;
  Fault internal_failure;
  int delay_ms = 0;
  // The fake's clock runs this far off the real one: signatures are judged and the Date header
  // stamped by it, so a client's clock-skew correction can be tested.
  int clock_offset_seconds = 0;
  std::map<std::string, int> counters;  // requests per operation
  std::vector<Json> requests;           // GET /_fake/requests: who called what (no secrets)
};

// Random ids (task ids, deployment ids, request ids) like AWS's: unique without bookkeeping, so
// a dumped and reloaded state cannot collide with ids generated later.
inline std::string random_string(std::size_t n, std::string_view alphabet) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(rng)];
  return out;
}

}  // namespace imagegate::fake_aws
