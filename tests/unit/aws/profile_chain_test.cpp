// Profiles that assume roles (source_profile chains, credential_source), credential_process and
// SSO, over a scripted HTTP client standing in for STS and the SSO portal.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "aws/credential_process.hpp"
#include "aws/credentials.hpp"
#include "aws/json_client.hpp"
#include "aws/sso.hpp"
#include "fake_http_client.hpp"
#include "temp_dir.hpp"

namespace imagegate::aws {
namespace {

using testing::FakeHttpClient;
using testing::header_value;
using testing::respond;
using testing::TempDir;
using testing::unreachable;

const std::string kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string kRoleSecret = "roleSecretKey0123456789abcdefghijklmnopq";
const std::string kToken = "SESSIONTOKEN-secret-value";
const std::string kSsoToken = "sso-bearer-token-secret";
const auto kNow = std::chrono::system_clock::from_time_t(1700000000);  // 2023-11-14T22:13:20Z

std::string assume_role_answer(const std::string& key_id) {
  return "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>" + key_id +
         "</AccessKeyId><SecretAccessKey>" + kRoleSecret + "</SecretAccessKey><SessionToken>" +
         kToken +
         "</SessionToken><Expiration>2023-11-14T23:13:20Z</Expiration></Credentials>"
         "</AssumeRoleResult><ResponseMetadata><RequestId>req-ar</RequestId></ResponseMetadata>"
         "</AssumeRoleResponse>";
}

struct Chain {
  TempDir dir;
  std::map<std::string, std::string> vars{{"HOME", dir.path("home")},
                                          {"AWS_EC2_METADATA_DISABLED", "true"}};
  int assumed = 0;
  FakeHttpClient http{[this](const http::Request& request) {
    if (request.body.find("Action=AssumeRole&") == std::string::npos) return unreachable();
    return respond(200, assume_role_answer("ASIAROLE" + std::to_string(++assumed)));
  }};
  FakeHttpClient metadata{[](const http::Request&) { return unreachable(); }};
  std::optional<Environment> env;
  std::optional<SharedConfig> shared;
  std::chrono::milliseconds process_timeout{5000};

