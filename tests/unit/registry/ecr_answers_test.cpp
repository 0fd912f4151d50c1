#include <fmt/format.h>
#include <gtest/gtest.h>

#include "registry/ecr/answers.hpp"
#include "registry/ecr/ecr.hpp"
#include "util/text.hpp"

namespace imagegate::registry::ecr {
namespace {

TEST(EcrUrl, AcceptedForms) {
  auto plain = parse_ecr_url("ecr");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->region, "");
  EXPECT_EQ(plain->registry_id, "");
  auto region = parse_ecr_url("ecr://eu-central-1");
  ASSERT_TRUE(region);
  EXPECT_EQ(region->region, "eu-central-1");
  EXPECT_EQ(region->to_string(), "ecr://eu-central-1");
  auto host = parse_ecr_url("ecr://123456789012.dkr.ecr.us-gov-west-1.amazonaws.com");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->registry_id, "123456789012");
  EXPECT_EQ(host->region, "us-gov-west-1");
  auto china = parse_ecr_url("ecr://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
  ASSERT_TRUE(china);
  EXPECT_EQ(china->region, "cn-north-1");
  auto fips = parse_ecr_url("ecr://123456789012.dkr.ecr-fips.us-east-1.amazonaws.com");
  ASSERT_TRUE(fips);
  EXPECT_EQ(fips->region, "us-east-1");
}

TEST(EcrUrl, BadFormsNameTheAcceptedOnes) {
  const std::string accepted =
      "expected 'ecr', 'ecr://REGION' (e.g. ecr://eu-central-1) or "
      "'ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com' (ACCOUNT: 12 digits)";
  for (const char* bad :
       {"ecr://", "ecr://EU-CENTRAL-1", "ecr://eu-central",
        "ecr://12345.dkr.ecr.eu-central-1.amazonaws.com",
        "ecr://123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9",
        "ecr://123456789012.dkr.ecr.eu-central-1.example.com", "ecr://eu-central-1/"}) {
    auto result = parse_ecr_url(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, "REGISTRY_URL_INVALID");
    EXPECT_EQ(result.error().message, fmt::format("registry '{}': {}", bad, accepted));
  }
  auto other = parse_ecr_url("https://ghcr.io");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "registry 'https://ghcr.io' is not an ECR URL: " + accepted);
  auto escaped = parse_ecr_url("ecr://\x1b[31m");
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().message.find('\x1b'), std::string::npos);
}

TEST(EcrAnswers, MissingRepositoryName) {
  EXPECT_EQ(detail::missing_repository_name(
                "ecr DescribeRepositories: RepositoryNotFoundException: The repository with name "
                "'afu9/x' does not exist in the registry with id '123456789012' (HTTP 400)"),
            "afu9/x");
  EXPECT_EQ(detail::missing_repository_name("The repository with name '' does not exist"),
            std::nullopt);
  EXPECT_EQ(detail::missing_repository_name("repository not found"), std::nullopt);
  EXPECT_EQ(detail::missing_repository_name("The repository with name 'afu9/x"), std::nullopt);
}

TEST(EcrAnswers, MovingTags) {
  EXPECT_TRUE(detail::is_moving_tag("prod-latest"));
  EXPECT_TRUE(detail::is_moving_tag("prod-0123456"));
  EXPECT_TRUE(detail::is_moving_tag("v1.2.3"));
  EXPECT_TRUE(detail::is_moving_tag(std::string(39, 'a')));
  EXPECT_FALSE(detail::is_moving_tag("prod-0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(detail::is_moving_tag("sha-" + std::string(64, 'f') + "-x"));
}

TEST(EcrAnswers, DigestChecks) {
  EXPECT_TRUE(detail::check_manifest_digest("{}", "sha256:" + util::sha256_hex("{}")));
  auto upper = detail::check_manifest_digest("{}", "sha512:abc");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message, "the registry gave digest 'sha512:abc', not a sha256 digest");
}

TEST(EcrAnswers, ManifestShapes) {
  auto list =
      detail::read_manifest(R"({"manifests":[{"platform":{"os":"linux"}}]})", detail::kDockerList);
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message, "an index entry's platform lacks os or architecture");
  auto no_list =
      detail::read_manifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})", "");
  ASSERT_FALSE(no_list);
  EXPECT_EQ(no_list.error().message,
            "the application/vnd.oci.image.index.v1+json has no manifests list");
  auto no_config = detail::read_manifest(R"({"config":{}})", detail::kDockerManifest);
  ASSERT_FALSE(no_config);
  EXPECT_EQ(no_config.error().message, "the image manifest has no sha256 config digest");
  auto not_json = detail::read_manifest("nope", detail::kDockerManifest);
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().message, "the image manifest is not a JSON object");
}

TEST(EcrAnswers, ConfigWithoutPlatform) {
  const std::string blob = R"({"os":"linux"})";
  auto result = detail::read_config_platform(blob, "sha256:" + util::sha256_hex(blob));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "the config blob sha256:" + util::sha256_hex(blob) + " names no os and architecture");
}

TEST(EcrAnswers, FailureCodes) {
  EXPECT_EQ(detail::image_failure("t", "ImageNotFound", "x").status, TagStatus::kMissing);
  auto kms = detail::image_failure("t", "KmsError", "");
  EXPECT_EQ(kms.status, TagStatus::kError);
  EXPECT_EQ(kms.error.code, "BAD_RESPONSE");
  EXPECT_EQ(kms.error.message, "BatchGetImage failure 'KmsError': no reason given");
  auto none = detail::image_failure("t", "", "huh\x1b[2J");
  EXPECT_EQ(none.error.message, "BatchGetImage failure without a code: huh\\x1b[2J");
  EXPECT_EQ(detail::image_failure("t", "UpstreamTooManyRequests", "").error.code, "THROTTLED");
}

}  // namespace
}  // namespace imagegate::registry::ecr
