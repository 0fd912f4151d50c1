#include <gtest/gtest.h>

#include "../aws/temp_dir.hpp"
#include "fake_ecr.hpp"
#include "registry/ecr/ecr.hpp"

namespace imagegate::registry::ecr {
namespace {

using testing::config_blob;
using testing::digest_of;
using testing::FakeEcr;
using testing::json;
using testing::oci_manifest;

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
const std::string kOciIndex = "application/vnd.oci.image.index.v1+json";
const std::string kOciManifest = "application/vnd.oci.image.manifest.v1+json";

class EcrRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Registry> make(std::string registry_id = "") {
    aws::SessionOptions options;
    options.http = &fake.api;
    options.region = "eu-central-1";
    options.endpoint_url = "http://127.0.0.1:9";
    options.credentials = aws::Credentials{"AKIDTEST", "TOPSECRETKEY", "", std::nullopt, "fixed"};
    options.sleep = [](std::chrono::milliseconds) {};
    session = std::make_unique<aws::Session>(
        options, aws::Environment::from_map({{"HOME", dir.path("home")}}));
    return make_ecr_registry({session.get(), std::move(registry_id), 16, &fake.blob_http});
  }

  // A repository whose tags all name one OCI manifest (linux/amd64 config).
  void add_repository(const std::string& name, const std::vector<std::string>& tags,
                      const std::string& mutability = "IMMUTABLE") {
    const std::string config = config_blob("linux", "amd64");
    fake.blobs[digest_of(config)] = config;
    auto& repo = fake.repositories[name];
    repo.mutability = mutability;
    for (const auto& tag : tags) repo.tags[tag] = {oci_manifest(config), kOciManifest};
  }

  static std::vector<std::string> build_tags() {
    return {"prod-" + kSha, "prod-0123456", "prod-latest"};
  }

