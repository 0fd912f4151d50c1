#include "aws/credentials.hpp"

#include <gtest/gtest.h>

#include "fake_http_client.hpp"
#include "temp_dir.hpp"

namespace imagegate::aws {
namespace {

using testing::FakeHttpClient;
using testing::header_value;
using testing::respond;
using testing::TempDir;
using testing::unreachable;

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kToken = "SESSIONTOKEN-secret-value";
constexpr std::string_view kWebToken = "eyJ-web-identity-token";

const auto kNow = std::chrono::system_clock::from_time_t(1700000000);  // 2023-11-14T22:13:20Z

std::string sts_success(const std::string& expiration) {
  return "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
         "<AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>" +
         std::string(kSecret) + "</SecretAccessKey><SessionToken>" + std::string(kToken) +
         "</SessionToken><Expiration>" + expiration +
         "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
         "<ResponseMetadata><RequestId>req-sts-1</RequestId></ResponseMetadata>"
         "</AssumeRoleWithWebIdentityResponse>";
}

std::string metadata_credentials(const std::string& expiration) {
  return R"({"Code":"Success","AccessKeyId":"ASIAMETA","SecretAccessKey":")" +
         std::string(kSecret) + R"(","Token":")" + std::string(kToken) + R"(","Expiration":")" +
         expiration + R"("})";
}

// Environment plus shared files in a scratch HOME, and fakes for STS and metadata.
struct Chain {
  TempDir dir;
  std::map<std::string, std::string> vars{{"HOME", dir.path("home")},
                                          {"AWS_EC2_METADATA_DISABLED", "true"}};
  FakeHttpClient sts{[](const http::Request&) { return unreachable(); }};
  FakeHttpClient metadata{[](const http::Request&) { return unreachable(); }};
  std::optional<Environment> env;
  std::optional<SharedConfig> shared;

  Result<Credentials> resolve(std::string region = "eu-west-1") {
    env.emplace(Environment::from_map(vars));
    shared.emplace(load_shared_config(*env));
    CredentialChainOptions options;
    options.env = &*env;
    options.shared = &*shared;
    options.sts_http = &sts;
    options.metadata_http = &metadata;
    options.region = std::move(region);
    options.now = [] { return kNow; };
    return resolve_credentials(options);
  }
};

void expect_no_secret(const std::string& message) {
  EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
  EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  EXPECT_EQ(message.find(kWebToken), std::string::npos) << message;
}

TEST(CredentialChain, EnvironmentComesFirst) {
  Chain chain;
  chain.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  chain.vars["AWS_SECRET_ACCESS_KEY"] = std::string(kSecret);
  chain.vars["AWS_SESSION_TOKEN"] = std::string(kToken);
  chain.vars["AWS_SHARED_CREDENTIALS_FILE"] =
      chain.dir.write("credentials",
                      "[default]\naws_access_key_id = AKIDFILE\n"
                      "aws_secret_access_key = other\n");
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDENV");
  EXPECT_EQ(creds->session_token, kToken);
  EXPECT_EQ(creds->source, "environment");
}

TEST(CredentialChain, NothingFoundListsEverySourceWithoutSecrets) {
  Chain chain;
  chain.vars["AWS_ACCESS_KEY_ID"] = "AKIDONLY";
  chain.vars.erase("AWS_EC2_METADATA_DISABLED");
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  const std::string home = chain.dir.path("home");
  EXPECT_EQ(creds.error().message,
            "no AWS credentials found (tried: environment (AWS_ACCESS_KEY_ID set without "
            "AWS_SECRET_ACCESS_KEY), web identity, shared credentials file " +
                home + "/.aws/credentials, config file " + home +
                "/.aws/config profile default, container credentials, instance metadata (not "
                "reachable at http://169.254.169.254))");
  // IMDS was tried once with a token PUT, and gave up at the first failure.
  ASSERT_EQ(chain.metadata.sent.size(), 1u);
  EXPECT_EQ(chain.metadata.sent[0].method, "PUT");
  EXPECT_FALSE(chain.metadata.sent[0].retry);
}

