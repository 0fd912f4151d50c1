// The OCI backend against FakeRegistry through CannedClient: no network, every request and every
// batch recorded, so the tests can prove the round trips as well as the verdicts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "registry/content.hpp"
#include "registry/oci/oci.hpp"
#include "support/fake_registry.hpp"
#include "support/scratch_dir.hpp"

namespace imagegate::registry {
namespace {

using testing::CannedClient;
using ::testing::ElementsAre;
using testing::FakeAuth;
using testing::FakeRegistry;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kBase = "http://127.0.0.1:5000";

struct Fixture {
  FakeRegistry fake;
  std::shared_ptr<CannedClient> client =
      std::make_shared<CannedClient>([this](const http::Request& r) { return fake.handle(r); });
  std::shared_ptr<auth::CredentialStore> store;

  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries,
                                        std::string url = kBase) {
    auto registry = make_oci_registry({url, client, store});
    return registry->resolve(queries);
  }
};

// A store reading the given config.json (the scratch directory outlives the test's resolves).
std::shared_ptr<auth::CredentialStore> store_with(const std::string& json) {
  static testing::ScratchDir dir;
  static int counter = 0;
  auth::CredentialStoreOptions options;
  options.config_file = dir.write(std::to_string(++counter) + "/config.json", json);
  return std::make_shared<auth::CredentialStore>(options);
}

std::string auths_for(const std::string& host, const std::string& user, const std::string& pass) {
  return R"({"auths":{")" + host + R"(":{"auth":")" + auth::base64_encode(user + ":" + pass) +
         R"("}}})";
}

