// The deployed state on AWS ECS: the four read calls verify needs behind an interface (so the
// rules can be tested with scripted answers), the JSON 1.1 implementation, and the pure rules
// that turn a service, its deployments and its running tasks into findings.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_client.hpp"
#include "deploy/expectations.hpp"
#include "findings/findings.hpp"

namespace imagegate::deploy {

inline constexpr std::size_t kMaxServicesPerDescribe = 10;
inline constexpr std::size_t kMaxTasksPerDescribe = 100;

// Contract: each call is one ECS API request; answers are the API's JSON, errors keep the
// AwsError code (AUTH_FAILED, THROTTLED, UNREACHABLE, BAD_RESPONSE, AWS_ERROR).
class EcsApi {
 public:
  virtual ~EcsApi() = default;
  // DescribeServices for at most kMaxServicesPerDescribe names.
  virtual aws::AwsResult<nlohmann::json> describe_services(
      const std::string& cluster, const std::vector<std::string>& services) = 0;
  // DescribeTaskDefinition of a family, family:revision or ARN.
  virtual aws::AwsResult<nlohmann::json> describe_task_definition(
      const std::string& task_definition) = 0;
  // One page of ListTasks (serviceName, desiredStatus RUNNING).
  virtual aws::AwsResult<nlohmann::json> list_tasks(const std::string& cluster,
                                                    const std::string& service,
                                                    const std::string& next_token) = 0;
  // DescribeTasks for at most kMaxTasksPerDescribe ARNs.
  virtual aws::AwsResult<nlohmann::json> describe_tasks(const std::string& cluster,
                                                        const std::vector<std::string>& tasks) = 0;
  // One page of ListServiceDeployments of a service.
  virtual aws::AwsResult<nlohmann::json> list_service_deployments(
      const std::string& cluster, const std::string& service, const std::string& next_token) = 0;
  // DescribeServiceDeployments / DescribeServiceRevisions for at most 20 ARNs.
  virtual aws::AwsResult<nlohmann::json> describe_service_deployments(
      const std::vector<std::string>& arns) = 0;
  virtual aws::AwsResult<nlohmann::json> describe_service_revisions(
      const std::vector<std::string>& arns) = 0;
};

// EcsApi over the AWS JSON 1.1 client (service "ecs").
class JsonEcsApi : public EcsApi {
 public:
  explicit JsonEcsApi(aws::JsonClient& client) : client_(client) {}
  aws::AwsResult<nlohmann::json> describe_services(
      const std::string& cluster, const std::vector<std::string>& services) override;
  aws::AwsResult<nlohmann::json> describe_task_definition(
      const std::string& task_definition) override;
  aws::AwsResult<nlohmann::json> list_tasks(const std::string& cluster, const std::string& service,
                                            const std::string& next_token) override;
  aws::AwsResult<nlohmann::json> describe_tasks(const std::string& cluster,
                                                const std::vector<std::string>& tasks) override;
  aws::AwsResult<nlohmann::json> list_service_deployments(const std::string& cluster,
                                                          const std::string& service,
                                                          const std::string& next_token) override;
  aws::AwsResult<nlohmann::json> describe_service_deployments(
      const std::vector<std::string>& arns) override;
  aws::AwsResult<nlohmann::json> describe_service_revisions(
      const std::vector<std::string>& arns) override;

 private:
  aws::JsonClient& client_;
};

// Where a service's rollout stands, read from DescribeServices' service object.
struct Rollout {
  // kInactive: the service is DRAINING or INACTIVE; kInvalid: the answer is not understood.
  enum class State { kCompleted, kInProgress, kFailed, kInactive, kInvalid };
  State state = State::kInvalid;
  std::string primary_task_definition;  // the PRIMARY deployment's task definition ARN
  std::string detail;                   // for people: counts, rolloutStateReason, what is odd
};

// Exactly one PRIMARY deployment; its rolloutState decides (COMPLETED, IN_PROGRESS, FAILED).
// Without rolloutState (other deployment controllers) the rollout is complete when the primary
// is the only deployment and runningCount == desiredCount. A service that is not ACTIVE is
// kInactive; an answer without the fields is kInvalid.
Rollout assess_rollout(const nlohmann::json& service);

// The finding for a rollout that is not complete: ROLLOUT_FAILED, ROLLOUT_IN_PROGRESS,
// SERVICE_INACTIVE or BAD_RESPONSE; nothing for kCompleted.
void record_rollout(const std::string& service, const Rollout& rollout, bool waited,
                    findings::Findings& findings);

// Per image id: the digest running containers must report, or the error that prevents knowing it.
using ExpectedDigests = std::map<std::string, Result<std::string>>;

// Digests from the evidence, else through the resolver; with neither, DIGEST_UNVERIFIED.
// Optional images absent from the evidence are left out (their containers are not checked).
ExpectedDigests expected_digests(const Expectations& expectations, const DigestResolver& resolver);

// Running tasks (DescribeTasks' tasks[]): each must run primary_task_definition (else
// STALE_TASK), and each managed container's imageDigest must be the expected one (else
// DIGEST_MISMATCH; none reported: DIGEST_UNVERIFIED). Unknown digests are reported once per
// image. No task at all is NO_RUNNING_TASKS. A task still PROVISIONING, PENDING or ACTIVATING
// is TASK_PENDING (what it will run is not known yet), never a pass.
void check_tasks(const std::string& service, const nlohmann::json& tasks,
                 const std::string& primary_task_definition, const Expectations& expectations,
                 const ExpectedDigests& digests, findings::Findings& findings);

// A task whose lastStatus says it has not started yet.
bool is_pending_task(const nlohmann::json& task);

// Finding code for an AWS error: AWS_ERROR with ClusterNotFoundException -> CLUSTER_MISSING,
// ServiceNotFoundException -> SERVICE_MISSING; other codes kept.
std::string finding_code(const aws::AwsError& error);

}  // namespace imagegate::deploy