TEST(CredentialChain, ProfileFromCredentialsAndConfigFiles) {
  Chain chain;
  chain.vars["AWS_PROFILE"] = "ci";
  chain.vars["AWS_SHARED_CREDENTIALS_FILE"] =
      chain.dir.write("credentials",
                      "[default]\naws_access_key_id = WRONG\naws_secret_access_key = x\n"
                      "[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = " +
                          std::string(kSecret) + "\n");
  chain.vars["AWS_CONFIG_FILE"] =
      chain.dir.write("config", "[profile ci]\naws_session_token = " + std::string(kToken) + "\n");
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDCI");
  EXPECT_EQ(creds->secret_access_key, kSecret);
  EXPECT_EQ(creds->session_token, kToken);
  EXPECT_EQ(creds->source, "profile ci");
}

TEST(CredentialChain, NamedProfileThatDoesNotExistIsUsageError) {
  Chain chain;
  chain.vars["AWS_PROFILE"] = "nope";
  try {
    (void)chain.resolve();
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    const std::string home = chain.dir.path("home");
    EXPECT_EQ(std::string(e.what()), "AWS_PROFILE names profile 'nope', which is in neither " +
                                         home + "/.aws/credentials nor " + home + "/.aws/config");
  }
}

TEST(CredentialChain, BrokenProfileFeaturesFailInsteadOfFallingThrough) {
  Chain chain;
  chain.vars["AWS_CONFIG_FILE"] = chain.dir.write(
      "config", "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  EXPECT_EQ(creds.error().message, "profile default: source_profile base is in neither " +
                                       chain.dir.path("home") + "/.aws/credentials nor " +
                                       chain.dir.path("config"));

  chain.vars["AWS_CONFIG_FILE"] =
      chain.dir.write("config2", "[default]\ncredential_process = /nonexistent/helper --x\n");
  creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile default: credential_process /nonexistent/helper cannot be started");

  chain.vars["AWS_CONFIG_FILE"] =
      chain.dir.write("config3", "[default]\naws_access_key_id = AKID\n");
  creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "profile default has only one of aws_access_key_id and aws_secret_access_key");
}

TEST(CredentialChain, WebIdentityCallsStsUnsignedAndParsesXml) {
  Chain chain;
  chain.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/deploy";
  chain.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] =
      chain.dir.write("token", std::string(kWebToken) + "\n");
  chain.vars["AWS_ROLE_SESSION_NAME"] = "ci run";
  chain.sts.handler =
      ([](const http::Request&) { return respond(200, sts_success("2023-11-14T23:13:20Z")); });
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAWEB");
  EXPECT_EQ(creds->secret_access_key, kSecret);
  EXPECT_EQ(creds->session_token, kToken);
  EXPECT_EQ(creds->expiration, kNow + std::chrono::hours(1));
  EXPECT_EQ(creds->source, "web identity (role arn:aws:iam::123456789012:role/deploy)");

  ASSERT_EQ(chain.sts.sent.size(), 1u);
  const http::Request& sent = chain.sts.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(header_value(sent, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_FALSE(testing::has_header(sent, "Authorization"));
  EXPECT_EQ(sent.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
            "123456789012%3Arole%2Fdeploy&RoleSessionName=ci%20run&WebIdentityToken=" +
                std::string(kWebToken));
}

TEST(CredentialChain, WebIdentityRefusalIsAuthFailedWithRequestId) {
  Chain chain;
  chain.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  chain.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = chain.dir.write("token", std::string(kWebToken));
  chain.vars["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:1234";
  chain.sts.handler = ([](const http::Request&) {
    return respond(400,
                   "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                   "<Message>Token &lt;" +
                       std::string(kWebToken) +
                       "&gt; is bad</Message></Error><RequestId>req-9</RequestId></ErrorResponse>");
  });
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  EXPECT_EQ(creds.error().message,
            "web identity: STS AssumeRoleWithWebIdentity at http://127.0.0.1:1234 for role "
            "arn:aws:iam::1:role/r failed: HTTP 400 InvalidIdentityToken: Token <***> is bad "
            "(request id req-9)");
  expect_no_secret(creds.error().message);
}

TEST(CredentialChain, WebIdentityTokenFileMissing) {
  Chain chain;
  chain.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  chain.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = chain.dir.path("missing-token");
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "web identity: cannot read the token file " + chain.dir.path("missing-token"));
  EXPECT_TRUE(chain.sts.sent.empty());
}

TEST(CredentialChain, ExpiredCredentialsAreSkippedAndReported) {
  Chain chain;
  chain.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  chain.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = chain.dir.write("token", std::string(kWebToken));
  chain.sts.handler =
      ([](const http::Request&) { return respond(200, sts_success("2023-11-14T21:00:00Z")); });
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().message.find("web identity (expired at 2023-11-14T21:00:00Z)"),
            std::string::npos)
      << creds.error().message;
  expect_no_secret(creds.error().message);
}