TEST(OciRegistry, AnonymousFoundTagsCostExactlyOneHeadEachInOneBatch) {
  Fixture f;
  const std::string digest = f.fake.add_image("afu9/control-center", {"prod-abc", "prod-latest"});
  const auto results = f.resolve({{"afu9/control-center", {"prod-abc", "prod-latest"}, false}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[0].uri, "127.0.0.1:5000/afu9/control-center");
  ASSERT_EQ(results[0].tags.size(), 2u);
  for (const auto& tag : results[0].tags) {
    EXPECT_EQ(tag.status, TagStatus::kFound) << tag.error.message;
    EXPECT_EQ(tag.digest, digest);
    EXPECT_EQ(tag.media_type, kOciManifest);
  }
  EXPECT_THAT(
      f.client->lines(),
      ElementsAre(std::string("HEAD ") + kBase + "/v2/afu9/control-center/manifests/prod-abc",
                  std::string("HEAD ") + kBase + "/v2/afu9/control-center/manifests/prod-latest"));
  EXPECT_THAT(f.client->batches, ElementsAre(2u));
  // The Accept header lists all four manifest types.
  for (const auto& request : f.client->requests) {
    ASSERT_EQ(request.headers.size(), 1u);
    EXPECT_EQ(request.headers[0].first, "Accept");
    for (auto type : {kOciIndex, kOciManifest, kDockerList, kDockerManifest}) {
      EXPECT_THAT(request.headers[0].second, HasSubstr(std::string(type)));
    }
  }
}

TEST(OciRegistry, AllRepositoriesGoInOneBatch) {
  Fixture f;
  f.fake.add_image("a/one", {"t1"});
  f.fake.add_image("a/two", {"t1", "t2"});
  const auto results = f.resolve({{"a/one", {"t1"}, false}, {"a/two", {"t1", "t2"}, false}});
  EXPECT_THAT(f.client->batches, ElementsAre(3u));
  EXPECT_EQ(results[1].tags[1].status, TagStatus::kFound);
}

TEST(OciRegistry, MissingTagIsMissingAndRepositoryExists) {
  Fixture f;
  f.fake.add_image("a/x", {"present"});
  const auto results = f.resolve({{"a/x", {"present", "absent"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kFound);
  EXPECT_EQ(results[0].tags[1].status, TagStatus::kMissing);
  // A sibling tag was found, so the bare HEAD 404 needs no tag-list follow-up.
  EXPECT_EQ(f.client->requests.size(), 2u);
}

TEST(OciRegistry, BareHead404IsSettledByTheTagList) {
  Fixture f;
  f.fake.add_repository("a/empty");
  const auto results = f.resolve({{"a/empty", {"t"}, false}, {"a/nowhere", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kMissing);
  EXPECT_EQ(results[1].status, RepositoryStatus::kMissing);
  EXPECT_TRUE(results[1].tags.empty());
  EXPECT_THAT(f.client->batches, ElementsAre(2u, 2u));
  EXPECT_EQ(f.client->lines()[2], std::string("GET ") + kBase + "/v2/a/empty/tags/list");
  EXPECT_EQ(f.client->lines()[3], std::string("GET ") + kBase + "/v2/a/nowhere/tags/list");
}

// A registry that answers HEAD with an error body (some proxies do) needs no follow-up.
TEST(OciRegistry, ErrorCodesIn404BodiesDecideDirectly) {
  Fixture f;
  f.fake.add_repository("a/empty");
  auto client = std::make_shared<CannedClient>([&](const http::Request& r) {
    auto request = r;
    request.method = "GET";  // the fake then keeps the error body
    auto response = f.fake.handle(request);
    if (response.status == 200) response.body.clear();
    return response;
  });
  auto registry = make_oci_registry({kBase, client, nullptr});
  const auto results = registry->resolve({{"a/empty", {"t"}, false}, {"a/nowhere", {"t"}, false}});
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kMissing);
  EXPECT_EQ(results[1].status, RepositoryStatus::kMissing);
  EXPECT_EQ(client->requests.size(), 2u);
}

TEST(OciRegistry, HeadWithoutDigestIsFollowedByGetAndSha256OfTheBody) {
  Fixture f;
  f.fake.digest_header = false;
  const std::string digest = f.fake.add_image("a/x", {"t"});
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_EQ(results[0].tags[0].digest, digest);
  EXPECT_THAT(f.client->lines(), ElementsAre(std::string("HEAD ") + kBase + "/v2/a/x/manifests/t",
                                             std::string("GET ") + kBase + "/v2/a/x/manifests/t"));
}

TEST(OciRegistry, GetByTagBodyThatIsNoManifestIsBadResponse) {
  auto client = std::make_shared<CannedClient>([](const http::Request&) {
    http::Response response;
    response.status = 200;
    response.headers.emplace_back("content-type", "text/html");
    response.body = "<html>login</html>";
    return response;
  });
  const auto results =
      make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
  EXPECT_EQ(results[0].error.message, "a/x:t: manifest is not a JSON object");
  EXPECT_EQ(client->requests.size(), 2u);
}

TEST(OciRegistry, GetBodyNotMatchingTheReportedDigestIsBadResponse) {
  Fixture f;
  f.fake.corrupt_get_body = true;
  f.fake.add_image("a/x", {"t"});
  // The HEAD digest is fine; the GET for platforms returns a body that does not hash to it.
  const auto results = f.resolve({{"a/x", {"t"}, true}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.code, "BAD_RESPONSE");
  EXPECT_THAT(results[0].tags[0].error.message, HasSubstr("but the registry reported sha256:"));
}

TEST(OciRegistry, GetByDigestBodyIsCheckedAgainstTheRequestedDigest) {
  Fixture f;
  f.fake.corrupt_get_body = true;
  const std::string digest = f.fake.add_image("a/x", {"t"});
  auto client = std::make_shared<CannedClient>([&](const http::Request& r) {
    auto response = f.fake.handle(r);
    if (r.method == "GET") {
      std::erase_if(response.headers, [](auto& h) { return h.first == "docker-content-digest"; });
    }
    return response;
  });
  const auto results = make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, true}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].digest, digest);
  EXPECT_EQ(results[0].tags[0].error.code, "BAD_RESPONSE");
  EXPECT_THAT(results[0].tags[0].error.message, HasSubstr("but " + digest + " was requested"));
}

TEST(OciRegistry, GetByTagBodyNotMatchingDockerContentDigestIsBadResponse) {
  Fixture f;
  f.fake.add_image("a/x", {"t"});
  auto client = std::make_shared<CannedClient>([&](const http::Request& r) {
    auto response = f.fake.handle(r);
    if (r.method == "HEAD") {
      std::erase_if(response.headers, [](auto& h) { return h.first == "docker-content-digest"; });
    } else {
      response.body += "tampered";
    }
    return response;
  });
  const auto results =
      make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
  EXPECT_THAT(results[0].error.message, HasSubstr("but the registry reported sha256:"));
}

TEST(OciRegistry, MalformedDigestHeaderIsNeverFound) {
  Fixture f;
  f.fake.add_image("a/x", {"t"});
  for (const std::string& bad : std::vector<std::string>{
           "sha256:abc", "sha512:" + std::string(128, 'a'), "sha256:" + std::string(64, 'A'), ""}) {
    auto client = std::make_shared<CannedClient>([&](const http::Request& r) {
      auto response = f.fake.handle(r);
      for (auto& [name, value] : response.headers) {
        if (name == "docker-content-digest") value = bad;
      }
      return response;
    });
    const auto results =
        make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, false}});
    EXPECT_EQ(results[0].status, RepositoryStatus::kError) << bad;
    EXPECT_EQ(results[0].error.code, "BAD_RESPONSE") << bad;
    EXPECT_THAT(results[0].error.message, HasSubstr("is not a sha256 digest")) << bad;
  }
}

