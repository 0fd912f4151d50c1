#include "deploy/service_check.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "deploy_fixtures.hpp"

namespace imagegate::deploy {
namespace {

using namespace testing;
using nlohmann::json;
using std::chrono::milliseconds;
using Strings = std::vector<std::string>;

const std::string kTd = "arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:2";

// Scripted ECS: services by name (a queue of answers per service: each DescribeServices pops
// one until the last), task definitions by ARN, and tasks per service.
class ScriptedEcs : public EcsApi {
 public:
  std::map<std::string, std::deque<json>> services;
  std::map<std::string, json> task_definitions;
  std::map<std::string, json> tasks;  // service -> tasks[]
  std::size_t page_size = 2;
  std::optional<aws::AwsError> describe_services_error;
  std::optional<aws::AwsError> list_tasks_error;
  std::optional<json> list_tasks_answer;  // replaces the answer, e.g. with a non-object
  std::vector<std::size_t> describe_services_sizes;
  std::vector<std::size_t> describe_tasks_sizes;
  int list_calls = 0;

  aws::AwsResult<json> describe_services(const std::string& cluster,
                                         const std::vector<std::string>& names) override {
    EXPECT_EQ(cluster, "afu9");
    describe_services_sizes.push_back(names.size());
    if (describe_services_error) return std::unexpected(*describe_services_error);
    json out = {{"services", json::array()}, {"failures", json::array()}};
    for (const auto& name : names) {
      auto it = services.find(name);
      if (it == services.end()) {
        out["failures"].push_back(
            {{"arn", "arn:aws:ecs:eu-central-1:123456789012:service/afu9/" + name},
             {"reason", "MISSING"}});
        continue;
      }
      out["services"].push_back(it->second.front());
      if (it->second.size() > 1) it->second.pop_front();
    }
    return out;
  }
  aws::AwsResult<json> describe_task_definition(const std::string& arn) override {
    return json{{"taskDefinition", task_definitions.at(arn)}};
  }
  aws::AwsResult<json> list_tasks(const std::string&, const std::string& service,
                                  const std::string& token) override {
    ++list_calls;
    if (list_tasks_error) return std::unexpected(*list_tasks_error);
    if (list_tasks_answer) return *list_tasks_answer;
    const auto& all = tasks[service];
    const std::size_t start = token.empty() ? 0 : std::stoul(token);
    json out = {{"taskArns", json::array()}};
    for (std::size_t i = start; i < all.size() && i < start + page_size; ++i) {
      out["taskArns"].push_back(all[i]["taskArn"]);
    }
    if (start + page_size < all.size()) out["nextToken"] = std::to_string(start + page_size);
    return out;
  }
  // Deployments per service (ServiceDeployment objects) and revisions by ARN.
  std::map<std::string, json> deployments;
  std::map<std::string, json> revisions;
  std::optional<aws::AwsError> list_deployments_error;
  std::vector<std::size_t> describe_deployments_sizes;
  aws::AwsResult<json> list_service_deployments(const std::string&, const std::string& service,
                                                const std::string&) override {
    if (list_deployments_error) return std::unexpected(*list_deployments_error);
    json briefs = json::array();
    for (const auto& d : deployments[service]) {
      briefs.push_back({{"serviceDeploymentArn", d["serviceDeploymentArn"]},
                        {"createdAt", d.value("createdAt", 0)},
                        {"status", d["status"]}});
    }
    return json{{"serviceDeployments", briefs}};
  }
  aws::AwsResult<json> describe_service_deployments(const std::vector<std::string>& arns) override {
    describe_deployments_sizes.push_back(arns.size());
    json out = {{"serviceDeployments", json::array()}, {"failures", json::array()}};
    for (auto& [service, list] : deployments) {
      for (auto& d : list) {
        if (std::find(arns.begin(), arns.end(), d["serviceDeploymentArn"]) == arns.end()) continue;
        out["serviceDeployments"].push_back(d);
        // IN_PROGRESS until described once more.
        if (d["status"] == "IN_PROGRESS" && d.value("settlesTo", "") != "") {
          d["status"] = d["settlesTo"];
        }
      }
    }
    return out;
  }
  aws::AwsResult<json> describe_service_revisions(const std::vector<std::string>& arns) override {
    json out = {{"serviceRevisions", json::array()}, {"failures", json::array()}};
    for (const auto& arn : arns) {
      if (revisions.contains(arn)) out["serviceRevisions"].push_back(revisions[arn]);
    }
    return out;
  }
  aws::AwsResult<json> describe_tasks(const std::string&,
                                      const std::vector<std::string>& arns) override {
    describe_tasks_sizes.push_back(arns.size());
    json out = {{"tasks", json::array()}};
    for (const auto& [service, list] : tasks) {
      for (const auto& t : list) {
        if (std::find(arns.begin(), arns.end(), t["taskArn"].get<std::string>()) != arns.end()) {
          out["tasks"].push_back(t);
        }
      }
    }
    return out;
  }
};

json service(const std::string& name, const std::string& rollout) {
  return {{"serviceName", name},
          {"status", "ACTIVE"},
          {"deployments", json::array({{{"status", "PRIMARY"},
                                        {"taskDefinition", kTd},
                                        {"rolloutState", rollout},
                                        {"runningCount", 1},
                                        {"desiredCount", 1}}})}};
}

json task(const std::string& arn, const std::string& digest = kDigestA) {
  return {{"taskArn", arn},
          {"taskDefinitionArn", kTd},
          {"containers", json::array({{{"name", "app"}, {"imageDigest", digest}},
                                      {{"name", "sidekick"}, {"imageDigest", kDigestB}}})}};
}

class ServiceCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ecs_.task_definitions[kTd] = {
        {"taskDefinitionArn", kTd},
        {"family", "afu9"},
        {"containerDefinitions",
         json::array({{{"name", "app"}, {"image", kRegistry + "/afu9/a@" + kDigestA}},
                      {{"name", "sidekick"}, {"image", kRegistry + "/afu9/b@" + kDigestB}}})}};
    wait_.now = [this] { return clock_; };
    wait_.sleep = [this](milliseconds d) {
      sleeps_.push_back(d.count());
      clock_ += d;
    };
  }