TEST(CredentialChain, ContainerRelativeUriWithTokenFile) {
  Chain chain;
  chain.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  chain.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = chain.dir.write("auth", "file-token\n");
  chain.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "env-token";
  chain.metadata.handler = ([](const http::Request&) {
    return respond(200, metadata_credentials("2023-11-15T00:00:00.000Z"));
  });
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAMETA");
  EXPECT_EQ(creds->source, "container credentials");
  ASSERT_EQ(chain.metadata.sent.size(), 1u);
  EXPECT_EQ(chain.metadata.sent[0].url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(header_value(chain.metadata.sent[0], "Authorization"), "file-token");
}

TEST(CredentialChain, ContainerFullUriMustBeHttpsOrLocal) {
  for (const char* ok :
       {"https://creds.example.com/x", "http://127.0.0.1:8080/creds",
        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/c", "http://localhost/c"}) {
    Chain chain;
    chain.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ok;
    chain.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "env-token";
    chain.metadata.handler = ([](const http::Request&) {
      return respond(200, metadata_credentials("2023-11-15T00:00:00Z"));
    });
    auto creds = chain.resolve();
    ASSERT_TRUE(creds) << ok;
    EXPECT_EQ(header_value(chain.metadata.sent.at(0), "Authorization"), "env-token");
  }
  for (const char* bad :
       {"http://evil.example.com/creds", "http://127.0.0.1.evil.com/c", "ftp://127.0.0.1/c"}) {
    Chain chain;
    chain.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = bad;
    try {
      (void)chain.resolve();
      ADD_FAILURE() << "accepted " << bad;
    } catch (const UsageError& e) {
      std::string url = bad;
      EXPECT_EQ(std::string(e.what()),
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https://, or http:// to a loopback "
                "address, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]; got " +
                    url.substr(0, url.find('/', url.find("://") + 3)));
    }
    EXPECT_TRUE(chain.metadata.sent.empty());
  }
}

TEST(CredentialChain, ContainerErrorStopsTheChainWithoutLeakingTheToken) {
  Chain chain;
  chain.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  chain.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kToken);
  chain.vars.erase("AWS_EC2_METADATA_DISABLED");
  chain.metadata.handler = ([](const http::Request&) { return respond(401, "denied"); });
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, "AUTH_FAILED");
  EXPECT_EQ(creds.error().message, "container credentials at http://127.0.0.1:9 answered HTTP 401");
  EXPECT_EQ(chain.metadata.sent.size(), 1u);  // no fall-through to instance metadata

  Chain broken;
  broken.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  broken.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "a\nb";
  creds = broken.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message,
            "container credentials at http://169.254.170.2: the authorization token contains a "
            "line break");
}

