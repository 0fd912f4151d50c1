#include "deploy/expectations.hpp"

#include <gtest/gtest.h>

#include "deploy_fixtures.hpp"

namespace imagegate::deploy {
namespace {

using namespace testing;
using nlohmann::json;
using Strings = std::vector<std::string>;

class ExpectationsTest : public ::testing::Test {
 protected:
  manifest::Manifest manifest_ = two_image_manifest();
  evidence::Evidence evidence_ = passing_evidence(manifest_);

  Expectations with_evidence(std::set<std::string, std::less<>> allowed = {}) {
    return build_expectations(manifest_, tags(), &evidence_, std::move(allowed));
  }
  Expectations without_evidence() { return build_expectations(manifest_, tags(), nullptr, {}); }
};

TEST_F(ExpectationsTest, EvidenceOfThisDeployPasses) {
  findings::Findings findings;
  check_evidence(evidence_, manifest_, "production", kSha, findings);
  check_evidence(evidence_, manifest_, "", "", findings);
  EXPECT_TRUE(findings.empty());
}

TEST_F(ExpectationsTest, EvidenceOfAnotherDeployFails) {
  evidence_.verdict = "fail";
  evidence_.manifest_sha256 = std::string(64, '0');
  findings::Findings findings;
  check_evidence(evidence_, manifest_, "staging", std::string(40, '9'), findings);
  ASSERT_EQ(codes(findings),
            (Strings{"error EVIDENCE_NOT_PASSED", "error EVIDENCE_MANIFEST_MISMATCH",
                     "error EVIDENCE_MISMATCH", "error EVIDENCE_MISMATCH"}));
  const auto& items = findings.items();
  EXPECT_EQ(items[0].message,
            "the evidence's verdict is 'fail', not \"pass\": the gate did not verify this "
            "deploy's images");
  EXPECT_EQ(items[1].message, "the evidence is for manifest 'images-manifest.json' with sha256 '" +
                                  std::string(64, '0') +
                                  "', but 'images-manifest.json' has sha256 " + manifest_.sha256);
  EXPECT_EQ(items[2].message,
            "the evidence is for environment 'production', this deploy is 'staging'");
  EXPECT_EQ(items[3].message, "the evidence is for commit '" + kSha + "', this deploy is '" +
                                  std::string(40, '9') + "'");
}

TEST_F(ExpectationsTest, UnusableEvidenceEntriesFail) {
  evidence_.images[0].digest = "sha256:short";
  evidence_.images[1].repository_uri = kRegistry + "/afu9/b:latest";
  findings::Findings findings;
  check_evidence(evidence_, manifest_, "", "", findings);
  ASSERT_EQ(codes(findings), (Strings{"error EVIDENCE_INVALID", "error EVIDENCE_INVALID"}));
  EXPECT_EQ(findings.items()[0].message,
            "the evidence's digest 'sha256:short' is not a valid digest");
  EXPECT_EQ(findings.items()[1].message, "the evidence's repositoryUri '" + kRegistry +
                                             "/afu9/b:latest' is not a repository (it has a tag "
                                             "or digest)");
}

TEST_F(ExpectationsTest, PinSetsEveryManagedContainerToItsDigest) {
  auto td = task_definition(json::array({{{"name", "app"}, {"image", "afu9/a:old"}},
                                         {{"name", "sidekick"}, {"image", "afu9/b:old"}},
                                         {{"name", "log-router"}, {"image", "fluent-bit:2"}}}));
  findings::Findings findings;
  pin_containers(td, with_evidence({"log-router"}), false, findings);
  EXPECT_EQ(codes(findings), (Strings{"info UNMANAGED_CONTAINER"}));
  EXPECT_EQ(findings.items()[0].message,
            "not an image of the manifest; image 'fluent-bit:2' kept as is (--allow-unmanaged)");
  const auto c = td.containers();
  EXPECT_EQ(c[0].image, kRegistry + "/afu9/a@" + kDigestA);
  EXPECT_EQ(c[1].image, kRegistry + "/afu9/b@" + kDigestB);
  EXPECT_EQ(c[2].image, "fluent-bit:2");
}

TEST_F(ExpectationsTest, PinFailsOnUnmanagedAndMissingContainers) {
  auto td = task_definition(json::array({{{"name", "log-router"}, {"image", "fluent-bit:2"}}}));
  findings::Findings findings;
  pin_containers(td, with_evidence(), false, findings);
  ASSERT_EQ(codes(findings), (Strings{"error UNMANAGED_CONTAINER", "error CONTAINER_MISSING",
                                      "warning CONTAINER_MISSING"}));
  EXPECT_EQ(findings.items()[0].message,
            "container 'log-router' (image 'fluent-bit:2') is not the taskDefContainerName of any "
            "manifest image; add it to the manifest or pass --allow-unmanaged 'log-router'");
  EXPECT_EQ(findings.items()[1].message,
            "the task definition has no container 'app' for required image 'a'");
  EXPECT_EQ(findings.items()[2].message,
            "the task definition has no container 'sidekick' for optional image 'b'");
}

TEST_F(ExpectationsTest, OptionalImageAbsentFromEvidence) {
  evidence_.images[1] = image_evidence("b", "", false);
  const json containers = json::array(
      {{{"name", "app"}, {"image", "afu9/a:old"}}, {{"name", "sidekick"}, {"image", "afu9/b:v0"}}});
  {
    auto td = task_definition(containers);
    findings::Findings findings;
    pin_containers(td, with_evidence(), false, findings);
    ASSERT_EQ(codes(findings), (Strings{"error OPTIONAL_IMAGE_ABSENT"}));
    EXPECT_EQ(findings.items()[0].message,
              "optional image is absent from the evidence, so container 'sidekick' cannot be "
              "pinned; pass --keep-absent-optional to keep 'afu9/b:v0'");
  }
  auto td = task_definition(containers);
  findings::Findings findings;
  pin_containers(td, with_evidence(), true, findings);
  ASSERT_EQ(codes(findings), (Strings{"warning OPTIONAL_IMAGE_ABSENT"}));
  EXPECT_EQ(findings.items()[0].message,
            "optional image is absent from the evidence; image 'afu9/b:v0' kept as is "
            "(--keep-absent-optional)");
  EXPECT_EQ(td.containers()[1].image, "afu9/b:v0");
  EXPECT_EQ(td.containers()[0].image, kRegistry + "/afu9/a@" + kDigestA);
}

TEST_F(ExpectationsTest, PinRefusesImagesTheEvidenceDidNotVerify) {
  evidence_.images[0].status = "fail";
  evidence_.images.pop_back();
  auto td = task_definition(json::array({{{"name", "app"}, {"image", "afu9/a:old"}},
                                         {{"name", "sidekick"}, {"image", "afu9/b:v0"}}}));
  findings::Findings findings;
  pin_containers(td, with_evidence(), true, findings);
  ASSERT_EQ(codes(findings), (Strings{"error IMAGE_NOT_VERIFIED", "error EVIDENCE_IMAGE_MISSING"}));
  EXPECT_EQ(findings.items()[1].message, "the evidence has no entry for image 'b'");
}

TEST_F(ExpectationsTest, AllowUnmanagedCannotNameAManagedContainer) {
  try {
    check_allowed_unmanaged(with_evidence({"app"}));
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--allow-unmanaged 'app' names the container of manifest image 'a'; only "
                 "containers the manifest does not manage can be allowed");
  }
  EXPECT_NO_THROW(check_allowed_unmanaged(with_evidence({"log-router", "not-there"})));
}

std::string check(const Expectations& e, const std::string& image,
                  const DigestResolver& resolver = {}) {
  auto result = check_container_image({0, "app", image}, e.images[0], resolver);
  if (result.ok && !result.finding) return "ok";
  return std::string(result.ok ? "ok " : "") + result.finding->code + ": " +
         result.finding->message;
}

TEST_F(ExpectationsTest, ContainerImageRulesWithEvidence) {
  const auto e = with_evidence();
  const auto repo = kRegistry + "/afu9/a";
  const auto expected = "; expected " + repo + "@" + kDigestA + " or " + repo + ":prod-" + kSha +
                        " or " + repo + ":prod-latest";
  EXPECT_EQ(check(e, repo + "@" + kDigestA), "ok");
  EXPECT_EQ(check(e, repo + ":prod-latest@" + kDigestA), "ok");
  EXPECT_EQ(check(e, repo + ":prod-" + kSha), "ok");
  EXPECT_EQ(check(e, repo + ":prod-latest"), "ok");
  EXPECT_EQ(check(e, repo + ":prod-0000000"),
            "IMAGE_MISMATCH: container 'app' runs '" + repo +
                ":prod-0000000': tag 'prod-0000000' is not one of this deploy's" + expected);
  EXPECT_EQ(check(e, repo + "@" + kOtherDigest), "IMAGE_MISMATCH: container 'app' runs '" + repo +
                                                     "@" + kOtherDigest + "': digest is not " +
                                                     kDigestA + expected);
  EXPECT_EQ(check(e, repo + ":prod-latest@" + kOtherDigest).substr(0, 14), "IMAGE_MISMATCH");
  EXPECT_EQ(
      check(e, "afu9/a:prod-latest"),
      "IMAGE_MISMATCH: container 'app' runs 'afu9/a:prod-latest': another repository" + expected);
  EXPECT_EQ(check(e, kRegistry + "/afu9/b@" + kDigestA).substr(0, 14), "IMAGE_MISMATCH");
  EXPECT_EQ(check(e, repo), "IMAGE_MISMATCH: container 'app' runs '" + repo +
                                "': no tag or digest (that means :latest)" + expected);
  EXPECT_EQ(check(e, "Afu9/A:x y"),
            "IMAGE_MISMATCH: container 'app': image reference 'Afu9/A:x y' is invalid: it "
            "contains whitespace or a control character" +
                expected);
  EXPECT_EQ(check(e, ""), "IMAGE_MISMATCH: container 'app' has no image" + expected);
}

TEST_F(ExpectationsTest, ContainerImageRulesWithoutEvidence) {
  const auto e = without_evidence();
  const auto expected =
      "; expected [REGISTRY/]afu9/a:prod-" + kSha + " or [REGISTRY/]afu9/a:prod-latest";
  EXPECT_EQ(check(e, "afu9/a:prod-latest"), "ok");
  EXPECT_EQ(check(e, "ghcr.io/org/afu9/a:prod-" + kSha), "ok");
  EXPECT_EQ(check(e, kRegistry + "/afu9/a:prod-latest"), "ok");
  EXPECT_EQ(check(e, "ghcr.io/xafu9/a:prod-latest"),
            "IMAGE_MISMATCH: container 'app' runs 'ghcr.io/xafu9/a:prod-latest': another "
            "repository" +
                expected);
  EXPECT_EQ(check(e, "afu9/a@" + kDigestA), "DIGEST_UNVERIFIED: container 'app' names digest " +
                                                kDigestA +
                                                ", which cannot be verified without --evidence");
  EXPECT_EQ(check(e, "afu9/a:prod-latest@" + kDigestA).substr(0, 17), "DIGEST_UNVERIFIED");
  int calls = 0;
  DigestResolver resolver = [&](const ExpectedImage& image) -> Result<std::string> {
    ++calls;
    EXPECT_EQ(image.id, "a");
    return kDigestA;
  };
  EXPECT_EQ(check(e, "afu9/a@" + kDigestA, resolver), "ok");
  EXPECT_EQ(check(e, "afu9/a@" + kOtherDigest, resolver).substr(0, 14), "IMAGE_MISMATCH");
  EXPECT_EQ(calls, 2);
  DigestResolver failing = [](const ExpectedImage&) -> Result<std::string> {
    return fail("UNREACHABLE", "registry did not answer");
  };
  EXPECT_EQ(check(e, "afu9/a@" + kDigestA, failing), "UNREACHABLE: registry did not answer");
}

TEST_F(ExpectationsTest, OptionalImageAbsentInVerifyNeedsKeepAbsentOptional) {
  evidence_.images[1] = image_evidence("b", "", false);
  const auto e = with_evidence();
  auto refused = check_container_image({1, "sidekick", "afu9/b:v0"}, e.images[1], {});
  EXPECT_FALSE(refused.ok);
  ASSERT_TRUE(refused.finding);
  EXPECT_EQ(refused.finding->severity, findings::Severity::kError);
  EXPECT_EQ(refused.finding->message,
            "optional image is absent from the evidence, so image 'afu9/b:v0' is not verified; "
            "pass --keep-absent-optional to accept it");
  auto kept = check_container_image({1, "sidekick", "afu9/b:v0"}, e.images[1], {}, true);
  EXPECT_TRUE(kept.ok);
  ASSERT_TRUE(kept.finding);
  EXPECT_EQ(kept.finding->severity, findings::Severity::kWarning);
  EXPECT_EQ(kept.finding->code, "OPTIONAL_IMAGE_ABSENT");
  // A required image can never be absent and accepted.
  evidence_.images[0] = image_evidence("a", "", true);
  const auto e2 = with_evidence();
  EXPECT_EQ(check_container_image({0, "app", "afu9/a:v0"}, e2.images[0], {}, true).finding->code,
            "IMAGE_NOT_VERIFIED");
}

TEST_F(ExpectationsTest, TaskDefinitionVerdictsPerContainer) {
  auto td = task_definition(
      json::array({{{"name", "app"}, {"image", kRegistry + "/afu9/a@" + kDigestA}},
                   {{"name", "sidekick"}, {"image", kRegistry + "/afu9/b:prod-0000000"}},
                   {{"name", "log-router"}, {"image", "fluent-bit:2"}},
                   {{"name", "extra"}, {"image", "busybox"}}}));
  findings::Findings findings;
  const auto verdicts = check_task_definition(td, with_evidence({"log-router"}), {}, findings);
  using Mark = ContainerVerdict::Mark;
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[0].mark, Mark::kOk);
  EXPECT_EQ(verdicts[1].mark, Mark::kFailed);
  EXPECT_EQ(verdicts[2].mark, Mark::kUnmanaged);
  EXPECT_EQ(verdicts[3].mark, Mark::kFailed);
  EXPECT_EQ(codes(findings), (Strings{"info UNMANAGED_CONTAINER", "error UNMANAGED_CONTAINER",
                                      "error IMAGE_MISMATCH"}));
}

}  // namespace
}  // namespace imagegate::deploy