  void config(const std::string& text) { vars["AWS_CONFIG_FILE"] = dir.write("config", text); }
  void credentials(const std::string& text) {
    vars["AWS_SHARED_CREDENTIALS_FILE"] = dir.write("credentials", text);
  }
  Result<Credentials> resolve(std::string region = "eu-west-1",
                              std::optional<std::string> profile = std::nullopt) {
    env.emplace(Environment::from_map(vars));
    shared.emplace(load_shared_config(*env, profile));
    CredentialChainOptions options;
    options.env = &*env;
    options.shared = &*shared;
    options.sts_http = &http;
    options.metadata_http = &metadata;
    options.region = std::move(region);
    options.sts_endpoint = "https://sts." + options.region + ".amazonaws.com";
    options.now = [] { return kNow; };
    options.process_timeout = process_timeout;
    return resolve_credentials(options);
  }
  std::string script(const std::string& name, const std::string& body) {
    auto path = dir.write(name, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
    return path;
  }
};

void expect_no_secret(const std::string& text) {
  for (const auto& secret : {kSecret, kRoleSecret, kToken, kSsoToken}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
  }
}

const std::string kBaseKeys =
    "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = " + kSecret + "\n";

TEST(AssumeRole, SourceProfileSignsAssumeRoleWithEveryOption) {
  Chain chain;
  chain.credentials(kBaseKeys);
  chain.config(
      "[profile deploy]\nrole_arn = arn:aws:iam::222222222222:role/deploy\n"
      "source_profile = base\nexternal_id = ext-123\nrole_session_name = ci-run\n"
      "duration_seconds = 1800\n");
  chain.vars["AWS_PROFILE"] = "deploy";
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAROLE1");
  EXPECT_EQ(creds->session_token, kToken);
  EXPECT_EQ(
      creds->source,
      "profile deploy (role arn:aws:iam::222222222222:role/deploy assumed with profile base)");
  ASSERT_TRUE(creds->expiration);
  ASSERT_EQ(chain.http.sent.size(), 1u);
  const auto& request = chain.http.sent[0];
  EXPECT_EQ(request.url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(request.body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole"
            "%2Fdeploy&RoleSessionName=ci-run&ExternalId=ext-123&DurationSeconds=1800");
  const std::string authorization = header_value(request, "Authorization");
  EXPECT_TRUE(
      authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDBASE/20231114/eu-west-1/"
                                "sts/aws4_request"))
      << authorization;
}

TEST(AssumeRole, ChainsThroughRoleProfilesAndUsesTheProfileRegion) {
  Chain chain;
  chain.credentials(kBaseKeys);
  chain.config(
      "[profile hop]\nrole_arn = arn:aws:iam::1:role/hop\nsource_profile = base\n"
      "[profile top]\nrole_arn = arn:aws:iam::2:role/top\nsource_profile = hop\n"
      "region = us-west-2\n");
  chain.vars["AWS_PROFILE"] = "top";
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAROLE2");
  ASSERT_EQ(chain.http.sent.size(), 2u);
  EXPECT_NE(chain.http.sent[0].body.find("role%2Fhop"), std::string::npos);
  EXPECT_EQ(chain.http.sent[0].url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_NE(header_value(chain.http.sent[1], "Authorization").find("ASIAROLE1/"),
            std::string::npos);
  EXPECT_EQ(chain.http.sent[1].url, "https://sts.us-west-2.amazonaws.com/");
  EXPECT_NE(chain.http.sent[1].body.find("RoleSessionName=imagegate-1700000000"),
            std::string::npos);
}

TEST(AssumeRole, LegacyStsEndpointIsGlobal) {
  Chain chain;
  chain.credentials(kBaseKeys);
  chain.config(
      "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
      "sts_regional_endpoints = legacy\n");
  ASSERT_TRUE(chain.resolve());
  EXPECT_EQ(chain.http.sent.at(0).url, "https://sts.amazonaws.com/");
  EXPECT_NE(header_value(chain.http.sent[0], "Authorization").find("/us-east-1/sts/"),
            std::string::npos);
}

TEST(AssumeRole, CycleMissingSourceDepthAndMfaAreAuthFailed) {
  Chain chain;
  chain.config(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
      "[profile m]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = a\n"
      "mfa_serial = arn:aws:iam::1:mfa/me\n"
      "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = a\n"
      "credential_source = Environment\n"
      "[profile odd]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n"
      "[profile env]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n"
      "[profile long]\nrole_arn = arn:aws:iam::1:role/x\nduration_seconds = 60\n"
      "source_profile = a\n");
  auto message = [&](const std::string& profile) {
    chain.vars["AWS_PROFILE"] = profile;
    auto creds = chain.resolve();
    EXPECT_FALSE(creds);
    if (creds) return std::string();
    EXPECT_EQ(creds.error().code, "AUTH_FAILED");
    return creds.error().message;
  };
  EXPECT_EQ(message("a"), "source_profile chain a -> b -> a is a cycle");
  EXPECT_EQ(message("m"),
            "profile m: role arn:aws:iam::1:role/m requires an MFA code (mfa_serial), and "
            "imagegate does not prompt; use a role without mfa_serial for CI, or export "
            "credentials (aws configure export-credentials --format env)");
  EXPECT_EQ(message("both"),
            "profile both sets both source_profile and credential_source; keep one");
  EXPECT_EQ(message("odd"),
            "profile odd: credential_source Laptop is unknown (expected Environment, "
            "Ec2InstanceMetadata or EcsContainer)");
  EXPECT_EQ(message("env"), "profile env: credential_source Environment gave no credentials");
  EXPECT_EQ(message("long"),
            "profile long: duration_seconds must be a whole number from 900 to 43200, got '60'");
  EXPECT_TRUE(chain.http.sent.empty());

  std::string deep;
  for (int i = 0; i < 12; ++i) {
    deep += "[profile p" + std::to_string(i) + "]\nrole_arn = arn:aws:iam::1:role/r\n" +
            "source_profile = p" + std::to_string(i + 1) + "\n";
  }
  chain.config(deep);
  EXPECT_EQ(message("p0"),
            "source_profile chain p0 -> p1 -> p2 -> p3 -> p4 -> p5 -> p6 -> p7 -> p8 -> p9 -> p10 "
            "is longer than 10 profiles");
}

TEST(AssumeRole, CredentialSourceEnvironmentAndSelfSource) {
  Chain chain;
  chain.config(
      "[profile env]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n"
      "[profile self]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = self\n"
      "aws_access_key_id = AKIDSELF\naws_secret_access_key = " +
      kSecret + "\n");
  chain.vars["AWS_PROFILE"] = "self";
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_NE(header_value(chain.http.sent.at(0), "Authorization").find("AKIDSELF/"),
            std::string::npos);

  // With AWS_PROFILE the environment's keys still come first, as in the SDKs.
  chain.vars["AWS_PROFILE"] = "env";
  chain.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  chain.vars["AWS_SECRET_ACCESS_KEY"] = kSecret;
  creds = chain.resolve();
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->access_key_id, "AKIDENV");

  // A profile named explicitly (--registry-profile) is used instead; its credential_source
  // Environment signs AssumeRole with the environment's keys.
  creds = chain.resolve("eu-west-1", "env");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAROLE2");
  EXPECT_EQ(creds->source, "profile env (role arn:aws:iam::1:role/x assumed with environment)");
  EXPECT_NE(header_value(chain.http.sent.at(1), "Authorization").find("AKIDENV/"),
            std::string::npos);

  EXPECT_THROW(chain.resolve("eu-west-1", "missing"), UsageError);
}

TEST(AssumeRole, AccessDeniedNamesProfileRoleAndRequestIdWithoutSecrets) {
  Chain chain;
  chain.credentials(kBaseKeys);
  chain.config(
      "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
      "external_id = ext-secret-id\n");
  chain.http.handler = [](const http::Request&) {
    return respond(403,
                   "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:"
                   "user/base is not authorized to perform: sts:AssumeRole on resource: arn:aws:"
                   "iam::1:role/r</Message></Error><RequestId>req-denied</RequestId>"
                   "</ErrorResponse>");
  };
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  EXPECT_EQ(creds.error().message,
            "profile default: STS AssumeRole at https://sts.eu-west-1.amazonaws.com for role "
            "arn:aws:iam::1:role/r failed: HTTP 403 AccessDenied: User: arn:aws:iam::1:user/base "
            "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r "
            "(request id req-denied)");
  expect_no_secret(creds.error().message);
}

TEST(CredentialProcess, SplitsLikeShlex) {
  auto words = process::split_command(R"(helper --a 'b c' "d \"e\" \$f" g\ h)");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, (std::vector<std::string>{"helper", "--a", "b c", "d \"e\" $f", "g h"}));
  EXPECT_EQ(process::split_command("a 'b").error(), "no closing quote");
  EXPECT_EQ(process::split_command("a \"b").error(), "no closing quote");
  EXPECT_EQ(process::split_command("a \\").error(), "no escaped character");
  EXPECT_TRUE(process::split_command("  ")->empty());
}