  testing::FakeEcr fake;
  aws::testing::TempDir dir;
  std::unique_ptr<aws::Session> session;
};

TEST_F(EcrRegistryTest, FindsTheMissingRepositoryAmongThreeFromTheErrorMessage) {
  add_repository("afu9/a", {"t1"});
  add_repository("afu9/c", {"t1"});
  auto results = make()->resolve({{"afu9/a", {"t1"}}, {"afu9/b", {"t1"}}, {"afu9/c", {"t1"}}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[1].status, RepositoryStatus::kMissing);
  EXPECT_TRUE(results[1].tags.empty());
  EXPECT_EQ(results[2].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[0].uri, "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/a");
  auto describes = fake.bodies("DescribeRepositories");
  ASSERT_EQ(describes.size(), 2u);
  EXPECT_EQ(describes[0]["repositoryNames"], json({"afu9/a", "afu9/b", "afu9/c"}));
  EXPECT_EQ(describes[1]["repositoryNames"], json({"afu9/a", "afu9/c"}));
  EXPECT_EQ(fake.calls["BatchGetImage"], 2);  // none for the missing repository
}

TEST_F(EcrRegistryTest, UnreadableNotFoundMessageFallsBackToOneNamePerCall) {
  add_repository("afu9/a", {"t1"});
  add_repository("afu9/c", {"t1"});
  fake.override_answer = [](const std::string& op,
                            const json& body) -> std::optional<http::Response> {
    if (op == "DescribeRepositories" && body["repositoryNames"].size() > 1) {
      return FakeEcr::error(400, "RepositoryNotFoundException", "something is missing");
    }
    return std::nullopt;
  };
  auto results = make()->resolve({{"afu9/a", {"t1"}}, {"afu9/b", {"t1"}}, {"afu9/c", {"t1"}}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kExists);
  EXPECT_EQ(results[1].status, RepositoryStatus::kMissing);
  EXPECT_EQ(results[2].status, RepositoryStatus::kExists);
  auto describes = fake.bodies("DescribeRepositories");
  ASSERT_EQ(describes.size(), 4u);
  EXPECT_EQ(describes[3]["repositoryNames"], json({"afu9/c"}));
  // The three single-name calls went out as one concurrent batch.
  EXPECT_EQ(fake.api.batch_sizes[1], 3u);
}

TEST_F(EcrRegistryTest, HundredFiftyRepositoriesTakeTwoDescribeCalls) {
  std::vector<TagQuery> queries;
  for (int i = 0; i < 150; ++i) {
    const std::string name = fmt::format("svc/r{:03}", i);
    add_repository(name, {"t1"});
    queries.push_back({name, {"t1"}});
  }
  auto results = make()->resolve(queries);
  auto describes = fake.bodies("DescribeRepositories");
  ASSERT_EQ(describes.size(), 2u);
  EXPECT_EQ(describes[0]["repositoryNames"].size(), 100u);
  EXPECT_EQ(describes[1]["repositoryNames"].size(), 50u);
  EXPECT_EQ(fake.calls["BatchGetImage"], 150);
  for (const auto& r : results) {
    ASSERT_EQ(r.status, RepositoryStatus::kExists);
    EXPECT_EQ(r.tags.at(0).status, TagStatus::kFound);
  }
}

TEST_F(EcrRegistryTest, MissingNamesInSeveralBatchesAreRetriedTogether) {
  std::vector<TagQuery> queries;
  for (int i = 0; i < 200; ++i) {
    const std::string name = fmt::format("svc/r{:03}", i);
    if (i != 7 && i != 150) add_repository(name, {"t1"});
    queries.push_back({name, {"t1"}});
  }
  auto results = make()->resolve(queries);
  EXPECT_EQ(results[7].status, RepositoryStatus::kMissing);
  EXPECT_EQ(results[150].status, RepositoryStatus::kMissing);
  EXPECT_EQ(results[8].status, RepositoryStatus::kExists);
  auto describes = fake.bodies("DescribeRepositories");
  ASSERT_EQ(describes.size(), 4u);
  EXPECT_EQ(describes[2]["repositoryNames"].size(), 99u);
  EXPECT_EQ(describes[3]["repositoryNames"].size(), 99u);
  // Both batches' second attempts went out together; then the 198 BatchGetImage calls, at most
  // `concurrency` (16) handed to the client at once, and as many DescribeImages (imageStatus).
  std::vector<std::size_t> want{2, 2};
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 12; ++i) want.push_back(16);
    want.push_back(6);
  }
  EXPECT_EQ(fake.api.batch_sizes, want);
}

TEST_F(EcrRegistryTest, UnreachableEndpointFailsEveryTag) {
  add_repository("afu9/a", {"t1", "t2"});
  auto registry = make();
  fake.api.handler = [this](const http::Request& request) {
    if (aws::testing::header_value(request, "X-Amz-Target").ends_with("BatchGetImage")) {
      return aws::testing::unreachable("connection refused");
    }
    return fake.api_answer(request);
  };
  auto results = registry->resolve({{"afu9/a", {"t1", "t2"}}});
  ASSERT_EQ(results[0].tags.size(), 2u);
  for (const auto& tag : results[0].tags) {
    EXPECT_EQ(tag.status, TagStatus::kError);
    EXPECT_EQ(tag.error.code, "UNREACHABLE");
    EXPECT_EQ(tag.error.message,
              "ecr BatchGetImage: no usable answer: connection refused after 3 attempts");
  }
}

TEST_F(EcrRegistryTest, DockerListAndDockerManifestPlatforms) {
  const std::string config = config_blob("linux", "arm", "v7");
  fake.blobs[digest_of(config)] = config;
  json docker_manifest{{"schemaVersion", 2},
                       {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                       {"config",
                        {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                         {"digest", digest_of(config)},
                         {"size", config.size()}}},
                       {"layers", json::array()}};
  json list{{"schemaVersion", 2},
            {"mediaType", "application/vnd.docker.distribution.manifest.list.v2+json"},
            {"manifests",
             {{{"digest", digest_of(docker_manifest.dump())},
               {"platform", {{"os", "windows"}, {"architecture", "amd64"}}}}}}};
  fake.repositories["afu9/a"].tags["single"] = {
      docker_manifest.dump(), "application/vnd.docker.distribution.manifest.v2+json"};
  fake.repositories["afu9/a"].tags["list"] = {list.dump(), ""};
  auto tags = make()->resolve({{"afu9/a", {"single", "list"}, true}}).at(0).tags;
  ASSERT_EQ(tags[0].status, TagStatus::kFound) << tags[0].error.message;
  EXPECT_EQ(tags[0].platforms, (std::vector<Platform>{{"linux", "arm", "v7"}}));
  ASSERT_EQ(tags[1].status, TagStatus::kFound) << tags[1].error.message;
  EXPECT_EQ(tags[1].media_type, "application/vnd.docker.distribution.manifest.list.v2+json");
  EXPECT_EQ(tags[1].platforms, (std::vector<Platform>{{"windows", "amd64", ""}}));
}

TEST_F(EcrRegistryTest, OneBatchGetImagePerRepositoryWithEveryTagAndMediaType) {
  add_repository("afu9/a", build_tags());
  add_repository("afu9/b", build_tags());
  auto results =
      make("123456789012")->resolve({{"afu9/a", build_tags()}, {"afu9/b", build_tags()}});
  auto calls = fake.bodies("BatchGetImage");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["repositoryName"], "afu9/a");
  EXPECT_EQ(calls[0]["registryId"], "123456789012");
  EXPECT_EQ(calls[0]["imageIds"],
            json::parse(R"([{"imageTag":"prod-)" + kSha +
                        R"("},{"imageTag":"prod-0123456"},{"imageTag":"prod-latest"}])"));
  EXPECT_EQ(
      calls[0]["acceptedMediaTypes"],
      json({kOciIndex, kOciManifest, "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json"}));
  EXPECT_EQ(fake.bodies("DescribeRepositories").at(0)["registryId"], "123456789012");
  // Both repositories' calls went out in one concurrent batch (after the one describe).
  // ... and both DescribeImages (imageStatus) in the next one.
  EXPECT_EQ(fake.api.batch_sizes, (std::vector<std::size_t>{1, 2, 2}));
  const std::string digest = digest_of(fake.repositories["afu9/a"].tags["prod-latest"].manifest);
  for (const auto& r : results) {
    ASSERT_EQ(r.tags.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(r.tags[i].tag, build_tags()[i]);
      EXPECT_EQ(r.tags[i].status, TagStatus::kFound);
      EXPECT_EQ(r.tags[i].digest, digest);
      EXPECT_EQ(r.tags[i].media_type, kOciManifest);
      EXPECT_TRUE(r.tags[i].platforms.empty());  // not asked for
    }
  }
  EXPECT_EQ(fake.calls["GetDownloadUrlForLayer"], 0);
}