TEST(CredentialChain, InstanceMetadataUsesImdsV2) {
  Chain chain;
  chain.vars.erase("AWS_EC2_METADATA_DISABLED");
  chain.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:8111/";
  chain.metadata.handler = ([](const http::Request& r) {
    if (r.method == "PUT" && r.url == "http://127.0.0.1:8111/latest/api/token") {
      return respond(200, "imds-token");
    }
    if (header_value(r, "X-aws-ec2-metadata-token") != "imds-token") return respond(401, "");
    if (r.url == "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/") {
      return respond(200, "deploy-role\n");
    }
    if (r.url == "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/deploy-role") {
      return respond(200, metadata_credentials("2023-11-15T04:00:00+02:00"));
    }
    return respond(404, "");
  });
  auto creds = chain.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAMETA");
  EXPECT_EQ(creds->source, "instance metadata (role deploy-role)");
  EXPECT_EQ(creds->expiration, std::chrono::system_clock::from_time_t(1700013600));
  ASSERT_EQ(chain.metadata.sent.size(), 3u);
  EXPECT_EQ(header_value(chain.metadata.sent[0], "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  for (const auto& r : chain.metadata.sent) EXPECT_FALSE(r.retry);
}

TEST(CredentialChain, InstanceMetadataWithoutRoleAndDisabled) {
  Chain chain;
  chain.vars.erase("AWS_EC2_METADATA_DISABLED");
  chain.metadata.handler = ([](const http::Request& r) {
    return r.method == "PUT" ? respond(200, "t") : respond(404, "");
  });
  auto creds = chain.resolve();
  ASSERT_FALSE(creds);
  EXPECT_TRUE(
      creds.error().message.ends_with("instance metadata (no IAM role attached to the instance))"))
      << creds.error().message;

  Chain disabled;
  creds = disabled.resolve();
  ASSERT_FALSE(creds);
  EXPECT_TRUE(
      creds.error().message.ends_with("instance metadata (disabled by AWS_EC2_METADATA_DISABLED))"))
      << creds.error().message;
  EXPECT_TRUE(disabled.metadata.sent.empty());
}

TEST(CredentialProvider, CachesAndRefreshesBeforeExpiry) {
  auto now = kNow;
  int calls = 0;
  FakeHttpClient metadata([&](const http::Request&) {
    ++calls;
    return respond(200, metadata_credentials(calls == 1 ? "2023-11-14T22:23:20Z"     // now + 10 min
                                                        : "2023-11-15T22:13:20Z"));  // + 1 day
  });
  auto env = Environment::from_map({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}});
  SharedConfig shared;
  CredentialChainOptions options;
  options.env = &env;
  options.shared = &shared;
  options.metadata_http = &metadata;
  options.now = [&] { return now; };
  CredentialProvider provider(options);
  ASSERT_TRUE(provider.get());
  ASSERT_TRUE(provider.get());
  EXPECT_EQ(calls, 1);
  now += std::chrono::minutes(6);  // within the 5-minute refresh margin of the expiry
  ASSERT_TRUE(provider.get());
  EXPECT_EQ(calls, 2);
  ASSERT_TRUE(provider.get());
  EXPECT_EQ(calls, 2);

  CredentialProvider fixed(Credentials{"AKID", "s", "", std::nullopt, "test"});
  EXPECT_EQ(fixed.get()->access_key_id, "AKID");
}

TEST(Iso8601, ParsesAwsFormsAndRejectsOthers) {
  EXPECT_EQ(detail::parse_iso8601("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(detail::parse_iso8601("2023-11-14T22:13:20.123Z"), kNow);
  EXPECT_EQ(detail::parse_iso8601("2023-11-15T00:13:20+02:00"), kNow);
  EXPECT_EQ(detail::parse_iso8601("2023-11-14T21:13:20-01:00"), kNow);
  EXPECT_EQ(detail::parse_iso8601("2999-01-01T00:00:00Z"),
            std::chrono::system_clock::time_point::max());
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk"}) {
    EXPECT_EQ(detail::parse_iso8601(bad), std::nullopt) << bad;
  }
}

TEST(XmlValue, DecodesEntitiesAndMissesCleanly) {
  EXPECT_EQ(detail::xml_value("<a><B>x &amp; y &lt;z&gt;</B></a>", "B"), "x & y <z>");
  EXPECT_EQ(detail::xml_value("<a><B>unclosed</a>", "B"), std::nullopt);
  EXPECT_EQ(detail::xml_value("<a/>", "B"), std::nullopt);
}

}  // namespace
}  // namespace imagegate::aws
