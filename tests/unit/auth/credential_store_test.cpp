// Credentials from docker config.json and from docker-credential-* helpers (shell scripts written
// into a scratch directory that serves as the helper PATH).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auth/auth.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScratchDir;

CredentialStoreOptions options_for(const ScratchDir& dir, const std::string& config) {
  CredentialStoreOptions options;
  options.config_file = dir.write("config.json", config);
  options.helper_path = (dir.path() / "bin").string();
  options.helper_timeout = std::chrono::milliseconds(5000);
  return options;
}

// A helper that logs its argument and stdin, then prints `output` and exits with `status`.
void write_helper(const ScratchDir& dir, const std::string& name, const std::string& output,
                  int status = 0) {
  dir.write("bin/docker-credential-" + name,
            "#!/bin/sh\necho \"$1 $(cat)\" >> \"$(dirname \"$0\")/calls.log\"\nprintf '%s' '" +
                output + "'\nexit " + std::to_string(status) + "\n",
            true);
}

std::string calls(const ScratchDir& dir) {
  std::ifstream in(dir.path() / "bin/calls.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CredentialStore, InlineAuthIsBase64UserColonPassword) {
  ScratchDir dir;
  CredentialStore store(options_for(dir, R"({"auths":{"registry.example.com:5000":{"auth":")" +
                                             base64_encode("me:pa:ss") + "\"}}}"));
  const auto found = store.find("registry.example.com:5000");
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "me");
  EXPECT_EQ((*found)->password, "pa:ss");
  EXPECT_FALSE(store.find("other.example.com")->has_value());
}

TEST(CredentialStore, KeysAreNormalizedToTheHostLikeDockerDoes) {
  ScratchDir dir;
  CredentialStore store(options_for(dir, R"({"auths":{
    "https://ghcr.io/":{"username":"u1","password":"p1"},
    "http://localhost:5000/v1/":{"username":"u2","password":"p2"},
    "https://index.docker.io/v1/":{"identitytoken":"idt"}}})"));
  EXPECT_EQ((*store.find("ghcr.io"))->username, "u1");
  EXPECT_EQ((*store.find("localhost:5000"))->password, "p2");
  EXPECT_EQ((*store.find("registry-1.docker.io"))->identity_token, "idt");
  EXPECT_FALSE(store.find("localhost")->has_value());  // the port is part of the key
}

TEST(CredentialStore, MissingConfigMeansNoCredentials) {
  ScratchDir dir;
  CredentialStoreOptions options;
  options.config_file = dir.path() / "absent.json";
  CredentialStore store(options);
  const auto found = store.find("ghcr.io");
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
}

TEST(CredentialStore, ConfigLocationFollowsDockerConfigThenHome) {
  CredentialStoreOptions options;
  options.home = "/home/u";
  EXPECT_EQ(CredentialStore(options).config_file(), "/home/u/.docker/config.json");
  options.docker_config_dir = "/etc/dc";
  EXPECT_EQ(CredentialStore(options).config_file(), "/etc/dc/config.json");
  options.config_file = "/x/c.json";
  EXPECT_EQ(CredentialStore(options).config_file(), "/x/c.json");
}

TEST(CredentialStore, OptionsComeFromTheEnvironment) {
  // Restored afterwards: later tests in this process run tools that need the real values.
  struct Saved {
    std::string name;
    std::optional<std::string> value;
  };
  std::vector<Saved> saved;
  for (const char* name : {"DOCKER_CONFIG", "HOME", "PATH"}) {
    const char* value = std::getenv(name);
    saved.push_back({name, value ? std::optional<std::string>(value) : std::nullopt});
  }
  ::setenv("DOCKER_CONFIG", "/tmp/dc-test", 1);
  ::setenv("HOME", "/tmp/home-test", 1);
  ::setenv("PATH", "/opt/helpers:/usr/bin", 1);
  const auto options = credential_store_options_from_environment();
  EXPECT_EQ(options.docker_config_dir, "/tmp/dc-test");
  EXPECT_EQ(options.home, "/tmp/home-test");
  EXPECT_EQ(options.helper_path, "/opt/helpers:/usr/bin");
  EXPECT_EQ(CredentialStore(options).config_file(), "/tmp/dc-test/config.json");
  ::unsetenv("DOCKER_CONFIG");
  EXPECT_EQ(credential_store_options_from_environment().docker_config_dir, "");
  for (const auto& [name, value] : saved) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
}

TEST(CredentialStore, BrokenConfigsAreAuthFailedWithoutQuotingSecrets) {
  struct Case {
    std::string config;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"auths":{"h":{"auth":"c2VjcmV0LXZhbHVl"}}})",
       "auths[\"h\"].auth is not base64 of username:password"},  // "secret-value", no colon
      {R"({"auths":{"h":{"auth":"!!!secret-value!!!"}}})",
       "auths[\"h\"].auth is not base64 of username:password"},
      {R"({"auths":{"h":{"password":"secret-value" )", "not a JSON object"},
      {R"({"auths":[]})", "\"auths\" is not an object"},
      {R"({"auths":{"h":"secret-value"}})", "auths[\"h\"] is not an object"},
      {R"({"credHelpers":{"h":1}})", "credHelpers[\"h\"] is not a helper name"},
      {R"({"credsStore":1})", "\"credsStore\" is not a string"},
  };
  for (const auto& c : cases) {
    ScratchDir dir;
    const auto options = options_for(dir, c.config);
    CredentialStore store(options);
    const auto found = store.find("h");
    ASSERT_FALSE(found.has_value()) << c.config;
    EXPECT_EQ(found.error().code, "AUTH_FAILED");
    EXPECT_EQ(found.error().message,
              "docker config " + options.config_file.string() + ": " + c.message);
    EXPECT_THAT(found.error().message, Not(HasSubstr("secret-value")));
  }
}