TEST(CredentialProcess, RunsWithoutShellAndHonoursExpiration) {
  Chain chain;
  const auto helper = chain.script(
      "helper",
      "[ \"$1\" = 'two words' ] || exit 3\necho noise >&2\n"
      "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"" +
          kSecret + "\", \"SessionToken\": \"" + kToken +
          "\", \"Expiration\": \"2023-11-14T23:00:00Z\"}'\n");
  chain.config("[default]\ncredential_process = " + helper + " 'two words'\n");
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDPROC");
  EXPECT_EQ(creds->session_token, kToken);
  EXPECT_EQ(creds->source, "profile default credential_process");
  ASSERT_TRUE(creds->expiration);
  EXPECT_EQ(*creds->expiration, std::chrono::system_clock::from_time_t(1700002800));
}

TEST(CredentialProcess, FailuresNameTheProfileNeverTheOutput) {
  Chain chain;
  chain.process_timeout = std::chrono::milliseconds(300);
  auto message = [&](const std::string& body) {
    chain.config("[profile p]\ncredential_process = " + chain.script("h", body) + " arg\n");
    chain.vars["AWS_PROFILE"] = "p";
    auto creds = chain.resolve();
    EXPECT_FALSE(creds);
    if (creds) return std::string();
    EXPECT_EQ(creds.error().code, "AUTH_FAILED");
    expect_no_secret(creds.error().message);
    return creds.error().message;
  };
  const std::string what = "profile p: credential_process " + chain.dir.path("h");
  EXPECT_EQ(message("echo " + kSecret + "\nexit 4\n"),
            what + " failed (exit status 4); its output is not shown");
  EXPECT_EQ(message("echo 'not json " + kSecret + "'\n"),
            what +
                ": output is not a credentials document (not a JSON object); its output is "
                "not shown");
  EXPECT_EQ(message("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" +
                    kSecret + "\"}'\n"),
            what + ": output has Version 2; only Version 1 is supported");
  EXPECT_EQ(message("echo '{\"Version\": 1, \"SecretAccessKey\": \"" + kSecret + "\"}'\n"),
            what +
                ": output is not a credentials document (no AccessKeyId); its output is not "
                "shown");
  EXPECT_EQ(message("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" +
                    kSecret + "\", \"Expiration\": \"2020-01-01T00:00:00Z\"}'\n"),
            what + " gave credentials that expired at 2020-01-01T00:00:00Z");
  EXPECT_EQ(message("exec sleep 10\n"), what +
                                            " did not finish within 0.3 s and was stopped "
                                            "(IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT)");
}