TEST_F(EcrRegistryTest, HundredTwentyTagsTakeTwoCalls) {
  std::vector<std::string> tags;
  for (int i = 0; i < 120; ++i) tags.push_back(fmt::format("v{}", i));
  add_repository("afu9/a", tags);
  auto results = make()->resolve({{"afu9/a", tags}});
  auto calls = fake.bodies("BatchGetImage");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["imageIds"].size(), 100u);
  EXPECT_EQ(calls[1]["imageIds"].size(), 20u);
  ASSERT_EQ(results[0].tags.size(), 120u);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    EXPECT_EQ(results[0].tags[i].tag, tags[i]);
    EXPECT_EQ(results[0].tags[i].status, TagStatus::kFound);
  }
}

TEST_F(EcrRegistryTest, RepeatedTagIsAskedOnceAndAnsweredTwice) {
  add_repository("afu9/a", {"x"});
  auto results = make()->resolve({{"afu9/a", {"x", "x"}}});
  EXPECT_EQ(fake.bodies("BatchGetImage").at(0)["imageIds"].size(), 1u);
  ASSERT_EQ(results[0].tags.size(), 2u);
  EXPECT_EQ(results[0].tags[1].status, TagStatus::kFound);
}

TEST_F(EcrRegistryTest, FailuresPerImageId) {
  add_repository("afu9/a", {"present"});
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "BatchGetImage") return std::nullopt;
    json failures =
        json::array({{{"imageId", {{"imageTag", "gone"}}}, {"failureCode", "ImageNotFound"}},
                     {{"imageId", {{"imageTag", "odd"}}},
                      {"failureCode", "SomethingNew"},
                      {"failureReason", "a new kind of failure"}},
                     {{"imageId", {{"imageTag", "denied"}}},
                      {"failureCode", "UpstreamAccessDenied"},
                      {"failureReason", "no access upstream"}}});
    return aws::testing::respond(200,
                                 json{{"images", json::array()}, {"failures", failures}}.dump());
  };
  auto results = make()->resolve({{"afu9/a", {"gone", "odd", "denied", "silent"}}});
  const auto& tags = results.at(0).tags;
  ASSERT_EQ(tags.size(), 4u);
  EXPECT_EQ(tags[0].status, TagStatus::kMissing);
  EXPECT_EQ(tags[1].status, TagStatus::kError);
  EXPECT_EQ(tags[1].error.code, "BAD_RESPONSE");
  EXPECT_EQ(tags[1].error.message, "BatchGetImage failure 'SomethingNew': a new kind of failure");
  EXPECT_EQ(tags[2].status, TagStatus::kError);
  EXPECT_EQ(tags[2].error.code, "AUTH_FAILED");
  EXPECT_EQ(tags[3].status, TagStatus::kError);
  EXPECT_EQ(tags[3].error.code, "BAD_RESPONSE");
  EXPECT_EQ(tags[3].error.message, "BatchGetImage gave no answer for tag");
  EXPECT_TRUE(tags[3].digest.empty());
}

