#include "aws/config.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace imagegate::aws {
namespace {

using testing::TempDir;

std::string usage_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

TEST(Environment, TreatsEmptyAsUnset) {
  auto env = Environment::from_map({{"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(env.get("A"), "1");
  EXPECT_EQ(env.get("EMPTY"), std::nullopt);
  EXPECT_EQ(env.get("MISSING"), std::nullopt);
  EXPECT_EQ(env.get_or("EMPTY", "fallback"), "fallback");
}

TEST(Environment, BooleansAreStrict) {
  auto env = Environment::from_map({{"T", "TRUE"}, {"F", "false"}, {"BAD", "yes"}});
  EXPECT_TRUE(env.get_bool("T", false));
  EXPECT_FALSE(env.get_bool("F", true));
  EXPECT_TRUE(env.get_bool("MISSING", true));
  EXPECT_EQ(usage_error_of([&] { env.get_bool("BAD", false); }),
            "BAD must be true or false, got 'yes'");
}

TEST(ParseProfile, ReadsConfigAndCredentialsStyles) {
  const std::string config =
      "# comment\n[default]\nregion = us-east-1\n"
      "[profile ci]\nregion=eu-west-1 \n; another comment\ns3 =\n  max_concurrent_requests = 4\n"
      "[ci]\nregion = wrong-because-not-a-profile-section\n";
  auto ci = parse_profile(config, "ci", true);
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->at("region"), "eu-west-1");
  EXPECT_EQ(ci->count("max_concurrent_requests"), 0u);
  EXPECT_EQ(parse_profile(config, "default", true)->at("region"), "us-east-1");
  EXPECT_FALSE(parse_profile(config, "missing", true));

  const std::string credentials = "[ci]\nAWS_Access_Key_Id = AKID\n[profile ci]\nx = y\n";
  auto creds = parse_profile(credentials, "ci", false);
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->at("aws_access_key_id"), "AKID");
  EXPECT_EQ(creds->count("x"), 0u);
}

TEST(SharedConfig, CredentialsFileWinsOverConfigFile) {
  TempDir dir;
  auto env = Environment::from_map(
      {{"AWS_SHARED_CREDENTIALS_FILE", dir.write("credentials", "[ci]\nregion = from-creds\n")},
       {"AWS_CONFIG_FILE",
        dir.write("config", "[profile ci]\nregion = from-config\nrole_arn = arn:x\n")},
       {"AWS_PROFILE", "ci"}});
  SharedConfig shared = load_shared_config(env);
  EXPECT_EQ(shared.profile_name, "ci");
  EXPECT_TRUE(shared.profile_from_env);
  EXPECT_EQ(shared.value("region"), "from-creds");
  EXPECT_EQ(shared.value("role_arn"), "arn:x");
  EXPECT_EQ(shared.value("missing"), std::nullopt);
}

TEST(SharedConfig, DefaultsUnderHomeAndMissingFilesAreFine) {
  TempDir dir;
  auto env = Environment::from_map({{"HOME", dir.path("home")}});
  SharedConfig shared = load_shared_config(env);
  EXPECT_EQ(shared.credentials_file, dir.path("home") + "/.aws/credentials");
  EXPECT_EQ(shared.config_file, dir.path("home") + "/.aws/config");
  EXPECT_EQ(shared.profile_name, "default");
  EXPECT_FALSE(shared.has_profile());
}

TEST(SharedConfig, UnreadableFileIsUsageError) {
  TempDir dir;
  // A directory exists but cannot be read as a file.
  std::filesystem::create_directory(dir.path("config"));
  auto env = Environment::from_map(
      {{"AWS_CONFIG_FILE", dir.path("config")}, {"AWS_SHARED_CREDENTIALS_FILE", dir.path("none")}});
  EXPECT_EQ(usage_error_of([&] { load_shared_config(env); }),
            "cannot read the AWS config file " + dir.path("config"));
}

TEST(ResolveRegion, FollowsFlagThenEnvironmentThenProfile) {
  SharedConfig shared;
  shared.config_section = Profile{{"region", "profile-region"}};
  auto env = Environment::from_map({{"AWS_REGION", "env-region"}, {"AWS_DEFAULT_REGION", "def"}});
  EXPECT_EQ(resolve_region("flag-region", env, shared), "flag-region");
  EXPECT_EQ(resolve_region(std::nullopt, env, shared), "env-region");
  EXPECT_EQ(
      resolve_region(std::nullopt, Environment::from_map({{"AWS_DEFAULT_REGION", "def"}}), shared),
      "def");
  EXPECT_EQ(resolve_region(std::nullopt, Environment::from_map({}), shared), "profile-region");
}

TEST(ResolveRegion, NoRegionNamesEveryPlace) {
  SharedConfig shared;
  shared.profile_name = "ci";
  shared.config_file = "/h/.aws/config";
  shared.credentials_file = "/h/.aws/credentials";
  EXPECT_EQ(
      usage_error_of([&] { resolve_region(std::nullopt, Environment::from_map({}), shared); }),
      "no AWS region: set --region, AWS_REGION or AWS_DEFAULT_REGION, or region in profile ci of "
      "/h/.aws/config (looked at --region, AWS_REGION, AWS_DEFAULT_REGION, /h/.aws/credentials, "
      "/h/.aws/config)");
}

TEST(ResolveEndpoint, PrecedenceAndDefaults) {
  auto env = Environment::from_map({{"AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:9000/"},
                                    {"AWS_ENDPOINT_URL", "http://localhost:9001"}});
  EXPECT_EQ(resolve_endpoint("ecr", "eu-west-1", "https://flag.example", env),
            "https://flag.example");
  EXPECT_EQ(resolve_endpoint("ecr", "eu-west-1", std::nullopt, env), "http://127.0.0.1:9000");
  EXPECT_EQ(resolve_endpoint("ecs", "eu-west-1", std::nullopt, env), "http://localhost:9001");
  auto none = Environment::from_map({});
  EXPECT_EQ(resolve_endpoint("ecr", "eu-west-1", std::nullopt, none),
            "https://api.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_endpoint("ecs", "eu-west-1", std::nullopt, none),
            "https://ecs.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_endpoint("sts", "cn-north-1", std::nullopt, none),
            "https://sts.cn-north-1.amazonaws.com.cn");
  auto ignored = Environment::from_map({{"AWS_ENDPOINT_URL", "http://localhost:9001"},
                                        {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(resolve_endpoint("sts", "us-east-1", std::nullopt, ignored),
            "https://sts.us-east-1.amazonaws.com");
}

TEST(ResolveEndpoint, RejectsNonHttpUrlsNamingTheSource) {
  auto env = Environment::from_map({{"AWS_ENDPOINT_URL_ECS", "ftp://x"}});
  EXPECT_EQ(usage_error_of([&] { resolve_endpoint("ecs", "us-east-1", std::nullopt, env); }),
            "AWS_ENDPOINT_URL_ECS must be an http:// or https:// URL, got 'ftp://x'");
  EXPECT_EQ(usage_error_of([&] {
              resolve_endpoint("ecr", "us-east-1", "https://", Environment::from_map({}));
            }),
            "--endpoint-url must be an http:// or https:// URL, got 'https://'");
}

TEST(MaxAttempts, DefaultAndValidation) {
  EXPECT_EQ(resolve_max_attempts(Environment::from_map({})), 3);
  EXPECT_EQ(resolve_max_attempts(Environment::from_map({{"AWS_MAX_ATTEMPTS", "5"}})), 5);
  for (const char* bad : {"0", "21", "3x", "many"}) {
    EXPECT_EQ(
        usage_error_of([&] {
          resolve_max_attempts(Environment::from_map({{"AWS_MAX_ATTEMPTS", bad}}));
        }),
        std::string("AWS_MAX_ATTEMPTS must be a whole number from 1 to 20, got '") + bad + "'");
  }
}

TEST(Redact, ReplacesEverySecretOccurrence) {
  EXPECT_EQ(redact("a SECRET b SECRET tok", {"SECRET", "", "tok"}), "a *** b *** ***");
}

}  // namespace
}  // namespace imagegate::aws
