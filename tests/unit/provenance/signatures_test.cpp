#include <gtest/gtest.h>

#include "provenance/discovery.hpp"
#include "unit/provenance/content_registry.hpp"
#include "unit/provenance/signing.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using testing::base64;
using testing::ContentRegistry;
using testing::KeyPair;

const std::string kRepo = "afu9/a";
const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

std::string payload(const std::string& digest, const std::string& reference) {
  return json{{"critical",
               {{"identity", {{"docker-reference", reference}}},
                {"image", {{"docker-manifest-digest", digest}}},
                {"type", "cosign container image signature"}}},
              {"optional", nullptr}}
      .dump();
}

// A cosign signature manifest (optionally the referrers form, with a subject) stored in reg.
std::string put_signature(ContentRegistry& reg, const KeyPair& key,
                          const std::string& signed_digest, const std::string& subject = "",
                          const std::string& reference = kRepo) {
  const std::string body = payload(signed_digest, reference);
  const std::string layer = reg.put(kRepo, body);
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", registry::kOciManifest},
      {"config",
       {{"mediaType", "application/vnd.oci.empty.v1+json"},
        {"digest", reg.put(kRepo, "{}")},
        {"size", 2}}},
      {"layers",
       {{{"mediaType", kSimpleSigning},
         {"digest", layer},
         {"size", body.size()},
         {"annotations", {{std::string(kSignatureAnnotation), base64(key.sign(body))}}}}}}};
  if (!subject.empty()) manifest["subject"] = {{"digest", subject}, {"size", 1}};
  return reg.put(kRepo, manifest.dump());
}

std::vector<std::string> codes(const evidence::ImageEvidence& image) {
  std::vector<std::string> out;
  for (const auto& f : image.findings) out.push_back(f.code);
  return out;
}

evidence::ImageEvidence judge(ContentRegistry& reg, const std::string& digest,
                              const std::vector<PublicKey>& keys, Policy policy = {}) {
  policy.signatures_required = true;
  const auto found = discover(reg, {{kRepo, digest, !policy.attestations.empty()}});
  evidence::ImageEvidence out;
  out.provenance.digest = digest;
  judge_signatures(policy, keys, found.at(0), kSha, kRepo, "a", out);
  return out;
}

std::string hex(const std::string& digest) {
  return digest.substr(7);
}

TEST(Discovery, CosignSigTagWhenTheRegistryHasNoReferrersApi) {
  ContentRegistry reg;
  const auto ours = KeyPair::make("EC");
  const auto digest = reg.put_image(kRepo, kSha);
  const auto sig = put_signature(reg, ours, digest);
  reg.content[{kRepo, "sha256-" + hex(digest) + ".sig"}] = reg.content[{kRepo, sig}];
  const auto out = judge(reg, digest, {ours.public_key()});
  EXPECT_TRUE(out.findings.empty()) << out.findings.at(0).message;
  ASSERT_EQ(out.provenance.signatures.size(), 1u);
  EXPECT_EQ(out.provenance.signatures[0].where, "tag sha256-" + hex(digest) + ".sig");
  EXPECT_EQ(out.provenance.signatures[0].key_fingerprint, ours.public_key().fingerprint);
  // Another key: invalid, not missing.
  const auto other = judge(reg, digest, {KeyPair::make("EC").public_key()});
  EXPECT_EQ(codes(other), std::vector<std::string>{"SIGNATURE_INVALID"});
}

TEST(Discovery, TheReferrersApiAndTheReferrersTagSchema) {
  ContentRegistry reg;
  const auto ours = KeyPair::make("ED25519");
  const auto digest = reg.put_image(kRepo, kSha);
  const auto referrer = put_signature(reg, ours, digest, digest);
  const json index = {{"schemaVersion", 2},
                      {"mediaType", registry::kOciIndex},
                      {"manifests",
                       {{{"mediaType", registry::kOciManifest},
                         {"digest", referrer},
                         {"size", 1},
                         {"artifactType", "application/vnd.dev.cosign.artifact.sig.v1+json"}}}}};
  // The tag schema (the memory registry answers the referrers API "unsupported").
  reg.content[{kRepo, "sha256-" + hex(digest)}] = index.dump();
  auto out = judge(reg, digest, {ours.public_key()});
  ASSERT_EQ(out.provenance.signatures.size(), 1u)
      << (out.findings.empty() ? "" : out.findings[0].message);
  EXPECT_EQ(out.provenance.signatures[0].where, "referrers tag sha256-" + hex(digest));
  // The referrers API, when the registry has one.
  ContentRegistry api = reg;
  api.content.erase({kRepo, "sha256-" + hex(digest)});
  api.referrers[digest] = index.dump();
  out = judge(api, digest, {ours.public_key()});
  ASSERT_EQ(out.provenance.signatures.size(), 1u);
  EXPECT_EQ(out.provenance.signatures[0].where, "referrers API");
}

TEST(Discovery, NoSignatureIsMissingOnlyWhenEverySourceAnswered) {
  ContentRegistry reg;
  const auto key = KeyPair::make("EC").public_key();
  const auto digest = reg.put_image(kRepo, kSha);
  const auto missing = judge(reg, digest, {key});
  ASSERT_EQ(codes(missing), std::vector<std::string>{"SIGNATURE_MISSING"});
  EXPECT_NE(missing.findings[0].message.find("looked in: tag sha256-"), std::string::npos);
  // The .sig tag read fails: unverifiable, never missing.
  reg.errors[{kRepo, "sha256-" + hex(digest) + ".sig"}] = Error{"UNREACHABLE", "HTTP 503"};
  const auto failed = judge(reg, digest, {key});
  ASSERT_EQ(codes(failed), std::vector<std::string>{"SIGNATURE_UNVERIFIABLE"});
  EXPECT_NE(failed.findings[0].message.find("HTTP 503"), std::string::npos);
  // The referrers call fails.
  ContentRegistry api;
  const auto d2 = api.put_image(kRepo, kSha);
  api.referrer_error = Error{"UNREACHABLE", "referrers: HTTP 500"};
  EXPECT_EQ(codes(judge(api, d2, {key})), std::vector<std::string>{"SIGNATURE_UNVERIFIABLE"});
}

TEST(Discovery, SignaturesForAnotherDigestOrRepositoryAreInvalid) {
  ContentRegistry reg;
  const auto ours = KeyPair::make("RSA");
  const auto digest = reg.put_image(kRepo, kSha);
  const auto other = reg.put_image(kRepo, "other");
  reg.content[{kRepo, "sha256-" + hex(digest) + ".sig"}] =
      reg.content[{kRepo, put_signature(reg, ours, other)}];
  auto out = judge(reg, digest, {ours.public_key()});
  ASSERT_EQ(codes(out), std::vector<std::string>{"SIGNATURE_INVALID"});
  EXPECT_NE(out.findings[0].message.find("the signature is for digest '" + other),
            std::string::npos);
  reg.content[{kRepo, "sha256-" + hex(digest) + ".sig"}] =
      reg.content[{kRepo, put_signature(reg, ours, digest, "", "registry.example/afu9/b")}];
  out = judge(reg, digest, {ours.public_key()});
  ASSERT_EQ(codes(out), std::vector<std::string>{"SIGNATURE_INVALID"});
  EXPECT_NE(out.findings[0].message.find("repository 'registry.example/afu9/b'"),
            std::string::npos);
}

}  // namespace
}  // namespace imagegate::provenance
