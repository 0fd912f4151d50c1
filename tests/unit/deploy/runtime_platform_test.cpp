#include "deploy/runtime_platform.hpp"

#include <gtest/gtest.h>

#include "deploy_fixtures.hpp"

namespace imagegate::deploy {
namespace {

using namespace testing;
using nlohmann::json;
using Strings = std::vector<std::string>;

TaskDefinition with_platform(const json& runtime_platform) {
  json doc = {
      {"family", "f"},
      {"containerDefinitions", json::array({{{"name", "app"}, {"image", "afu9/a:old"}},
                                            {{"name", "sidekick"}, {"image", "afu9/b:old"}}})}};
  if (!runtime_platform.is_null()) doc["runtimePlatform"] = runtime_platform;
  auto td = parse_task_definition(doc, "td.json");
  EXPECT_TRUE(td);
  return *td;
}

TEST(RuntimePlatform, AbsentIsLinuxAmd64AndTheFieldsMapToGoPlatforms) {
  EXPECT_EQ(runtime_platform(with_platform(nullptr)).platform, "linux/amd64");
  EXPECT_EQ(runtime_platform(with_platform(json::object())).platform, "linux/amd64");
  EXPECT_EQ(runtime_platform(
                with_platform({{"cpuArchitecture", "ARM64"}, {"operatingSystemFamily", "LINUX"}}))
                .platform,
            "linux/arm64");
  EXPECT_EQ(runtime_platform(with_platform({{"cpuArchitecture", "ARM64"}})).platform,
            "linux/arm64");
  EXPECT_EQ(runtime_platform(with_platform({{"operatingSystemFamily", "WINDOWS_SERVER_2022_CORE"},
                                            {"cpuArchitecture", "X86_64"}}))
                .platform,
            "windows/amd64");
}

TEST(RuntimePlatform, AnArm64TaskDefinitionForAnAmd64OnlyImageIsAMismatch) {
  auto m = two_image_manifest();
  auto evidence = passing_evidence(m);
  evidence.images[0].platforms = {"linux/amd64"};
  evidence.images[1].platforms = {"linux/amd64", "linux/arm64/v8"};
  const auto expectations = build_expectations(m, tags(), &evidence, {});
  auto td = with_platform({{"cpuArchitecture", "ARM64"}, {"operatingSystemFamily", "LINUX"}});
  findings::Findings findings;
  pin_containers(td, expectations, false, findings);
  ASSERT_EQ(codes(findings), (Strings{"error PLATFORM_MISMATCH"}));
  EXPECT_EQ(findings.items()[0].subject, "app");
  EXPECT_EQ(findings.items()[0].message,
            "container 'app' would start on linux/arm64 (runtimePlatform LINUX/ARM64), a platform "
            "image 'afu9/a' does not have; the evidence recorded: linux/amd64");

  // The default (no runtimePlatform) is linux/amd64, which both images have.
  findings::Findings fine;
  auto plain = with_platform(nullptr);
  pin_containers(plain, expectations, false, fine);
  EXPECT_TRUE(fine.empty());

  // verify --task-def judges alike.
  findings::Findings verified;
  check_task_definition(td, expectations, {}, verified);
  EXPECT_EQ(codes(verified), (Strings{"error PLATFORM_MISMATCH"}));
}

TEST(RuntimePlatform, ImagesWithoutRecordedPlatformsAreNotJudged) {
  auto m = two_image_manifest();
  auto evidence = passing_evidence(m);
  const auto expectations = build_expectations(m, tags(), &evidence, {});
  auto td = with_platform({{"cpuArchitecture", "ARM64"}});
  findings::Findings findings;
  pin_containers(td, expectations, false, findings);
  EXPECT_TRUE(findings.empty());
}

}  // namespace
}  // namespace imagegate::deploy