TEST_F(EcrRegistryTest, ManifestDigestMismatchIsBadResponse) {
  add_repository("afu9/a", {"t"});
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "BatchGetImage") return std::nullopt;
    json image{{"imageId", {{"imageTag", "t"}, {"imageDigest", digest_of("other bytes")}}},
               {"imageManifest", "{\"schemaVersion\":2}"}};
    return aws::testing::respond(200, json{{"images", {image}}}.dump());
  };
  auto results = make()->resolve({{"afu9/a", {"t"}}});
  const auto& tag = results.at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "BAD_RESPONSE");
  EXPECT_EQ(tag.error.message, "the manifest the registry sent has digest " +
                                   digest_of("{\"schemaVersion\":2}") + ", not the " +
                                   digest_of("other bytes") + " it claims");
  EXPECT_TRUE(tag.digest.empty());
}

TEST_F(EcrRegistryTest, TwoAnswersForOneTagAreBadResponse) {
  add_repository("afu9/a", {"t"});
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "BatchGetImage") return std::nullopt;
    const std::string m = "{}";
    json image{{"imageId", {{"imageTag", "t"}, {"imageDigest", digest_of(m)}}},
               {"imageManifest", m}};
    json failure{{"imageId", {{"imageTag", "t"}}}, {"failureCode", "ImageNotFound"}};
    return aws::testing::respond(200, json{{"images", {image}}, {"failures", {failure}}}.dump());
  };
  const auto tag = make()->resolve({{"afu9/a", {"t"}}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.message, "BatchGetImage answered 2 times for tag");
}

TEST_F(EcrRegistryTest, ThrottlingOnEveryAttemptFailsEveryTagOfTheRepository) {
  add_repository("afu9/a", build_tags());
  add_repository("afu9/b", build_tags());
  fake.override_answer = [](const std::string& op,
                            const json& body) -> std::optional<http::Response> {
    if (op == "BatchGetImage" && body["repositoryName"] == "afu9/a") {
      return FakeEcr::error(400, "ThrottlingException", "Rate exceeded");
    }
    return std::nullopt;
  };
  auto results = make()->resolve({{"afu9/a", build_tags()}, {"afu9/b", build_tags()}});
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists);
  for (const auto& tag : results[0].tags) {
    EXPECT_EQ(tag.status, TagStatus::kError);
    EXPECT_EQ(tag.error.code, "THROTTLED");
    EXPECT_EQ(tag.error.message,
              "ecr BatchGetImage: ThrottlingException: Rate exceeded (HTTP 400, request id "
              "req-ThrottlingException) after 3 attempts");
  }
  for (const auto& tag : results[1].tags) EXPECT_EQ(tag.status, TagStatus::kFound);
  EXPECT_EQ(fake.calls["BatchGetImage"], 4);  // 3 attempts for a, 1 for b
}

TEST_F(EcrRegistryTest, DescribeErrorsMakeRepositoryErrorsWithoutSecrets) {
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "DescribeRepositories") return std::nullopt;
    return FakeEcr::error(400, "AccessDeniedException", "User is not authorized");
  };
  auto results = make()->resolve({{"afu9/a", {"t"}}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(results[0].error.message,
            "ecr DescribeRepositories: AccessDeniedException: User is not authorized (HTTP 400, "
            "request id req-AccessDeniedException)");
  EXPECT_EQ(fake.calls["BatchGetImage"], 0);
}

TEST_F(EcrRegistryTest, DescribeAnswerWithoutTheRepositoryIsBadResponse) {
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "DescribeRepositories") return std::nullopt;
    return aws::testing::respond(200, R"({"repositories":[]})");
  };
  auto results = make()->resolve({{"afu9/a", {"t"}}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "BAD_RESPONSE");
  EXPECT_EQ(results[0].error.message, "DescribeRepositories answered without repository 'afu9/a'");
}