  std::vector<ServiceReport> verify(const std::vector<std::string>& names) {
    return verify_services(ecs_, "afu9", names, expectations_, {}, wait_, findings_);
  }

  manifest::Manifest manifest_ = two_image_manifest();
  evidence::Evidence evidence_ = passing_evidence(manifest_);
  Expectations expectations_ = build_expectations(manifest_, tags(), &evidence_, {});
  ScriptedEcs ecs_;
  WaitPolicy wait_;
  std::chrono::steady_clock::time_point clock_{};
  std::vector<long long> sleeps_;
  findings::Findings findings_;
};

TEST_F(ServiceCheckTest, HealthyServicePasses) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1"), task("t2"), task("t3"), task("t4"), task("t5")});
  const auto reports = verify({"web"});
  EXPECT_TRUE(findings_.empty()) << findings_.items().front().message;
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].found);
  EXPECT_EQ(reports[0].tasks_checked, 5u);
  EXPECT_EQ(reports[0].containers.size(), 2u);
  EXPECT_EQ(ecs_.list_calls, 3);  // pages of 2
}

TEST_F(ServiceCheckTest, MissingServiceAndChunksOfTen) {
  std::vector<std::string> names;
  for (int i = 0; i < 11; ++i) names.push_back("s" + std::to_string(i));
  verify(names);
  EXPECT_EQ(ecs_.describe_services_sizes, (std::vector<std::size_t>{10, 1}));
  ASSERT_EQ(findings_.items().size(), 11u);
  EXPECT_EQ(findings_.items()[0].code, "SERVICE_MISSING");
  EXPECT_EQ(findings_.items()[0].message, "service 's0' does not exist in cluster 'afu9'");
}