TEST(CredentialStore, CredHelperPerHostGetsTheHostOnStdin) {
  ScratchDir dir;
  write_helper(dir, "ecr-login",
               R"({"ServerURL":"r.example.com","Username":"AWS","Secret":"tok-123"})");
  CredentialStore store(options_for(dir, R"({"credHelpers":{"r.example.com":"ecr-login"},
    "auths":{"r.example.com":{"username":"inline","password":"no"}}})"));
  const auto found = store.find("r.example.com");
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_EQ((*found)->username, "AWS");
  EXPECT_EQ((*found)->password, "tok-123");
  EXPECT_EQ(calls(dir), "get r.example.com\n");
  store.find("r.example.com");  // cached: the helper runs once per host
  EXPECT_EQ(calls(dir), "get r.example.com\n");
}

TEST(CredentialStore, CredsStoreIsTheDefaultAfterInlineAuths) {
  ScratchDir dir;
  write_helper(dir, "pass", R"({"Username":"<token>","Secret":"refresh-xyz"})");
  CredentialStore store(options_for(dir, R"({"credsStore":"pass",
    "auths":{"inline.example.com":{"username":"u","password":"p"},"stored.example.com":{}}})"));
  EXPECT_EQ((*store.find("inline.example.com"))->username, "u");
  const auto stored = store.find("stored.example.com");
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  EXPECT_EQ((*stored)->identity_token, "refresh-xyz");
  EXPECT_EQ((*stored)->username, "");
  EXPECT_EQ(calls(dir), "get stored.example.com\n");
}

TEST(CredentialStore, HelperSayingNotFoundMeansNoCredentials) {
  ScratchDir dir;
  write_helper(dir, "pass", "credentials not found in native keychain", 1);
  CredentialStore store(options_for(dir, R"({"credsStore":"pass"})"));
  const auto found = store.find("ghcr.io");
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

TEST(CredentialStore, FailingHelpersAreAuthFailedNamingTheHelperNotItsOutput) {
  struct Case {
    std::string output;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"boom secret-value", 3,
       "credential helper docker-credential-bad for ghcr.io failed (exit status 3)"},
      {"secret-value", 0,
       "credential helper docker-credential-bad for ghcr.io: output is not a JSON object with "
       "string Username and Secret"},
      {R"({"Username":"u","Secret":1,"x":"secret-value"})", 0,
       "credential helper docker-credential-bad for ghcr.io: output is not a JSON object with "
       "string Username and Secret"},
  };
  for (const auto& c : cases) {
    ScratchDir dir;
    write_helper(dir, "bad", c.output, c.status);
    CredentialStore store(options_for(dir, R"({"credHelpers":{"ghcr.io":"bad"}})"));
    const auto found = store.find("ghcr.io");
    ASSERT_FALSE(found.has_value()) << c.output;
    EXPECT_EQ(found.error().code, "AUTH_FAILED");
    EXPECT_EQ(found.error().message, c.message);
  }
}

TEST(CredentialStore, HelperNotOnPathIsAuthFailed) {
  ScratchDir dir;
  CredentialStore store(options_for(dir, R"({"credsStore":"osxkeychain"})"));
  const auto found = store.find("ghcr.io");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().message,
            "credential helper docker-credential-osxkeychain for ghcr.io not found on PATH");
}

TEST(CredentialStore, HelperNameWithASlashIsRefused) {
  ScratchDir dir;
  CredentialStore store(options_for(dir, R"({"credsStore":"../../bin/sh"})"));
  const auto found = store.find("ghcr.io");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().message, "credential helper name \"../../bin/sh\" contains '/'");
}

TEST(CredentialStore, HangingHelperTimesOut) {
  ScratchDir dir;
  dir.write("bin/docker-credential-slow", "#!/bin/sh\nexec sleep 30\n", true);
  auto options = options_for(dir, R"({"credsStore":"slow"})");
  options.helper_timeout = std::chrono::milliseconds(200);
  CredentialStore store(options);
  const auto started = std::chrono::steady_clock::now();
  const auto found = store.find("ghcr.io");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().message,
            "credential helper docker-credential-slow for ghcr.io timed out after 200 ms");
}

TEST(CredentialStore, HelperThatIgnoresStdinDoesNotKillUs) {
  ScratchDir dir;
  dir.write("bin/docker-credential-quick",
            "#!/bin/sh\nexec 0<&-\nprintf '{\"Username\":\"u\",\"Secret\":\"s\"}'\n", true);
  CredentialStore store(options_for(dir, R"({"credsStore":"quick"})"));
  const auto found = store.find("ghcr.io");
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_EQ((*found)->username, "u");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(base64_decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YQ"), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode("!!!!"), std::nullopt);
  EXPECT_EQ(base64_decode("YQ="), "a");
  EXPECT_EQ(base64_decode(""), "");
  // Padding only at the end, at most two, never a whole group (regression-auth-padding).
  for (const char* bad :
       {"=", "==", "===", "====", "Y===", "YQ===", "YWJj=", "Y=Q=", "YQ==YQ==", "Y"}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace imagegate::auth