TEST(OciRegistry, ServerErrorsAfterRetriesAreUnreachable) {
  Fixture f;
  f.fake.add_image("a/x", {"t"});
  f.fake.fail_status = 503;
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "UNREACHABLE");
  EXPECT_EQ(results[0].error.message, "a/x:t: registry answered HTTP 503 (after 1 attempts)");
}

TEST(OciRegistry, TransportErrorsKeepTheirCode) {
  auto client = std::make_shared<CannedClient>([](const http::Request&) {
    http::Response response;
    response.error_code = "UNREACHABLE";
    response.error = "connection refused";
    return response;
  });
  const auto results =
      make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "UNREACHABLE");
  EXPECT_EQ(results[0].error.message, "a/x:t: connection refused");
}

TEST(OciRegistry, UnexpectedStatusIsBadResponse) {
  auto client = std::make_shared<CannedClient>([](const http::Request&) {
    http::Response response;
    response.status = 302;
    return response;
  });
  const auto results =
      make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
  EXPECT_EQ(results[0].error.message, "a/x:t: unexpected HTTP 302");
}

TEST(OciRegistry, InvalidNamesAndTagsAreRejectedWithoutRequests) {
  Fixture f;
  const auto results = f.resolve({{"../etc", {"t"}, false}, {"a/x", {"bad tag"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "INVALID_REFERENCE");
  EXPECT_THAT(results[0].error.message, HasSubstr("\"../etc\" is not a valid repository name"));
  EXPECT_EQ(results[1].status, RepositoryStatus::kError);
  EXPECT_EQ(results[1].error.message, "\"bad tag\" is not a valid tag");
  EXPECT_TRUE(f.client->requests.empty());
}

TEST(OciRegistry, PlatformsOfAnIndexComeFromItsEntries) {
  Fixture f;
  const std::string digest =
      f.fake.add_index("a/multi", {"t1", "t2"}, {"linux/amd64", "linux/arm64/v8"});
  const auto results = f.resolve({{"a/multi", {"t1", "t2"}, true}});
  for (const auto& tag : results[0].tags) {
    ASSERT_EQ(tag.status, TagStatus::kFound) << tag.error.message;
    EXPECT_EQ(tag.digest, digest);
    EXPECT_THAT(tag.platforms,
                ElementsAre(Platform{"linux", "amd64", ""}, Platform{"linux", "arm64", "v8"}));
  }
  // Two HEADs, then one GET for the one distinct digest.
  EXPECT_THAT(f.client->batches, ElementsAre(2u, 1u));
  EXPECT_EQ(f.client->lines().back(),
            std::string("GET ") + kBase + "/v2/a/multi/manifests/" + digest);
}

TEST(OciRegistry, PlatformOfASingleManifestComesFromItsConfigBlob) {
  Fixture f;
  f.fake.add_image("a/arm", {"t"}, "linux", "arm", "v7");
  const auto results = f.resolve({{"a/arm", {"t"}, true}});
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_THAT(results[0].tags[0].platforms, ElementsAre(Platform{"linux", "arm", "v7"}));
  EXPECT_THAT(f.client->batches, ElementsAre(1u, 1u, 1u));
  EXPECT_THAT(f.client->lines().back(), HasSubstr("/v2/a/arm/blobs/sha256:"));
}

TEST(OciRegistry, ConfigBlobNotMatchingItsDigestIsBadResponse) {
  Fixture f;
  f.fake.add_image("a/x", {"t"});
  auto client = std::make_shared<CannedClient>([&](const http::Request& r) {
    auto response = f.fake.handle(r);
    if (r.url.find("/blobs/") != std::string::npos) response.body = R"({"os":"linux"})";
    return response;
  });
  const auto results = make_oci_registry({kBase, client, nullptr})->resolve({{"a/x", {"t"}, true}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  const auto& tag = results[0].tags[0];
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "BAD_RESPONSE");
  EXPECT_THAT(tag.error.message, HasSubstr("config blob sha256:"));
  EXPECT_THAT(tag.error.message, HasSubstr("content hashes to"));
}

TEST(OciRegistry, AnonymousBearerFetchesOneTokenPerRepositoryThenRetriesOnce) {
  Fixture f;
  f.fake.auth = FakeAuth::kBearer;
  f.fake.anonymous_pull = true;
  f.fake.realm = std::string(kBase) + "/token";
  f.fake.add_image("a/one", {"t1", "t2"});
  f.fake.add_image("a/two", {"t1"});
  const auto results = f.resolve({{"a/one", {"t1", "t2"}, false}, {"a/two", {"t1"}, false}});
  EXPECT_EQ(results[0].tags.at(1).status, TagStatus::kFound) << results[0].tags[1].error.message;
  EXPECT_EQ(results[1].tags.at(0).status, TagStatus::kFound);
  // HEADs, one token per repository, the retried HEADs.
  EXPECT_THAT(f.client->batches, ElementsAre(3u, 2u, 3u));
  EXPECT_EQ(f.client->lines()[3],
            std::string("GET ") + kBase +
                "/token?service=fake-registry&scope=repository%3Aa%2Fone%3Apull");
  EXPECT_EQ(f.client->requests[5].headers.back().second, "Bearer tok:a/one");
}

TEST(OciRegistry, BearerWithoutAccessIsAuthFailedWithoutSecrets) {
  Fixture f;
  f.fake.auth = FakeAuth::kBearer;
  f.fake.realm = std::string(kBase) + "/token";
  f.fake.add_image("a/x", {"t"});
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(results[0].error.message,
            "token endpoint for repository:a/x:pull denied access (HTTP 401); no credentials are "
            "configured for 127.0.0.1:5000");
}

TEST(OciRegistry, KnownCredentialsPingOnceThenFetchTokensBeforeTheHeads) {
  Fixture f;
  f.fake.auth = FakeAuth::kBearer;
  f.fake.realm = std::string(kBase) + "/token";
  f.fake.add_image("a/x", {"t1", "t2"});
  f.store = store_with(auths_for("127.0.0.1:5000", "user", "s3cret-pass"));
  const auto results = f.resolve({{"a/x", {"t1", "t2"}, false}});
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists) << results[0].error.message;
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kFound);
  EXPECT_THAT(f.client->batches, ElementsAre(1u, 1u, 2u));
  EXPECT_EQ(f.client->lines()[0], std::string("GET ") + kBase + "/v2/");
  EXPECT_EQ(f.client->requests[1].headers.back().second,
            auth::basic_authorization({"user", "s3cret-pass", ""}));
}

TEST(OciRegistry, BasicRegistryWithCredentials) {
  Fixture f;
  f.fake.auth = FakeAuth::kBasic;
  f.fake.add_image("a/x", {"t"});
  f.store = store_with(auths_for("127.0.0.1:5000", "user", "s3cret-pass"));
  const auto results = f.resolve({{"a/x", {"t"}, true}});
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].tags[0].error.message;
  EXPECT_EQ(results[0].tags[0].platforms.size(), 1u);
  EXPECT_THAT(f.client->batches, ElementsAre(1u, 1u, 1u, 1u));
}

TEST(OciRegistry, RejectedBasicCredentialsAreAuthFailedAndNeverQuoted) {
  Fixture f;
  f.fake.auth = FakeAuth::kBasic;
  f.fake.add_image("a/x", {"t"});
  f.store = store_with(auths_for("127.0.0.1:5000", "user", "wrong-pass-123"));
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(results[0].error.message,
            "a/x:t: access denied (HTTP 401); the credentials for 127.0.0.1:5000 were rejected or "
            "lack pull access");
  EXPECT_THAT(results[0].error.message, Not(HasSubstr("wrong-pass-123")));
}

TEST(OciRegistry, BasicChallengeWithoutCredentialsIsAuthFailed) {
  Fixture f;
  f.fake.auth = FakeAuth::kBasic;
  f.fake.add_image("a/x", {"t"});
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(results[0].error.message,
            "registry requires Basic authentication for a/x: no credentials are configured for "
            "127.0.0.1:5000");
  EXPECT_EQ(f.client->requests.size(), 1u);
}

TEST(OciRegistry, PlainHttpRealmOffLoopbackIsRefusedBeforeAnyTokenRequest) {
  Fixture f;
  f.fake.auth = FakeAuth::kBearer;
  f.fake.anonymous_pull = true;
  f.fake.realm = "http://auth.example.com/token";
  f.fake.add_image("a/x", {"t"});
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_THAT(results[0].error.message,
              HasSubstr("token realm http://auth.example.com is plain http"));
  EXPECT_EQ(f.client->requests.size(), 1u);
}

TEST(OciRegistry, CredentialsAreNeverSentOverPlainHttpToAnotherMachine) {
  Fixture f;
  f.fake.add_image("a/x", {"t"});
  f.store = store_with(auths_for("registry.internal:5000", "user", "s3cret-pass"));
  const auto results = f.resolve({{"a/x", {"t"}, false}}, "http://registry.internal:5000");
  EXPECT_EQ(results[0].tags.at(0).status, TagStatus::kFound);
  ASSERT_EQ(f.client->requests.size(), 1u);  // no ping: anonymous
  for (const auto& [name, value] : f.client->requests[0].headers) EXPECT_NE(name, "Authorization");
  ASSERT_EQ(results[0].warnings.size(), 1u);
  EXPECT_EQ(results[0].warnings[0].code, "CREDENTIALS_WITHHELD");
  EXPECT_EQ(results[0].warnings[0].message,
            "credentials for registry.internal:5000 were not sent because the registry is plain "
            "http");
}

TEST(OciRegistry, BrokenCredentialStoreFailsEveryRepositoryWithoutRequests) {
  Fixture f;
  f.store = store_with("{not json");
  const auto results = f.resolve({{"a/x", {"t"}, false}, {"a/y", {}, false}});
  for (const auto& result : results) {
    EXPECT_EQ(result.status, RepositoryStatus::kError);
    EXPECT_EQ(result.error.code, "AUTH_FAILED");
    EXPECT_THAT(result.error.message, HasSubstr("not a JSON object"));
  }
  EXPECT_TRUE(f.client->requests.empty());
}

TEST(OciRegistry, PingFailureFailsEveryRepository) {
  Fixture f;
  f.store = store_with(auths_for("127.0.0.1:5000", "user", "s3cret-pass"));
  f.client = std::make_shared<CannedClient>([](const http::Request&) {
    http::Response response;
    response.status = 404;
    return response;
  });
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
  EXPECT_EQ(results[0].error.message,
            "GET http://127.0.0.1:5000/v2/ answered HTTP 404 (expected 200 or 401 from an OCI "
            "registry)");
  EXPECT_EQ(f.client->requests.size(), 1u);
}

TEST(OciRegistry, IdentityTokenIsExchangedWithARefreshTokenGrant) {
  Fixture f;
  f.fake.auth = FakeAuth::kBearer;
  f.fake.realm = std::string(kBase) + "/token";
  f.fake.add_image("a/x", {"t"});
  f.store = store_with(R"({"auths":{"127.0.0.1:5000":{"identitytoken":"id-token-xyz"}}})");
  const auto results = f.resolve({{"a/x", {"t"}, false}});
  ASSERT_EQ(results[0].tags.at(0).status, TagStatus::kFound) << results[0].error.message;
  ASSERT_EQ(f.client->requests.size(), 3u);
  EXPECT_EQ(f.client->requests[1].method, "POST");
  EXPECT_THAT(f.client->requests[1].body, HasSubstr("refresh_token=id-token-xyz"));
  for (const auto& [name, value] : f.client->requests[1].headers) EXPECT_NE(name, "Authorization");
}

TEST(OciRegistry, ForbiddenAndThrottledAnswers) {
  for (const long status : {403L, 429L}) {
    Fixture f;
    f.fake.add_image("a/x", {"t"});
    f.fake.fail_status = status;
    const auto results = f.resolve({{"a/x", {"t"}, false}});
    EXPECT_EQ(results[0].status, RepositoryStatus::kError);
    if (status == 403) {
      EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
      EXPECT_EQ(results[0].error.message, "a/x:t: access denied (HTTP 403)");
    } else {
      EXPECT_EQ(results[0].error.code, "UNREACHABLE");
      EXPECT_EQ(results[0].error.message, "a/x:t: registry answered HTTP 429 (after 1 attempts)");
    }
  }
}

TEST(OciRegistry, RepositoryWithoutTagsIsCheckedForExistence) {
  Fixture f;
  f.fake.add_repository("a/there");
  const auto results = f.resolve({{"a/there", {}, false}, {"a/gone", {}, false}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[1].status, RepositoryStatus::kMissing);
}

TEST(OciUrl, AcceptsHostAndPortOnly) {
  EXPECT_EQ(parse_oci_url("https://ghcr.io")->host, "ghcr.io");
  EXPECT_EQ(parse_oci_url("http://127.0.0.1:5000/")->base_url(), "http://127.0.0.1:5000");
  EXPECT_EQ(parse_oci_url("https://Registry.Example.com:8443")->host, "registry.example.com:8443");
}

TEST(OciUrl, RejectsWhatItCannotServe) {
  const auto message = [](std::string_view url) { return parse_oci_url(url).error().message; };
  EXPECT_EQ(parse_oci_url("https://host/prefix").error().code, "INVALID_REGISTRY");
  EXPECT_EQ(message("https://host/prefix"),
            "registry URL \"https://host/prefix\": a path prefix is not supported (the API is "
            "always at /v2/); expected https://HOST[:PORT] or http://HOST[:PORT]");
  EXPECT_THAT(message("ftp://host"), HasSubstr("scheme must be https or http"));
  EXPECT_THAT(message("host:5000"), HasSubstr("no scheme"));
  EXPECT_THAT(message("https://"), HasSubstr("no host"));
  EXPECT_THAT(message("https://host?x=1"), HasSubstr("a query or fragment is not supported"));
  EXPECT_THAT(message("https://user:pw@host"),
              HasSubstr("credentials in the URL are not supported"));
  EXPECT_THAT(message("https://user:pw@host"), Not(HasSubstr("pw")));
  EXPECT_THAT(message("https://ho st"), HasSubstr("characters a host name cannot"));
  EXPECT_THROW(make_oci_registry({"https://host/prefix", nullptr, nullptr}), UsageError);
}

}  // namespace
}  // namespace imagegate::registry