TEST_F(ServiceCheckTest, AwsErrorsAreFailingFindings) {
  ecs_.describe_services_error = aws::AwsError{
      "THROTTLED", "ThrottlingException", 400, "req-1", "DescribeServices: ThrottlingException", 3};
  const auto reports = verify({"web"});
  ASSERT_EQ(codes(findings_), (Strings{"error THROTTLED"}));
  EXPECT_FALSE(reports[0].found);

  findings_ = {};
  ecs_.describe_services_error.reset();
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.list_tasks_error =
      aws::AwsError{"AUTH_FAILED", "AccessDeniedException", 400, "", "denied", 1};
  verify({"web"});
  ASSERT_EQ(codes(findings_), (Strings{"error AUTH_FAILED"}));
  EXPECT_EQ(findings_.items()[0].message, "ListTasks failed: denied");
}

TEST_F(ServiceCheckTest, AnswersThatAreNotObjectsAreBadResponses) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.list_tasks_answer = json::array({"t1"});
  verify({"web"});
  ASSERT_EQ(codes(findings_), (Strings{"error BAD_RESPONSE"}));
  EXPECT_EQ(findings_.items()[0].message, "ListTasks answer not understood: not a JSON object");
}

TEST_F(ServiceCheckTest, InProgressWithoutWaitFailsAndSkipsTasks) {
  ecs_.services["web"] = {service("web", "IN_PROGRESS")};
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error ROLLOUT_IN_PROGRESS"}));
  EXPECT_EQ(ecs_.list_calls, 0);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ServiceCheckTest, WaitPollsWithBackoffUntilCompleted) {
  ecs_.services["web"] = {service("web", "IN_PROGRESS"), service("web", "IN_PROGRESS"),
                          service("web", "IN_PROGRESS"), service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1")});
  wait_.deadline = milliseconds(60000);
  verify({"web"});
  EXPECT_TRUE(findings_.empty()) << findings_.items().front().message;
  EXPECT_EQ(sleeps_, (std::vector<long long>{2000, 3000, 4500}));
}

TEST_F(ServiceCheckTest, WaitStopsAtTheDeadline) {
  ecs_.services["web"] = {service("web", "IN_PROGRESS")};
  wait_.deadline = milliseconds(20000);
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error ROLLOUT_IN_PROGRESS"}));
  EXPECT_NE(findings_.items()[0].message.find("after --wait"), std::string::npos);
  long long total = 0;
  for (auto s : sleeps_) total += s;
  EXPECT_EQ(total, 20000);
  EXPECT_EQ(sleeps_, (std::vector<long long>{2000, 3000, 4500, 6750, 3750}));
}

TEST_F(ServiceCheckTest, WaitEndsEarlyOnFailure) {
  auto failed = service("web", "FAILED");
  failed["deployments"][0]["rolloutStateReason"] = "tasks failed to start";
  ecs_.services["web"] = {service("web", "IN_PROGRESS"), failed};
  wait_.deadline = milliseconds(600000);
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error ROLLOUT_FAILED"}));
  EXPECT_EQ(sleeps_.size(), 1u);
}

TEST_F(ServiceCheckTest, ManyTasksAreDescribedInHundreds) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.page_size = 100;
  json list = json::array();
  for (int i = 0; i < 205; ++i) list.push_back(task("t" + std::to_string(i)));
  list[150] = task("t150", kOtherDigest);
  ecs_.tasks["web"] = list;
  const auto reports = verify({"web"});
  EXPECT_EQ(ecs_.describe_tasks_sizes, (std::vector<std::size_t>{100, 100, 5}));
  EXPECT_EQ(reports[0].tasks_checked, 205u);
  ASSERT_EQ(codes(findings_), (Strings{"error DIGEST_MISMATCH"}));
}

