// The OCI backend through the real libcurl client against the registry emulator served by
// cpp-httplib on 127.0.0.1: the wire (HEAD without a body, headers, redirects, TLS) is real.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "registry/content.hpp"
#include "registry/oci/oci.hpp"
#include "support/fake_registry.hpp"
#include "support/local_server.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::registry {
namespace {

using ::testing::ElementsAre;
using testing::FakeAuth;
using testing::FakeRegistry;
using ::testing::HasSubstr;
using testing::LocalServer;
using ::testing::Not;

std::shared_ptr<http::Client> curl_client(const std::string& ca_file = "") {
  http::ClientOptions options;
  options.ca_file = ca_file;
  options.retry.max_attempts = 2;
  options.retry.base_delay = std::chrono::milliseconds(1);
  return http::make_curl_client(options);
}

std::shared_ptr<auth::CredentialStore> store_for(const testing::ScratchDir& dir,
                                                 const std::string& host, const std::string& user,
                                                 const std::string& password) {
  auth::CredentialStoreOptions options;
  options.config_file =
      dir.write("config.json", R"({"auths":{")" + host + R"(":{"auth":")" +
                                   auth::base64_encode(user + ":" + password) + "\"}}}");
  return std::make_shared<auth::CredentialStore>(options);
}

TEST(OciServer, AnonymousTagsMissingTagsAndMissingRepositories) {
  FakeRegistry fake;
  const std::string digest = fake.add_image("afu9/control-center", {"prod-a", "prod-latest"});
  fake.add_repository("afu9/empty");
  LocalServer server;
  testing::serve_fake_registry(server.server(), fake);
  server.start();
  std::vector<RepositoryResult> results;
  {
    auto registry = make_oci_registry({server.url(), curl_client(), nullptr});
    results = registry->resolve({{"afu9/control-center", {"prod-a", "prod-latest", "nope"}, false},
                                 {"afu9/empty", {"x"}, false},
                                 {"afu9/absent", {"x"}, false}});
  }
  ASSERT_EQ(results.size(), 3u);
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists) << results[0].error.message;
  EXPECT_EQ(results[0].uri, "127.0.0.1:" + std::to_string(server.port()) + "/afu9/control-center");
  EXPECT_EQ(results[0].tags[0].digest, digest);
  EXPECT_EQ(results[0].tags[1].digest, digest);
  EXPECT_EQ(results[0].tags[2].status, TagStatus::kMissing);
  EXPECT_EQ(results[1].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[1].tags.at(0).status, TagStatus::kMissing);
  EXPECT_EQ(results[2].status, RepositoryStatus::kMissing);
  // Five HEADs, then a tag list for each repository whose HEADs were all bare 404s.
  EXPECT_EQ(fake.log.size(), 7u);
  EXPECT_EQ(fake.log[5], "GET /v2/afu9/empty/tags/list");
  EXPECT_EQ(fake.log[6], "GET /v2/afu9/absent/tags/list");
}

TEST(OciServer, HeadWithoutDigestAndPlatformsViaIndexAndConfigBlob) {
  FakeRegistry fake;
  fake.digest_header = false;
  const std::string index = fake.add_index("a/multi", {"t"}, {"linux/amd64", "linux/arm64/v8"});
  const std::string single = fake.add_image("a/single", {"t"}, "linux", "arm", "v7");
  LocalServer server;
  testing::serve_fake_registry(server.server(), fake);
  server.start();
  std::vector<RepositoryResult> results;
  {
    auto registry = make_oci_registry({server.url(), curl_client(), nullptr});
    results = registry->resolve({{"a/multi", {"t"}, true}, {"a/single", {"t"}, true}});
  }
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_EQ(results[0].tags[0].digest, index);
  EXPECT_EQ(results[0].tags[0].media_type, kOciIndex);
  EXPECT_THAT(results[0].tags[0].platforms,
              ElementsAre(Platform{"linux", "amd64", ""}, Platform{"linux", "arm64", "v8"}));
  ASSERT_EQ(results[1].tags.at(0).status, TagStatus::kFound) << results[1].tags[0].error.message;
  EXPECT_EQ(results[1].tags[0].digest, single);
  EXPECT_THAT(results[1].tags[0].platforms, ElementsAre(Platform{"linux", "arm", "v7"}));
}