struct Sso : Chain {
  Sso() {
    http.handler = [this](const http::Request& request) {
      last_url = request.url;
      last_bearer = header_value(request, "x-amz-sso_bearer_token");
      return respond(200, R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":")" +
                              kRoleSecret + R"(","sessionToken":")" + kToken +
                              R"(","expiration":1700003600000}})");
    };
  }
  void cache(const std::string& key, const std::string& expires_at) {
    std::filesystem::create_directories(dir.path("home") + "/.aws/sso/cache");
    std::ofstream(dir.path("home") + "/.aws/sso/cache/" + sso::cache_file_name(key))
        << R"({"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", )"
        << R"("accessToken": ")" << kSsoToken << R"(", "expiresAt": ")" << expires_at << "\"}";
  }
  std::string last_url, last_bearer;
};

TEST(SsoProfile, SessionTokenFromTheCacheAndGetRoleCredentials) {
  EXPECT_EQ(sso::cache_file_name("corp"), "ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
  Sso chain;
  chain.config(
      "[profile dev]\nsso_session = corp\nsso_account_id = 333333333333\n"
      "sso_role_name = Deployer\n[sso-session corp]\n"
      "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
  chain.cache("corp", "2023-11-14T23:00:00Z");
  chain.vars["AWS_PROFILE"] = "dev";
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIASSO");
  EXPECT_EQ(creds->source, "profile dev sso (account 333333333333, role Deployer)");
  EXPECT_EQ(*creds->expiration, std::chrono::system_clock::from_time_t(1700003600));
  EXPECT_EQ(chain.last_url,
            "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?"
            "account_id=333333333333&role_name=Deployer");
  EXPECT_EQ(chain.last_bearer, kSsoToken);
}

TEST(SsoProfile, LegacyStartUrlExpiredAndMissingTokens) {
  EXPECT_EQ(sso::cache_file_name("https://corp.awsapps.com/start"),
            "a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json");
  Sso chain;
  chain.config(
      "[default]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
      "sso_account_id = 333333333333\nsso_role_name = Deployer\n");
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile default: no cached SSO token for start URL https://corp.awsapps.com/start (" +
                chain.dir.path("home") +
                "/.aws/sso/cache/a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json); run `aws sso "
                "login --profile default`");
  chain.cache("https://corp.awsapps.com/start", "2023-11-14T22:00:00UTC");
  creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  EXPECT_EQ(creds.error().message,
            "profile default: the SSO token for start URL https://corp.awsapps.com/start expired "
            "at 2023-11-14T22:00:00Z; run `aws sso login --profile default`");
  EXPECT_TRUE(chain.last_url.empty());

  chain.cache("https://corp.awsapps.com/start", "2023-11-14T23:00:00Z");
  chain.http.handler = [](const http::Request&) {
    return respond(401, R"({"message":"Session token not found or invalid"})",
                   {{"x-amzn-errortype", "UnauthorizedException:http://internal.amazon.com/"}});
  };
  creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile default: SSO GetRoleCredentials at https://portal.sso.eu-west-1.amazonaws.com "
            "for account 333333333333 role Deployer failed: HTTP 401 UnauthorizedException: "
            "Session token not found or invalid; run `aws sso login --profile default`");
  expect_no_secret(creds.error().message);
}