TEST_F(EcrRegistryTest, RepositoryDeletedBetweenCallsIsMissing) {
  add_repository("afu9/a", {"t"});
  fake.override_answer = [](const std::string& op, const json&) -> std::optional<http::Response> {
    if (op != "BatchGetImage") return std::nullopt;
    return FakeEcr::error(400, "RepositoryNotFoundException",
                          "The repository with name 'afu9/a' does not exist");
  };
  auto results = make()->resolve({{"afu9/a", {"t"}}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kMissing);
}

TEST_F(EcrRegistryTest, InvalidRepositoryNameIsAnErrorAndNeverSent) {
  add_repository("afu9/a", {"t"});
  auto results = make()->resolve({{"Afu9/Bad", {"t"}}, {"afu9/a", {"t"}}});
  EXPECT_EQ(results[0].status, RepositoryStatus::kError);
  EXPECT_EQ(results[0].error.code, "REPOSITORY_NAME_INVALID");
  EXPECT_EQ(results[0].error.message, "'Afu9/Bad' is not a valid ECR repository name");
  EXPECT_EQ(fake.bodies("DescribeRepositories").at(0)["repositoryNames"], json({"afu9/a"}));
  EXPECT_EQ(results[1].status, RepositoryStatus::kExists);
}

TEST_F(EcrRegistryTest, MutableRepositoryWarnsForMovingTagsOnly) {
  add_repository("afu9/m", build_tags(), "MUTABLE");
  add_repository("afu9/i", build_tags(), "IMMUTABLE");
  auto results = make()->resolve({{"afu9/m", build_tags()}, {"afu9/i", build_tags()}});
  ASSERT_EQ(results[0].warnings.size(), 2u);
  EXPECT_EQ(results[0].warnings[0].code, "TAG_MUTABLE");
  EXPECT_EQ(results[0].warnings[0].message,
            "repository 'afu9/m' is MUTABLE: tag 'prod-0123456' can be moved after the gate; pin "
            "digests (imagegate pin) or make the repository IMMUTABLE");
  EXPECT_NE(results[0].warnings[1].message.find("tag 'prod-latest'"), std::string::npos);
  EXPECT_TRUE(results[1].warnings.empty());
}

TEST_F(EcrRegistryTest, PlatformsFromAnIndexSkipAttestations) {
  const json index{
      {"schemaVersion", 2},
      {"mediaType", kOciIndex},
      {"manifests",
       {{{"mediaType", kOciManifest},
         {"digest", digest_of("a")},
         {"size", 1},
         {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
        {{"mediaType", kOciManifest},
         {"digest", digest_of("b")},
         {"size", 1},
         {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}},
        {{"mediaType", kOciManifest},
         {"digest", digest_of("c")},
         {"size", 1},
         {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}},
         {"annotations", {{"vnd.docker.reference.type", "attestation-manifest"}}}}}}};
  fake.repositories["afu9/a"].tags["t"] = {index.dump(), ""};  // media type from the manifest
  auto results = make()->resolve({{"afu9/a", {"t"}, true}});
  const auto& tag = results.at(0).tags.at(0);
  ASSERT_EQ(tag.status, TagStatus::kFound);
  EXPECT_EQ(tag.media_type, kOciIndex);
  EXPECT_EQ(tag.platforms,
            (std::vector<Platform>{{"linux", "amd64", ""}, {"linux", "arm64", "v8"}}));
  EXPECT_EQ(fake.calls["GetDownloadUrlForLayer"], 0);
}

TEST_F(EcrRegistryTest, PlatformFromTheConfigBlobOnceperDigest) {
  add_repository("afu9/a", build_tags());
  auto results = make()->resolve({{"afu9/a", build_tags(), true}});
  for (const auto& tag : results.at(0).tags) {
    ASSERT_EQ(tag.status, TagStatus::kFound) << tag.error.message;
    EXPECT_EQ(tag.platforms, (std::vector<Platform>{{"linux", "amd64", ""}}));
  }
  ASSERT_EQ(fake.calls["GetDownloadUrlForLayer"], 1);
  const std::string config = config_blob("linux", "amd64");
  EXPECT_EQ(fake.bodies("GetDownloadUrlForLayer")[0]["layerDigest"], digest_of(config));
  ASSERT_EQ(fake.blob_http.sent.size(), 1u);
  EXPECT_EQ(fake.blob_http.sent[0].max_body_bytes, 1024u * 1024u);
  EXPECT_FALSE(aws::testing::has_header(fake.blob_http.sent[0], "Authorization"));
}

TEST_F(EcrRegistryTest, ConfigBlobProblemsAreErrorsThatHideThePresignedUrl) {
  const std::string config = config_blob("linux", "arm64");
  fake.repositories["afu9/a"].tags["t"] = {oci_manifest(config), kOciManifest};
  fake.blobs[digest_of(config)] = "tampered";
  auto registry = make();
  auto tag = registry->resolve({{"afu9/a", {"t"}, true}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "BAD_RESPONSE");
  EXPECT_EQ(tag.error.message, "config blob " + digest_of(config) +
                                   ": the config blob downloaded for " + digest_of(config) +
                                   " has another digest");

  fake.blob_http.handler = [](const http::Request&) {
    return aws::testing::respond(403, "denied");
  };
  tag = registry->resolve({{"afu9/a", {"t"}, true}}).at(0).tags.at(0);
  EXPECT_EQ(tag.error.code, "AUTH_FAILED");
  EXPECT_EQ(tag.error.message, "config blob " + digest_of(config) + ": download refused: HTTP 403");

  fake.blobs.clear();
  tag = registry->resolve({{"afu9/a", {"t"}, true}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.code, "AWS_ERROR");
  EXPECT_NE(tag.error.message.find("LayersNotFoundException"), std::string::npos);
  EXPECT_EQ(tag.error.message.find("s3cr3tsig"), std::string::npos);
}

TEST_F(EcrRegistryTest, UnknownMediaTypeFailsOnlyWhenPlatformsAreWanted) {
  fake.repositories["afu9/a"].tags["t"] = {
      R"({"schemaVersion":1,"name":"x"})",
      "application/vnd.docker.distribution.manifest.v1+prettyjws"};
  auto registry = make();
  auto tag = registry->resolve({{"afu9/a", {"t"}, false}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kFound);
  tag = registry->resolve({{"afu9/a", {"t"}, true}}).at(0).tags.at(0);
  EXPECT_EQ(tag.status, TagStatus::kError);
  EXPECT_EQ(tag.error.message,
            "manifest media type 'application/vnd.docker.distribution.manifest.v1+prettyjws' is "
            "none of the four accepted ones");
}

TEST_F(EcrRegistryTest, DescribeNamesTheRegistry) {
  EXPECT_EQ(make()->describe(), "ecr://eu-central-1");
  EXPECT_EQ(make("123456789012")->describe(),
            "ecr://123456789012.dkr.ecr.eu-central-1.amazonaws.com");
}

TEST_F(EcrRegistryTest, ImageStatusComesFromOneDescribeImagesPerRepository) {
  add_repository("afu9/a", build_tags());
  add_repository("afu9/b", build_tags());
  // afu9/b on its own image, so only its digest is archived.
  for (auto& [tag, image] : fake.repositories["afu9/b"].tags) {
    image.manifest = oci_manifest(config_blob("linux", "arm64"));
  }
  const std::string digest = digest_of(fake.repositories["afu9/b"].tags.begin()->second.manifest);
  fake.image_status[digest] = "ARCHIVED";
  auto results = make()->resolve({{"afu9/a", build_tags()}, {"afu9/b", build_tags()}});
  EXPECT_EQ(fake.calls["DescribeImages"], 2);
  auto bodies = fake.bodies("DescribeImages");
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[1]["imageIds"], json::array({{{"imageDigest", digest}}}));
  for (const auto& tag : results[0].tags) EXPECT_EQ(tag.image_status, "ACTIVE");
  for (const auto& tag : results[1].tags) {
    EXPECT_EQ(tag.status, TagStatus::kFound);
    EXPECT_EQ(tag.image_status, "ARCHIVED");
  }
}

TEST_F(EcrRegistryTest, AFailedDescribeImagesNeverPasses) {
  add_repository("afu9/a", {"t1"});
  fake.override_answer = [](const std::string& operation,
                            const json&) -> std::optional<http::Response> {
    if (operation != "DescribeImages") return std::nullopt;
    return testing::FakeEcr::error(400, "AccessDeniedException", "not allowed");
  };
  auto results = make()->resolve({{"afu9/a", {"t1"}}});
  ASSERT_EQ(results[0].tags.size(), 1u);
  EXPECT_EQ(results[0].tags[0].status, TagStatus::kError);
  EXPECT_EQ(results[0].tags[0].error.code, "AUTH_FAILED");
}

}  // namespace
}  // namespace imagegate::registry::ecr
