#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "provenance/provenance.hpp"
#include "unit/provenance/content_registry.hpp"
#include "util/embedded.hpp"

namespace imagegate::provenance {
namespace {

using testing::ContentRegistry;

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
const std::string kOld = "fedcba9876543210fedcba9876543210fedcba98";
const std::string kRepo = "afu9/a";

std::vector<std::string> codes(const evidence::ImageEvidence& image) {
  std::vector<std::string> out;
  for (const auto& f : image.findings)
    out.push_back(std::string(to_string(f.severity)) + " " + f.code);
  return out;
}

evidence::ImageEvidence judge(ContentRegistry& reg, const std::string& digest, RevisionMode mode,
                              std::vector<std::string> platforms = {}) {
  const auto facts = read_revisions(reg, {{kRepo, digest, std::move(platforms)}});
  evidence::ImageEvidence out;
  out.id = "a";
  judge_revision(mode, kSha, facts.at(0), "a", out);
  return out;
}

TEST(Revision, LabelEqualToTheShaPasses) {
  ContentRegistry reg;
  const auto digest = reg.put_image(kRepo, kSha);
  const auto out = judge(reg, digest, RevisionMode::kRequired);
  EXPECT_TRUE(out.findings.empty());
  EXPECT_EQ(out.provenance.revision, kSha);
  ASSERT_EQ(out.provenance.revisions.size(), 1u);
  EXPECT_EQ(out.provenance.revisions[0].where, "config label");
  EXPECT_EQ(reg.batches, 2);  // the manifest, then its config (no index: no second batch)
  EXPECT_EQ(reg.requests_seen, 2);
}

TEST(Revision, AnotherRevisionIsAMismatchNamingBoth) {
  ContentRegistry reg;
  const auto out = judge(reg, reg.put_image(kRepo, kOld), RevisionMode::kIfPresent);
  ASSERT_EQ(codes(out), std::vector<std::string>{"error REVISION_MISMATCH"});
  EXPECT_EQ(out.findings[0].subject, "revision");
  EXPECT_EQ(out.findings[0].message,
            "the config label (org.opencontainers.image.revision) names revision '" + kOld +
                "', but this build is " + kSha);
  EXPECT_TRUE(out.provenance.revision.empty());
}

TEST(Revision, TheManifestAnnotationCountsAndMustAgree) {
  ContentRegistry reg;
  EXPECT_TRUE(judge(reg, reg.put_image(kRepo, "", kSha), RevisionMode::kRequired).findings.empty());
  const auto out = judge(reg, reg.put_image(kRepo, kSha, kOld), RevisionMode::kRequired);
  ASSERT_EQ(codes(out), std::vector<std::string>{"error REVISION_MISMATCH"});
  EXPECT_NE(out.findings[0].message.find("manifest annotation"), std::string::npos);
}

TEST(Revision, AbsentIsAWarningIfPresentAndAnErrorWhenRequired) {
  ContentRegistry reg;
  const auto digest = reg.put_image(kRepo, "");
  const auto lenient = judge(reg, digest, RevisionMode::kIfPresent);
  ASSERT_EQ(codes(lenient), std::vector<std::string>{"warning REVISION_MISSING"});
  EXPECT_EQ(lenient.findings[0].message,
            "the image has no org.opencontainers.image.revision label or annotation; it cannot "
            "be tied to a commit (revision: if-present)");
  const auto strict = judge(reg, digest, RevisionMode::kRequired);
  ASSERT_EQ(codes(strict), std::vector<std::string>{"error REVISION_MISSING"});
}

TEST(Revision, OffReadsNothingAndJudgesNothing) {
  evidence::ImageEvidence out;
  judge_revision(RevisionMode::kOff, kSha, RevisionFacts{{{"config label", kOld}}, {"x"}, {}}, "a",
                 out);
  EXPECT_TRUE(out.findings.empty());
  EXPECT_EQ(out.provenance.revision_policy, "off");
}

TEST(Revision, AnIndexReadsEachRequiredPlatformImage) {
  ContentRegistry reg;
  const auto amd = reg.put_image(kRepo, kSha, "", "amd64");
  const auto arm = reg.put_image(kRepo, kOld, "", "arm64");
  const auto s390 = reg.put_image(kRepo, "", "", "s390x");
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", registry::kOciIndex},
                          {"manifests",
                           {{{"mediaType", registry::kOciManifest},
                             {"digest", amd},
                             {"size", 1},
                             {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                            {{"mediaType", registry::kOciManifest},
                             {"digest", arm},
                             {"size", 1},
                             {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                            {{"mediaType", registry::kOciManifest},
                             {"digest", s390},
                             {"size", 1},
                             {"platform", {{"os", "linux"}, {"architecture", "s390x"}}}}}}};
  const auto digest = reg.put(kRepo, index.dump());
  // Only amd64 required: the stale arm64 image is not read.
  EXPECT_TRUE(judge(reg, digest, RevisionMode::kRequired, {"linux/amd64"}).findings.empty());
  const auto both = judge(reg, digest, RevisionMode::kRequired, {"linux/amd64", "linux/arm64"});
  ASSERT_EQ(codes(both), std::vector<std::string>{"error REVISION_MISMATCH"});
  EXPECT_NE(both.findings[0].message.find("config label of linux/arm64 (sha256:"),
            std::string::npos);
  // No platforms required: every platform image; s390x has none.
  const auto all = judge(reg, digest, RevisionMode::kIfPresent);
  EXPECT_EQ(codes(all),
            (std::vector<std::string>{"error REVISION_MISMATCH", "warning REVISION_MISSING"}));
  // The index's own annotation names the revision for images without one.
  index["annotations"] = {{"org.opencontainers.image.revision", kSha}};
  const auto annotated = reg.put(kRepo, index.dump());
  const auto with_index = judge(reg, annotated, RevisionMode::kRequired, {"linux/s390x"});
  EXPECT_TRUE(with_index.findings.empty());
  EXPECT_EQ(with_index.provenance.revisions[0].where, "index annotation");
}

TEST(Revision, WhatCannotBeReadIsAnErrorNeverMissing) {
  ContentRegistry reg;
  const auto digest = reg.put_image(kRepo, kSha);
  reg.errors[{kRepo, reg.last_config}] = Error{"UNREACHABLE", "registry answered HTTP 503"};
  const auto out = judge(reg, digest, RevisionMode::kIfPresent);
  ASSERT_EQ(codes(out), std::vector<std::string>{"error UNREACHABLE"});
  EXPECT_EQ(out.findings[0].message,
            "the revision could not be read: config blob: registry answered HTTP 503");
  // The manifest itself missing by digest: BAD_RESPONSE, not "no revision".
  ContentRegistry empty;
  const auto gone = judge(empty, "sha256:" + std::string(64, 'e'), RevisionMode::kIfPresent);
  EXPECT_EQ(codes(gone), std::vector<std::string>{"error BAD_RESPONSE"});
}

manifest::Manifest one_image(const nlohmann::json& provenance) {
  manifest::Manifest m;
  m.path = "dir/images-manifest.json";
  manifest::Image image;
  image.id = "a";
  image.name = kRepo;
  if (!provenance.is_null()) {
    auto parsed = manifest::parse(
        nlohmann::json{{"provenance", provenance}, {"images", {{{"id", "a"}, {"name", kRepo}}}}}
            .dump(),
        m.path);
    image.provenance = parsed->images.at(0).provenance;
  }
  m.images = {image};
  return m;
}

evidence::Evidence passing(const std::string& digest) {
  evidence::Evidence e;
  e.tool = "t";
  e.manifest_path = "dir/images-manifest.json";
  e.manifest_sha256 = std::string(64, '0');
  e.env = "production";
  e.sha = kSha;
  e.registry = "memory";
  e.time = "2026-01-01T00:00:00Z";
  e.verdict = "pass";
  evidence::ImageEvidence image;
  image.id = "a";
  image.repository = kRepo;
  image.repository_uri = kRepo;
  image.status = "pass";
  image.digest = digest;
  image.tags = {{"prod-" + kSha, "found", digest, ""}};
  e.images = {image};
  return e;
}

TEST(Check, WithoutAPolicyTheRevisionIsCheckedIfPresent) {
  ContentRegistry reg;
  auto e = passing(reg.put_image(kRepo, kOld));
  check(reg, one_image(nullptr), {}, {}, e);
  EXPECT_TRUE(e.images[0].provenance.checked);
  EXPECT_EQ(e.images[0].provenance.revision_policy, "if-present");
  EXPECT_EQ(e.verdict, "fail");
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_EQ(e.findings[0].code, "REVISION_MISMATCH");

  ContentRegistry unlabelled;
  auto u = passing(unlabelled.put_image(kRepo, ""));
  check(unlabelled, one_image(nullptr), {}, {}, u);
  EXPECT_EQ(u.verdict, "pass");
  ASSERT_EQ(u.findings.size(), 1u);
  EXPECT_EQ(u.findings[0].code, "REVISION_MISSING");
  EXPECT_EQ(u.findings[0].severity, findings::Severity::kWarning);
}

TEST(Check, RevisionOffReadsNothing) {
  ContentRegistry reg;
  auto e = passing(reg.put_image(kRepo, kOld));
  check(reg, one_image(nullptr), CliPolicy{{}, {}, "off"}, {}, e);
  EXPECT_EQ(reg.batches, 0);
  EXPECT_FALSE(e.images[0].provenance.checked);
  EXPECT_EQ(e.verdict, "pass");
  auto policy_off = passing(reg.put_image(kRepo, kOld));
  check(reg, one_image({{"revision", "off"}}), {}, {}, policy_off);
  EXPECT_EQ(reg.batches, 0);
  EXPECT_EQ(policy_off.verdict, "pass");
}

TEST(Check, WithoutAShaTheDefaultCheckIsLeftOut) {
  ContentRegistry reg;
  auto e = passing(reg.put_image(kRepo, kOld));
  e.sha.clear();  // a semantic-version deploy
  check(reg, one_image(nullptr), {}, {}, e);
  EXPECT_EQ(reg.batches, 0);
  EXPECT_EQ(e.verdict, "pass");
}

TEST(Check, ManifestsResolveReadAreNotAskedForAgain) {
  ContentRegistry reg;
  const auto digest = reg.put_image(kRepo, kSha);
  auto e = passing(digest);
  registry::RepositoryResult resolved;
  resolved.repository = kRepo;
  registry::TagResult tag;
  tag.tag = "prod-" + kSha;
  tag.status = registry::TagStatus::kFound;
  tag.digest = digest;
  tag.manifest = reg.content.at({kRepo, digest});
  resolved.tags = {tag};
  check(reg, one_image(nullptr), {}, {resolved}, e);
  EXPECT_EQ(e.verdict, "pass");
  EXPECT_EQ(e.images[0].provenance.revision, kSha);
  EXPECT_EQ(reg.requests_seen, 1);  // the config blob only

  // Bytes that do not hash to the digest are not used: the registry is asked.
  ContentRegistry again;
  const auto d2 = again.put_image(kRepo, kSha);
  auto e2 = passing(d2);
  resolved.tags[0].digest = d2;
  resolved.tags[0].manifest = "{}";
  check(again, one_image(nullptr), {}, {resolved}, e2);
  EXPECT_EQ(e2.verdict, "pass");
  EXPECT_EQ(again.requests_seen, 2);
}

TEST(WantManifests, OnlyImagesWhoseRevisionIsRead) {
  auto m = one_image(nullptr);
  std::vector<registry::TagQuery> queries(1);
  want_manifests(m, {}, kSha, queries);
  EXPECT_TRUE(queries[0].want_manifest);
  want_manifests(m, CliPolicy{{}, {}, "off"}, kSha, queries);
  EXPECT_FALSE(queries[0].want_manifest);
  want_manifests(m, {}, "", queries);
  EXPECT_FALSE(queries[0].want_manifest);
}

TEST(Check, AStaleImageFailsTheGateAndIsNotPinnable) {
  ContentRegistry reg;
  const auto digest = reg.put_image(kRepo, kOld);
  auto e = passing(digest);
  check(reg, one_image({{"revision", "if-present"}}), {}, {}, e);
  EXPECT_EQ(e.verdict, "fail");
  EXPECT_EQ(e.images[0].status, "fail");
  EXPECT_TRUE(e.images[0].digest.empty());
  EXPECT_EQ(e.images[0].provenance.status, "fail");
  EXPECT_EQ(e.images[0].provenance.digest, digest);
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_EQ(e.findings[0].code, "REVISION_MISMATCH");

  // The evidence validates against its schema and reads back.
  const auto doc = evidence::to_json(e);
  const auto schema_doc = nlohmann::json::parse(embedded::schemas().at("evidence.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  EXPECT_TRUE(validator.validate(schema, target, nullptr)) << doc.dump(2);
  const auto back = evidence::from_json(doc);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->images[0].provenance.status, "fail");
  EXPECT_EQ(back->images[0].provenance.revisions.at(0).value, kOld);
}

TEST(Check, TheCommandLineTurnsThePolicyOn) {
  ContentRegistry reg;
  auto e = passing(reg.put_image(kRepo, kSha));
  check(reg, one_image(nullptr), CliPolicy{{}, {}, "required"}, {}, e);
  EXPECT_EQ(e.verdict, "pass");
  EXPECT_EQ(e.images[0].provenance.revision, kSha);
  EXPECT_EQ(e.images[0].provenance.revision_policy, "required");
}

TEST(Policy, ImageFieldsReplaceTheDefaultAndKeysRequireSignatures) {
  const auto parsed = manifest::parse(R"({
    "provenance": {"revision": "required", "signatures": {"keys": ["keys/a.pub"]}},
    "images": [{"id": "a", "name": "afu9/a"},
               {"id": "b", "name": "afu9/b", "provenance": {"revision": "off",
                 "attestations": [{"predicateType": "https://slsa.dev/provenance/v1"}]}}]})",
                                      "m.json");
  ASSERT_TRUE(parsed.has_value());
  const auto a = effective_policy(parsed->images[0], {}, "base");
  EXPECT_TRUE(a.active);
  EXPECT_EQ(a.revision, RevisionMode::kRequired);
  EXPECT_TRUE(a.signatures_required);
  ASSERT_EQ(a.keys.size(), 1u);
  EXPECT_EQ(a.keys[0], std::filesystem::path("base/keys/a.pub"));
  const auto b = effective_policy(parsed->images[1], {}, "base");
  EXPECT_EQ(b.revision, RevisionMode::kOff);
  EXPECT_EQ(b.keys.size(), 1u);  // the default's signatures stay
  ASSERT_EQ(b.attestations.size(), 1u);
  EXPECT_TRUE(b.attestations[0].required);

  manifest::Image plain;
  // No policy anywhere: the default revision check (if-present) still applies.
  const auto none = effective_policy(plain, {}, "");
  EXPECT_TRUE(none.active);
  EXPECT_FALSE(none.declared);
  EXPECT_EQ(none.revision, RevisionMode::kIfPresent);
  EXPECT_FALSE(effective_policy(plain, {{}, {}, "off"}, "").active);
  const auto cli = effective_policy(plain, {{"k.pub"}, {"https://slsa.dev/provenance/v1"}, ""}, "");
  EXPECT_TRUE(cli.active);
  EXPECT_TRUE(cli.signatures_required);
  EXPECT_EQ(cli.revision, RevisionMode::kIfPresent);
  EXPECT_THROW(effective_policy(plain, {{}, {}, "sometimes"}, ""), UsageError);
}

}  // namespace
}  // namespace imagegate::provenance
