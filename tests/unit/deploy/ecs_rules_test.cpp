#include <gtest/gtest.h>

#include "deploy/ecs.hpp"
#include "deploy_fixtures.hpp"

namespace imagegate::deploy {
namespace {

using namespace testing;
using nlohmann::json;
using State = Rollout::State;
using Strings = std::vector<std::string>;

const std::string kTd2 = "arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:2";
const std::string kTd1 = "arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9:1";

json deployment(const std::string& status, const std::string& td, const char* rollout,
                int running = 2, int desired = 2) {
  json d = {{"status", status},
            {"taskDefinition", td},
            {"runningCount", running},
            {"desiredCount", desired},
            {"pendingCount", 0}};
  if (rollout != nullptr) d["rolloutState"] = rollout;
  return d;
}

json service(json deployments, const std::string& status = "ACTIVE") {
  return {{"serviceName", "web"}, {"status", status}, {"deployments", std::move(deployments)}};
}

TEST(Rollout, CompletedPrimary) {
  const auto r = assess_rollout(service({deployment("PRIMARY", kTd2, "COMPLETED")}));
  EXPECT_EQ(r.state, State::kCompleted);
  EXPECT_EQ(r.primary_task_definition, kTd2);
  findings::Findings findings;
  record_rollout("web", r, false, findings);
  EXPECT_TRUE(findings.empty());
}

TEST(Rollout, FailedCarriesItsReason) {
  auto d = deployment("PRIMARY", kTd2, "FAILED", 0, 2);
  d["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start.";
  const auto r = assess_rollout(service({d, deployment("ACTIVE", kTd1, "COMPLETED")}));
  EXPECT_EQ(r.state, State::kFailed);
  findings::Findings findings;
  record_rollout("web", r, false, findings);
  ASSERT_EQ(codes(findings), (Strings{"error ROLLOUT_FAILED"}));
  EXPECT_EQ(
      findings.items()[0].message,
      "the rollout of " + kTd2 + " failed: ECS deployment circuit breaker: tasks failed to start.");
}

TEST(Rollout, InProgressSaysWhetherItWaited) {
  const auto r = assess_rollout(service(
      {deployment("PRIMARY", kTd2, "IN_PROGRESS", 1, 2), deployment("ACTIVE", kTd1, "COMPLETED")}));
  EXPECT_EQ(r.state, State::kInProgress);
  findings::Findings findings;
  record_rollout("web", r, false, findings);
  record_rollout("web", r, true, findings);
  ASSERT_EQ(codes(findings), (Strings{"error ROLLOUT_IN_PROGRESS", "error ROLLOUT_IN_PROGRESS"}));
  EXPECT_EQ(findings.items()[0].message,
            "the rollout of " + kTd2 +
                " is still in progress; pass --wait DURATION to wait for it (running 1/2 "
                "desired, 0 pending; 1 older deployment still listed)");
  EXPECT_EQ(findings.items()[1].message,
            "the rollout of " + kTd2 +
                " is still in progress after --wait (running 1/2 desired, 0 pending; 1 older "
                "deployment still listed)");
}

TEST(Rollout, WithoutRolloutStateCountsDecide) {
  EXPECT_EQ(assess_rollout(service({deployment("PRIMARY", kTd2, nullptr)})).state,
            State::kCompleted);
  EXPECT_EQ(assess_rollout(service({deployment("PRIMARY", kTd2, nullptr, 1, 2)})).state,
            State::kInProgress);
  EXPECT_EQ(assess_rollout(service({deployment("PRIMARY", kTd2, nullptr),
                                    deployment("ACTIVE", kTd1, nullptr)}))
                .state,
            State::kInProgress);
}

TEST(Rollout, OddAnswersAreNeverComplete) {
  auto finding_of = [](const json& s) {
    findings::Findings findings;
    const auto r = assess_rollout(s);
    EXPECT_TRUE(r.state == State::kInvalid || r.state == State::kInactive);
    record_rollout("web", r, false, findings);
    return findings.items().at(0).code + ": " + findings.items().at(0).message;
  };
  EXPECT_EQ(assess_rollout(service({}, "INACTIVE")).state, State::kInactive);
  EXPECT_EQ(finding_of(service({}, "DRAINING")),
            "SERVICE_INACTIVE: the service's status is 'DRAINING', not ACTIVE");
  EXPECT_EQ(finding_of(service({deployment("ACTIVE", kTd1, "COMPLETED")})),
            "BAD_RESPONSE: DescribeServices answer not understood: the service has 0 PRIMARY "
            "deployments, expected exactly one");
  EXPECT_EQ(finding_of(service({deployment("PRIMARY", kTd2, "COMPLETED"),
                                deployment("PRIMARY", kTd1, "COMPLETED")})),
            "BAD_RESPONSE: DescribeServices answer not understood: the service has 2 PRIMARY "
            "deployments, expected exactly one");
  EXPECT_EQ(finding_of(service({deployment("PRIMARY", kTd2, "PAUSED")})),
            "BAD_RESPONSE: DescribeServices answer not understood: unknown rolloutState 'PAUSED'");
  EXPECT_EQ(finding_of(service({deployment("PRIMARY", "", "COMPLETED")})),
            "BAD_RESPONSE: DescribeServices answer not understood: the PRIMARY deployment names "
            "no task definition");
  EXPECT_EQ(finding_of(json{{"status", "ACTIVE"}}),
            "BAD_RESPONSE: DescribeServices answer not understood: the service has no "
            "deployments list");
  EXPECT_EQ(finding_of(json::array()),
            "BAD_RESPONSE: DescribeServices answer not understood: the service is not a JSON "
            "object");
  json no_counts = {{"status", "PRIMARY"}, {"taskDefinition", kTd2}};
  EXPECT_EQ(finding_of(service({no_counts})),
            "BAD_RESPONSE: DescribeServices answer not understood: the PRIMARY deployment has "
            "neither rolloutState nor running/desired counts");
}

class TasksTest : public ::testing::Test {
 protected:
  manifest::Manifest manifest_ = two_image_manifest();
  evidence::Evidence evidence_ = passing_evidence(manifest_);
  Expectations expectations_ = build_expectations(manifest_, tags(), &evidence_, {"log-router"});

  static json task(const std::string& arn, const std::string& td, const std::string& a_digest,
                   const std::string& b_digest = kDigestB) {
    json containers = json::array();
    containers.push_back({{"name", "app"}, {"image", "x"}, {"imageDigest", a_digest}});
    containers.push_back({{"name", "sidekick"}, {"image", "y"}, {"imageDigest", b_digest}});
    containers.push_back(
        {{"name", "log-router"}, {"image", "fluent"}, {"imageDigest", kOtherDigest}});
    for (auto& c : containers) {
      if (c["imageDigest"] == "") c.erase("imageDigest");
    }
    return {{"taskArn", arn},
            {"taskDefinitionArn", td},
            {"lastStatus", "RUNNING"},
            {"containers", containers}};
  }

  findings::Findings check(const json& tasks, const DigestResolver& resolver = {}) {
    findings::Findings findings;
    check_tasks("web", tasks, kTd2, expectations_, expected_digests(expectations_, resolver),
                findings);
    return findings;
  }
};

TEST_F(TasksTest, TasksOnThePrimaryWithTheVerifiedDigestsPass) {
  EXPECT_TRUE(check(json::array({task("t1", kTd2, kDigestA), task("t2", kTd2, kDigestA)})).empty());
}

TEST_F(TasksTest, StaleTaskAndDigestMismatch) {
  const auto findings = check(json::array(
      {task("t1", kTd2, kDigestA), task("t2", kTd1, kDigestA), task("t3", kTd2, kOtherDigest)}));
  ASSERT_EQ(codes(findings), (Strings{"error STALE_TASK", "error DIGEST_MISMATCH"}));
  EXPECT_EQ(findings.items()[0].subject, "t2");
  EXPECT_EQ(findings.items()[0].message,
            "task 't2' runs task definition '" + kTd1 + "', not the primary '" + kTd2 + "'");
  EXPECT_EQ(findings.items()[1].message,
            "container 'app' of task 't3' runs '" + kOtherDigest + "' ('x'), expected " + kDigestA);
  EXPECT_EQ(findings.items()[1].image_id, "a");
}

TEST_F(TasksTest, MissingDigestAndNoTasksFail) {
  ASSERT_EQ(codes(check(json::array({task("t1", kTd2, "")}))),
            (Strings{"error DIGEST_UNVERIFIED"}));
  const auto none = check(json::array());
  ASSERT_EQ(codes(none), (Strings{"error NO_RUNNING_TASKS"}));
  EXPECT_EQ(codes(check(json::array({{{"taskArn", "t1"}}}))), (Strings{"error BAD_RESPONSE"}));
}

TEST_F(TasksTest, WithoutEvidenceOrResolverDigestsAreUnverifiedOncePerImage) {
  expectations_ = build_expectations(manifest_, tags(), nullptr, {});
  const auto findings =
      check(json::array({task("t1", kTd2, kDigestA), task("t2", kTd2, kDigestA)}));
  ASSERT_EQ(codes(findings), (Strings{"error DIGEST_UNVERIFIED", "error DIGEST_UNVERIFIED"}));
  EXPECT_EQ(findings.items()[0].message,
            "the digest of image 'a' is not known without --evidence, so running containers "
            "cannot be verified");
  DigestResolver resolver = [](const ExpectedImage& image) -> Result<std::string> {
    if (image.id == "a") return kDigestA;
    return fail("TAG_MISSING", "tag prod-latest of afu9/b is missing");
  };
  const auto resolved = check(json::array({task("t1", kTd2, kDigestA)}), resolver);
  ASSERT_EQ(codes(resolved), (Strings{"error TAG_MISSING"}));
}

TEST_F(TasksTest, OptionalImageAbsentFromEvidenceIsNotChecked) {
  evidence_.images[1] = image_evidence("b", "", false);
  expectations_ = build_expectations(manifest_, tags(), &evidence_, {});
  EXPECT_TRUE(check(json::array({task("t1", kTd2, kDigestA, kOtherDigest)})).empty());
}

TEST(FindingCode, MapsServiceErrors) {
  aws::AwsError e{"AWS_ERROR", "ClusterNotFoundException", 400, "r", "m", 1};
  EXPECT_EQ(finding_code(e), "CLUSTER_MISSING");
  e.aws_code = "ServiceNotFoundException";
  EXPECT_EQ(finding_code(e), "SERVICE_MISSING");
  e.aws_code = "InvalidParameterException";
  EXPECT_EQ(finding_code(e), "AWS_ERROR");
  e.code = "THROTTLED";
  EXPECT_EQ(finding_code(e), "THROTTLED");
}

}  // namespace
}  // namespace imagegate::deploy
