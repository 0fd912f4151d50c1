#include "gate/gate.hpp"

#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "util/embedded.hpp"

namespace imagegate::gate {
namespace {

using registry::RepositoryResult;
using registry::RepositoryStatus;
using registry::TagResult;
using registry::TagStatus;

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::vector<std::string> kTags = {"prod-full", "prod-short", "prod-latest"};

manifest::Manifest two_images(bool second_required = true) {
  manifest::Manifest m;
  m.path = "images-manifest.json";
  m.sha256 = std::string(64, '0');
  manifest::Image a;
  a.id = "a", a.name = "afu9/a", a.container = "a";
  manifest::Image b = a;
  b.id = "b", b.name = "afu9/b", b.container = "b", b.required = second_required;
  m.images = {a, b};
  return m;
}

RepositoryResult found(const std::string& repo, const std::string& digest) {
  RepositoryResult r{repo, RepositoryStatus::kExists, "reg/" + repo, {}, {}, {}};
  for (const auto& t : kTags) r.tags.push_back({t, TagStatus::kFound, digest, "m", {}, {}, {}});
  return r;
}

evidence::Evidence run(const manifest::Manifest& m, std::vector<RepositoryResult> results) {
  GateInput in;
  in.manifest = &m;
  in.env = "production";
  in.sha = std::string(40, 'f');
  in.registry = "test";
  in.tags = kTags;
  in.results = std::move(results);
  return evaluate(in);
}

std::vector<std::string> codes(const evidence::Evidence& e) {
  std::vector<std::string> out;
  for (const auto& f : e.findings) out.push_back(f.code);
  return out;
}

TEST(Gate, AllPresentPassesWithOneDigestPerImage) {
  const auto m = two_images();
  const auto e = run(m, {found("afu9/a", kA), found("afu9/b", kB)});
  EXPECT_EQ(e.verdict, "pass");
  EXPECT_TRUE(e.findings.empty());
  EXPECT_EQ(e.images[0].digest, kA);
  EXPECT_EQ(e.images[1].pinned_reference(), "reg/afu9/b@" + kB);
  EXPECT_EQ(e.images[1].status, "pass");
}

TEST(Gate, MissingTagFails) {
  const auto m = two_images();
  auto b = found("afu9/b", kB);
  b.tags[1].status = TagStatus::kMissing;
  const auto e = run(m, {found("afu9/a", kA), b});
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(codes(e), std::vector<std::string>{"TAG_MISSING"});
  EXPECT_EQ(e.findings[0].subject, "prod-short");
  EXPECT_EQ(e.images[1].status, "fail");
  EXPECT_TRUE(e.images[1].digest.empty());  // nothing to pin from a failed image
}

TEST(Gate, TagsOnDifferentDigestsAreAMismatchListingEachTag) {
  const auto m = two_images();
  auto a = found("afu9/a", kA);
  a.tags[2].digest = kB;
  const auto e = run(m, {a, found("afu9/b", kB)});
  ASSERT_EQ(codes(e), std::vector<std::string>{"DIGEST_MISMATCH"});
  EXPECT_EQ(e.findings[0].message,
            "the tags of one build name 2 different digests: prod-full -> sha256:aaaaaaaaaaaa, "
            "prod-short -> sha256:aaaaaaaaaaaa, prod-latest -> sha256:bbbbbbbbbbbb");
}

TEST(Gate, MissingRepositoryFailsARequiredImage) {
  const auto m = two_images();
  const auto e =
      run(m, {found("afu9/a", kA), {"afu9/b", RepositoryStatus::kMissing, "", {}, {}, {}}});
  EXPECT_EQ(codes(e), std::vector<std::string>{"REPOSITORY_MISSING"});
  EXPECT_EQ(e.verdict, "fail");
}

TEST(Gate, OptionalImageMissingIsAWarning) {
  const auto m = two_images(false);
  const auto e =
      run(m, {found("afu9/a", kA), {"afu9/b", RepositoryStatus::kMissing, "", {}, {}, {}}});
  EXPECT_EQ(e.verdict, "pass");
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_EQ(e.findings[0].severity, findings::Severity::kWarning);
  EXPECT_EQ(e.images[1].status, "absent");

  auto none = found("afu9/b", kB);
  for (auto& t : none.tags) t.status = TagStatus::kMissing;
  EXPECT_EQ(run(m, {found("afu9/a", kA), none}).verdict, "pass");
}

TEST(Gate, OptionalImagePartlyPresentMustBeConsistent) {
  const auto m = two_images(false);
  auto b = found("afu9/b", kB);
  b.tags[0].status = TagStatus::kMissing;
  const auto e = run(m, {found("afu9/a", kA), b});
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(codes(e), std::vector<std::string>{"TAG_MISSING"});
}

TEST(Gate, ErrorsNeverPass) {
  const auto m = two_images(false);
  auto b = found("afu9/b", kB);
  b.tags[2].status = TagStatus::kError;
  b.tags[2].error = {"UNREACHABLE", "connection refused"};
  auto e = run(m, {found("afu9/a", kA), b});
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(codes(e), std::vector<std::string>{"UNREACHABLE"});

  RepositoryResult denied{"afu9/a", RepositoryStatus::kError, "", {}, {"AUTH_FAILED", "401"}, {}};
  e = run(m, {denied, found("afu9/b", kB)});
  EXPECT_EQ(codes(e), std::vector<std::string>{"AUTH_FAILED"});
  EXPECT_EQ(e.verdict, "fail");

  // Fewer answers than images: the unanswered image fails.
  e = run(m, {found("afu9/a", kA)});
  EXPECT_EQ(e.verdict, "fail");

  // An answer without any tag is not a pass either.
  RepositoryResult empty{"afu9/a", RepositoryStatus::kExists, "", {}, {}, {}};
  EXPECT_EQ(run(m, {empty, found("afu9/b", kB)}).verdict, "fail");
}

TEST(Gate, PlatformsMustAllBeProvided) {
  auto m = two_images();
  m.images[0].platforms = {"linux/amd64", "linux/arm64"};
  auto a = found("afu9/a", kA);
  for (auto& t : a.tags) t.platforms = {{"linux", "amd64", ""}};
  const auto e = run(m, {a, found("afu9/b", kB)});
  ASSERT_EQ(codes(e), std::vector<std::string>{"PLATFORM_MISSING"});
  EXPECT_EQ(e.findings[0].subject, "linux/arm64");
  EXPECT_EQ(e.findings[0].message,
            "platform linux/arm64 is not provided by sha256:aaaaaaaaaaaa; found: linux/amd64");

  for (auto& t : a.tags) t.platforms = {{"linux", "amd64", ""}, {"linux", "arm64", "v8"}};
  EXPECT_EQ(run(m, {a, found("afu9/b", kB)}).verdict, "pass");
}

TEST(Gate, ChildChecksThatFailAreFindingsOfTheirPlatform) {
  auto m = two_images();
  m.images[0].platforms = {"linux/amd64", "linux/arm64"};
  auto a = found("afu9/a", kA);
  const registry::Platform amd{"linux", "amd64", ""};
  const registry::Platform arm{"linux", "arm64", ""};
  for (auto& t : a.tags) {
    t.platforms = {amd, arm};
    t.children = {{amd, {kB, "m", amd}, amd, {}},
                  {arm, {kB, "m", arm}, {}, {"CHILD_MISSING", "child manifest x is not there"}}};
  }
  auto e = run(m, {a, found("afu9/b", kB)});
  ASSERT_EQ(codes(e), std::vector<std::string>{"CHILD_MISSING"});
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(e.findings[0].subject, "linux/arm64");
  EXPECT_EQ(e.findings[0].message,
            "platform linux/arm64 of sha256:aaaaaaaaaaaa: child manifest x is not there");
  for (auto& t : a.tags) t.children[1].error = {"PLATFORM_MISMATCH", "it lies"};
  e = run(m, {a, found("afu9/b", kB)});
  EXPECT_EQ(codes(e), std::vector<std::string>{"PLATFORM_MISMATCH"});
  EXPECT_EQ(e.images[0].digest, "");
}

TEST(Gate, AnArchivedImageIsNotPullable) {
  const auto m = two_images(false);
  auto a = found("afu9/a", kA);
  auto b = found("afu9/b", kB);
  for (auto& t : a.tags) t.image_status = "ARCHIVED";
  for (auto& t : b.tags) t.image_status = "ARCHIVED";
  const auto e = run(m, {a, b});
  ASSERT_EQ(codes(e), (std::vector<std::string>{"IMAGE_NOT_PULLABLE", "IMAGE_NOT_PULLABLE"}));
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(e.findings[0].severity, findings::Severity::kError);
  EXPECT_EQ(e.findings[0].message,
            "sha256:aaaaaaaaaaaa in 'afu9/a' cannot be pulled: its imageStatus is ARCHIVED, not "
            "ACTIVE (restore it with UpdateImageStorageClass)");
  // The optional image: a warning.
  EXPECT_EQ(e.findings[1].severity, findings::Severity::kWarning);
  for (auto& t : a.tags) t.image_status = "ACTIVE";
  EXPECT_EQ(run(m, {a, found("afu9/b", kB)}).verdict, "pass");
}

TEST(Gate, WarningsFromTheBackendAreKept) {
  const auto m = two_images();
  auto a = found("afu9/a", kA);
  a.warnings.push_back({"TAG_MUTABLE", "repository is MUTABLE"});
  const auto e = run(m, {a, found("afu9/b", kB)});
  EXPECT_EQ(e.verdict, "pass");
  EXPECT_EQ(codes(e), std::vector<std::string>{"TAG_MUTABLE"});
}

TEST(Gate, QueriesAskForPlatformsOnlyWhereRequired) {
  auto m = two_images();
  m.images[1].platforms = {"linux/amd64"};
  const auto q = build_queries(m, kTags);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_FALSE(q[0].want_platforms);
  EXPECT_TRUE(q[1].want_platforms);
  EXPECT_EQ(q[1].platforms, (std::vector<registry::Platform>{{"linux", "amd64", ""}}));
  EXPECT_EQ(q[1].tags, kTags);
}

TEST(Gate, EvidenceRoundTrips) {
  const auto m = two_images();
  const auto e = run(m, {found("afu9/a", kA), found("afu9/b", kB)});
  const auto back = evidence::from_json(evidence::to_json(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->images[1].digest, kB);
  EXPECT_EQ(back->verdict, "pass");
  EXPECT_EQ(back->manifest_sha256, m.sha256);
  EXPECT_EQ(evidence::from_json(nlohmann::json{{"schemaVersion", 9}}).error().code,
            "EVIDENCE_INVALID");
}

// The evidence a gate writes (passing and failing) validates against schema/evidence.schema.json.
TEST(Gate, EvidenceMatchesItsSchema) {
  const auto schema_doc = nlohmann::json::parse(embedded::schemas().at("evidence.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  const auto m = two_images(false);
  auto a = found("afu9/a", kA);
  a.tags[0].status = TagStatus::kMissing;
  for (const auto& e : {run(m, {found("afu9/a", kA), found("afu9/b", kB)}),
                        run(m, {a, {"afu9/b", RepositoryStatus::kMissing, "", {}, {}, {}}})}) {
    const auto doc = evidence::to_json(e);
    valijson::Validator validator;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    EXPECT_TRUE(validator.validate(schema, target, nullptr)) << doc.dump(2);
  }
  // And the schema can fail: a document without a verdict is rejected.
  auto bad = evidence::to_json(run(m, {found("afu9/a", kA), found("afu9/b", kB)}));
  bad.erase("verdict");
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(bad);
  EXPECT_FALSE(validator.validate(schema, target, nullptr));
}

// A skipped gate (SKIP_IMAGE_GATE) and the images conditionalOn left out are in the schema, and
// survive a round trip (pin reads them back).
TEST(Gate, SkippedAndExcludedEvidence) {
  const auto schema_doc = nlohmann::json::parse(embedded::schemas().at("evidence.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  auto e = run(two_images(), {found("afu9/a", kA), found("afu9/b", kB)});
  e.verdict = "skipped";
  for (auto& image : e.images) image.status = "skipped", image.digest.clear();
  e.excluded.push_back({"c", "c", "conditionalOn.environments is 'production', not 'staging'"});
  e.features = {"enableX"};
  e.version = "1.2.3";
  const auto doc = evidence::to_json(e);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  EXPECT_TRUE(validator.validate(schema, target, nullptr)) << doc.dump(2);
  const auto back = evidence::from_json(doc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->verdict, "skipped");
  ASSERT_EQ(back->excluded.size(), 1u);
  EXPECT_EQ(back->excluded[0].reason, e.excluded[0].reason);
  EXPECT_EQ(back->features, e.features);
  EXPECT_EQ(back->version, "1.2.3");
  auto unknown = doc;
  unknown["verdict"] = "bypassed";
  EXPECT_FALSE(evidence::from_json(unknown));
}

}  // namespace
}  // namespace imagegate::gate