TEST_F(ServiceCheckTest, ServicesTogetherMustHoldEveryRequiredImage) {
  const std::string td_app = "arn:aws:ecs:eu-central-1:123456789012:task-definition/app:1";
  const std::string td_side = "arn:aws:ecs:eu-central-1:123456789012:task-definition/side:1";
  ecs_.task_definitions[td_app] = {
      {"family", "app"},
      {"containerDefinitions",
       json::array({{{"name", "app"}, {"image", kRegistry + "/afu9/a@" + kDigestA}}})}};
  ecs_.task_definitions[td_side] = {
      {"family", "side"},
      {"containerDefinitions",
       json::array({{{"name", "sidekick"}, {"image", kRegistry + "/afu9/b@" + kDigestB}}})}};
  auto app = service("app", "COMPLETED");
  app["deployments"][0]["taskDefinition"] = td_app;
  auto side = service("side", "COMPLETED");
  side["deployments"][0]["taskDefinition"] = td_side;
  ecs_.services["app"] = {app};
  ecs_.services["side"] = {side};
  auto t_app = task("t1");
  t_app["taskDefinitionArn"] = td_app;
  auto t_side = task("t2");
  t_side["taskDefinitionArn"] = td_side;
  ecs_.tasks["app"] = json::array({t_app});
  ecs_.tasks["side"] = json::array({t_side});
  verify({"app", "side"});
  EXPECT_TRUE(findings_.empty()) << findings_.items().front().message;

  findings_ = {};
  verify({"side"});
  ASSERT_EQ(codes(findings_), (Strings{"error CONTAINER_MISSING"}));
  EXPECT_EQ(findings_.items()[0].image_id, "a");

  // A service that could not be read adds no CONTAINER_MISSING to its own error.
  findings_ = {};
  verify({"side", "gone"});
  EXPECT_EQ(codes(findings_), (Strings{"error SERVICE_MISSING"}));
}

const std::string kDep = "arn:aws:ecs:eu-central-1:123456789012:service-deployment/afu9/web/";
const std::string kRev = "arn:aws:ecs:eu-central-1:123456789012:service-revision/afu9/web/";

json deployment(const std::string& id, const std::string& status, double created,
                const std::string& revision) {
  return {{"serviceDeploymentArn", kDep + id},
          {"status", status},
          {"createdAt", created},
          {"targetServiceRevision", {{"arn", kRev + revision}}}};
}

json revision(const std::string& id, const std::string& digest_a) {
  json images = json::array({{{"containerName", "app"}, {"image", "x"}},
                             {{"containerName", "sidekick"}, {"imageDigest", kDigestB}}});
  if (!digest_a.empty()) images[0]["imageDigest"] = digest_a;
  return {{"serviceRevisionArn", kRev + id}, {"taskDefinition", kTd}, {"containerImages", images}};
}

TEST_F(ServiceCheckTest, TheNewestSuccessfulDeploymentWithTheEvidenceDigestsPasses) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1")});
  ecs_.deployments["web"] = json::array({deployment("old", "ROLLBACK_SUCCESSFUL", 100, "1"),
                                         deployment("new", "SUCCESSFUL", 200, "2")});
  ecs_.revisions[kRev + "2"] = revision("2", kDigestA);
  const auto reports = verify({"web"});
  EXPECT_TRUE(findings_.empty()) << findings_.items().front().message;
  EXPECT_TRUE(reports[0].deployment.judged);
  EXPECT_EQ(reports[0].deployment.arn, kDep + "new");
  EXPECT_EQ(reports[0].deployment.task_definition, kTd);
  EXPECT_EQ(ecs_.describe_deployments_sizes, (std::vector<std::size_t>{2}));
}

TEST_F(ServiceCheckTest, ARolledBackDeploymentFailsThoughTheServiceLooksStable) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1")});
  auto d = deployment("new", "ROLLBACK_SUCCESSFUL", 200, "2");
  d["rollback"] = {{"reason", "circuit breaker: 3 tasks failed"},
                   {"serviceRevisionArn", kRev + "1"}};
  d["deploymentCircuitBreaker"] = {{"status", "TRIGGERED"}, {"failureCount", 3}, {"threshold", 3}};
  ecs_.deployments["web"] = json::array({d});
  verify({"web"});
  ASSERT_EQ(codes(findings_), (Strings{"error ROLLOUT_ROLLED_BACK"}));
  EXPECT_EQ(findings_.items()[0].subject, "web");
  EXPECT_EQ(findings_.items()[0].message,
            "deployment " + kDep + "new of revision " + kRev +
                "2 was rolled back (ROLLBACK_SUCCESSFUL) to revision " + kRev +
                "1: circuit breaker: 3 tasks failed; circuit breaker TRIGGERED (3 failed tasks, "
                "threshold 3)");
}