TEST(OciServer, CorruptManifestBodyIsBadResponse) {
  for (const bool digest_header : {true, false}) {
    FakeRegistry fake;
    fake.digest_header = digest_header;
    fake.corrupt_get_body = true;
    fake.add_image("a/x", {"t"});
    LocalServer server;
    testing::serve_fake_registry(server.server(), fake);
    server.start();
    std::vector<RepositoryResult> results;
    {
      auto registry = make_oci_registry({server.url(), curl_client(), nullptr});
      results = registry->resolve({{"a/x", {"t"}, true}});
    }
    ASSERT_EQ(results[0].tags.size(), 1u);
    EXPECT_EQ(results[0].tags[0].status, TagStatus::kError);
    EXPECT_EQ(results[0].tags[0].error.code, "BAD_RESPONSE");
    // With the header, the body contradicts it; without, the tag's body hashes to a digest the
    // registry does not know.
    EXPECT_THAT(results[0].tags[0].error.message,
                HasSubstr(digest_header ? "but the registry reported"
                                        : "tag found but manifest by digest not found"));
  }
}

TEST(OciServer, BearerWithCredentialsPingsOnceAndUsesOneTokenPerRepository) {
  FakeRegistry fake;
  fake.auth = FakeAuth::kBearer;
  fake.add_image("a/one", {"t1", "t2"});
  fake.add_image("a/two", {"t1"});
  LocalServer server;
  fake.realm = server.url("/token");
  testing::serve_fake_registry(server.server(), fake);
  server.start();
  testing::ScratchDir dir;
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  std::vector<RepositoryResult> results;
  {
    auto registry = make_oci_registry(
        {server.url(), curl_client(), store_for(dir, host, "user", "s3cret-pass")});
    results = registry->resolve({{"a/one", {"t1", "t2"}, false}, {"a/two", {"t1"}, false}});
  }
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists) << results[0].error.message;
  EXPECT_EQ(results[0].tags[1].status, TagStatus::kFound);
  EXPECT_EQ(results[1].tags.at(0).status, TagStatus::kFound);
  ASSERT_EQ(fake.log.size(), 6u);
  EXPECT_EQ(fake.log[0], "GET /v2/");
  EXPECT_THAT(fake.log[1], HasSubstr("GET /token?service=fake-registry&scope=repository%3Aa%2F"));
  EXPECT_THAT(fake.log[2], HasSubstr("GET /token?"));
  EXPECT_THAT(fake.log[3], HasSubstr("HEAD /v2/a/"));
}

TEST(OciServer, WrongPasswordIsAuthFailedAndTheSecretAppearsNowhere) {
  FakeRegistry fake;
  fake.auth = FakeAuth::kBearer;
  fake.add_image("a/x", {"t"});
  LocalServer server;
  fake.realm = server.url("/token");
  testing::serve_fake_registry(server.server(), fake);
  server.start();
  testing::ScratchDir dir;
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  std::vector<RepositoryResult> results;
  {
    auto registry = make_oci_registry(
        {server.url(), curl_client(), store_for(dir, host, "user", "wrong-pw-987")});
    results = registry->resolve({{"a/x", {"t"}, false}});
  }
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(results[0].error.message,
            "token endpoint for repository:a/x:pull denied access (HTTP 401); the credentials "
            "for " +
                host + " were rejected or lack pull access");
  EXPECT_THAT(results[0].error.message, Not(HasSubstr("wrong-pw-987")));
  EXPECT_THAT(results[0].error.message, Not(HasSubstr(auth::base64_encode("user:wrong-pw-987"))));
}

TEST(OciServer, AnonymousBearerOverHttpsWithATrustedCa) {
  testing::SelfSignedCert cert;
  FakeRegistry fake;
  fake.auth = FakeAuth::kBearer;
  fake.anonymous_pull = true;
  fake.add_image("a/x", {"t"});
  LocalServer server(cert);
  fake.realm = server.url("/token");
  testing::serve_fake_registry(server.server(), fake);
  server.start();
  std::vector<RepositoryResult> results;
  {
    auto registry = make_oci_registry({server.url(), curl_client(cert.cert_file()), nullptr});
    results = registry->resolve({{"a/x", {"t"}, false}});
  }
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].error.message;
  // HEAD (401), token, HEAD again: the minimal anonymous Bearer round trips.
  EXPECT_EQ(fake.log.size(), 3u);
  EXPECT_THAT(fake.authorizations, ElementsAre("Bearer tok:a/x"));
}

TEST(OciServer, ClosedPortIsUnreachable) {
  auto registry = make_oci_registry(
      {"http://127.0.0.1:" + std::to_string(LocalServer::closed_port()), curl_client(), nullptr});
  const auto results = registry->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "UNREACHABLE");
}

}  // namespace
}  // namespace imagegate::registry