TEST(SsoProfile, MissingSessionSectionAndSettings) {
  Sso chain;
  chain.config(
      "[default]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n"
      "[profile half]\nsso_account_id = 1\n");
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile default: sso_session nope has no [sso-session nope] "
            "section in " +
                chain.dir.path("config"));
  chain.vars["AWS_PROFILE"] = "half";
  creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile half: SSO configuration lacks sso_start_url, sso_region, sso_role_name");
}

TEST(Refresh, ExpiredTokenAnswerRefreshesOnceAndRetries) {
  Chain chain;
  int runs = 0;
  const auto helper = chain.script(
      "counter", "n=$(cat " + chain.dir.path("n") +
                     " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + chain.dir.path("n") +
                     "\nprintf '{\"Version\": 1, \"AccessKeyId\": \"AKIDRUN%s\", "
                     "\"SecretAccessKey\": \"" +
                     kSecret + "\"}' $n\n");
  chain.config("[default]\ncredential_process = " + helper + "\n");
  Environment env = Environment::from_map(chain.vars);
  SharedConfig shared = load_shared_config(env);
  CredentialChainOptions options;
  options.env = &env;
  options.shared = &shared;
  options.on_resolved = [&](const std::string& source, bool) {
    ++runs;
    EXPECT_EQ(source, "profile default credential_process");
  };
  CredentialProvider provider(options);
  std::vector<std::string> signers;
  FakeHttpClient api([&](const http::Request& request) {
    const std::string authorization = header_value(request, "Authorization");
    signers.push_back(authorization.substr(authorization.find('=') + 1, 8));
    if (signers.size() == 1) {
      return respond(400, R"({"__type":"ExpiredTokenException","message":"expired"})");
    }
    return respond(200, "{}");
  });
  JsonClientOptions client_options;
  client_options.http = &api;
  client_options.credentials = &provider;
  client_options.region = "eu-west-1";
  client_options.endpoints = {{"ecs", "http://127.0.0.1:1"}};
  client_options.sleep = [](std::chrono::milliseconds) {};
  JsonClient client(client_options);
  auto result = client.call({"ecs", "AmazonEC2ContainerServiceV20141113.DescribeServices", {}});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(signers, (std::vector<std::string>{"AKIDRUN1", "AKIDRUN2"}));
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(provider.resolutions(), 2);

  // Fixed credentials cannot be refreshed: the expired answer is final.
  CredentialProvider fixed(Credentials{"AKIDFIX", kSecret, "", std::nullopt, "test"});
  EXPECT_FALSE(fixed.invalidate("AKIDFIX"));
  signers.clear();
  client_options.credentials = &fixed;
  JsonClient fixed_client(client_options);
  result = fixed_client.call({"ecs", "AmazonEC2ContainerServiceV20141113.DescribeServices", {}});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AUTH_FAILED");
  EXPECT_EQ(signers.size(), 1u);
}

}  // namespace
}  // namespace imagegate::aws