TEST_F(ServiceCheckTest, StoppedDeploymentsAndRevisionDigestsFail) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1")});
  auto d = deployment("new", "STOPPED", 200, "2");
  d["statusReason"] = "stopped by UpdateService";
  ecs_.deployments["web"] = json::array({d});
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error DEPLOYMENT_STOPPED"}));

  findings_ = {};
  ecs_.deployments["web"] = json::array({deployment("new", "SUCCESSFUL", 200, "2")});
  ecs_.revisions[kRev + "2"] = revision("2", kOtherDigest);
  verify({"web"});
  ASSERT_EQ(codes(findings_), (Strings{"error REVISION_DIGEST_MISMATCH"}));
  EXPECT_EQ(findings_.items()[0].subject, "app");
  EXPECT_NE(findings_.items()[0].message.find("(service 'afu9/web')"), std::string::npos);

  findings_ = {};
  ecs_.revisions[kRev + "2"] = revision("2", "");
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error DIGEST_UNVERIFIED"}));
}

TEST_F(ServiceCheckTest, DeniedDeploymentApisAreOneWarningAndOtherFailuresErrors) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  ecs_.tasks["web"] = json::array({task("t1")});
  ecs_.list_deployments_error =
      aws::AwsError{"AUTH_FAILED", "AccessDeniedException", 400, "", "denied", 1};
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"warning DEPLOYMENTS_UNAVAILABLE"}));
  EXPECT_FALSE(findings_.has_errors());

  findings_ = {};
  ecs_.list_deployments_error =
      aws::AwsError{"THROTTLED", "ThrottlingException", 400, "", "slow down", 3};
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error THROTTLED"}));
}

TEST_F(ServiceCheckTest, DeploymentsAndPendingTasksAreWaitedForWithWait) {
  ecs_.services["web"] = {service("web", "COMPLETED")};
  auto starting = task("t1");
  starting["lastStatus"] = "PENDING";
  ecs_.tasks["web"] = json::array({starting});
  auto d = deployment("new", "IN_PROGRESS", 200, "2");
  d["settlesTo"] = "SUCCESSFUL";
  ecs_.deployments["web"] = json::array({d});
  ecs_.revisions[kRev + "2"] = revision("2", kDigestA);
  // Without --wait: both are findings, never a pass.
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error ROLLOUT_IN_PROGRESS", "error TASK_PENDING"}));
  // With --wait the deployment settles; the task never starts within the deadline.
  findings_ = {};
  ecs_.deployments["web"][0]["status"] = "IN_PROGRESS";
  wait_.deadline = milliseconds(10000);
  verify({"web"});
  EXPECT_EQ(codes(findings_), (Strings{"error TASK_PENDING"}));
  EXPECT_FALSE(sleeps_.empty());
}

TEST(NextDelay, GrowsToTheCapAndNeverPastTheDeadline) {
  WaitPolicy p;
  EXPECT_EQ(next_delay(p, milliseconds(0), milliseconds(100000)), milliseconds(2000));
  EXPECT_EQ(next_delay(p, milliseconds(2000), milliseconds(100000)), milliseconds(3000));
  EXPECT_EQ(next_delay(p, milliseconds(12000), milliseconds(100000)), milliseconds(15000));
  EXPECT_EQ(next_delay(p, milliseconds(15000), milliseconds(100000)), milliseconds(15000));
  EXPECT_EQ(next_delay(p, milliseconds(15000), milliseconds(700)), milliseconds(700));
}

}  // namespace
}  // namespace imagegate::deploy
