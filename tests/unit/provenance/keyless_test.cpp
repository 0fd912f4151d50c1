// Keyless verification of bundles made here (keyless_world.hpp): the trusted root, the
// certificate's facts, the bundle's verdict with each rule broken on its own, and the identity
// policy.
#include "provenance/keyless.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "manifest/manifest.hpp"
#include "unit/provenance/keyless_world.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using namespace testing;

TEST(Keyless, SetPayloadIsCanonicalJson) {
  EXPECT_EQ(set_payload("Ym9keQ==", 1700000000, "c0ffee", 42),
            R"({"body":"Ym9keQ==","integratedTime":1700000000,"logID":"c0ffee","logIndex":42})");
}

TEST(Keyless, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("2021-01-12T11:53:27.000Z"), 1610452407);
  EXPECT_EQ(parse_rfc3339("2021-01-12T11:53:27Z"), 1610452407);
  EXPECT_EQ(parse_rfc3339("2021-01-12T12:53:27+01:00"), 1610452407);
  EXPECT_FALSE(parse_rfc3339("2021-01-12 11:53:27"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(Keyless, TrustedRootIsParsed) {
  const World w;
  const auto root = parse_trusted_root(w.root_json().dump(), "root.json");
  ASSERT_TRUE(root) << root.error().message;
  ASSERT_EQ(root->certificate_authorities.size(), 1u);
  EXPECT_EQ(root->certificate_authorities[0].uri, "https://fulcio.test");
  EXPECT_EQ(root->certificate_authorities[0].valid.start, 1577836800);
  ASSERT_EQ(root->tlogs.size(), 1u);
  EXPECT_EQ(root->tlogs[0].log_id, w.log_id());
  EXPECT_EQ(root->tlogs[0].key.type, "ecdsa-p256");
}

TEST(Keyless, TrustedRootErrorsNameTheField) {
  const World w;
  const auto code_and = [](const Result<TrustedRoot>& r) {
    return r ? std::string("ok") : r.error().code + ": " + r.error().message;
  };
  EXPECT_EQ(code_and(parse_trusted_root("{", "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json is not a JSON object (Sigstore's "
            "trusted_root.json)");
  json j = w.root_json();
  j["certificateAuthorities"] = json::array();
  EXPECT_EQ(code_and(parse_trusted_root(j.dump(), "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json names no certificateAuthorities (Fulcio)");
  j = w.root_json();
  j["tlogs"] = json::array();
  j["timestampAuthorities"] = json::array();
  EXPECT_EQ(code_and(parse_trusted_root(j.dump(), "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json names no tlogs (Rekor) and no "
            "timestampAuthorities");
  j = w.root_json();
  j["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = "bm90IGEgY2VydA==";
  EXPECT_EQ(code_and(parse_trusted_root(j.dump(), "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json: "
            "certificateAuthorities[0].certChain.certificates[0].rawBytes is not a base64 DER "
            "certificate");
  j = w.root_json();
  j["tlogs"][0]["publicKey"]["validFor"]["start"] = "soon";
  EXPECT_EQ(code_and(parse_trusted_root(j.dump(), "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json: tlogs[0].publicKey.validFor.start is not "
            "an RFC 3339 time");
  j = w.root_json();
  j["mediaType"] = "application/json";
  EXPECT_EQ(code_and(parse_trusted_root(j.dump(), "r.json")),
            "TRUSTED_ROOT_INVALID: trusted root r.json: mediaType 'application/json' is not a "
            "Sigstore trusted root");
}

TEST(Keyless, TrustedRootFileMissing) {
  const auto root = load_trusted_root("/nonexistent/trusted_root.json");
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, "TRUSTED_ROOT_INVALID");
  EXPECT_EQ(root.error().message, "trusted root '/nonexistent/trusted_root.json' does not exist");
}

TEST(Keyless, FulcioExtensionsAreRead) {
  const World w;
  const KeyPair leaf_key = KeyPair::make("EC");
  const Cert leaf = make_cert(leaf_key, w.ca_key, w.ca.x509.get(), false, w.now, w.now + 600,
                              github_extensions());
  const auto facts = read_certificate(leaf.der());
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->subject, kSubject);
  EXPECT_EQ(facts->issuer, kIssuer);
  EXPECT_EQ(facts->source_repository, "https://github.com/afu9/afu9");
  EXPECT_EQ(facts->source_digest, kSha);
  EXPECT_EQ(facts->build_trigger, "push");
  EXPECT_EQ(facts->run_invocation, "https://github.com/afu9/afu9/actions/runs/42/attempts/1");
  EXPECT_EQ(facts->extensions.size(), 6u);
  EXPECT_EQ(facts->not_after - facts->not_before, 600);
  // Only the legacy issuer (.1, raw bytes): still read.
  const Cert legacy = make_cert(leaf_key, w.ca_key, w.ca.x509.get(), false, w.now, w.now + 600,
                                {{"1.3.6.1.4.1.57264.1.1", "https://legacy.example"}});
  EXPECT_EQ(read_certificate(legacy.der())->issuer, "https://legacy.example");
  EXPECT_FALSE(read_certificate("not a certificate"));
}

TEST(Keyless, ValidBundlePasses) {
  const World w;
  const auto v = check(w, {});
  EXPECT_TRUE(v.valid) << v.code << ": " << v.reason;
  EXPECT_EQ(v.kind, "dsseEnvelope");
  EXPECT_EQ(v.log_index, 7);
  EXPECT_EQ(v.integrated_time, w.now);
  EXPECT_EQ(v.certificate.source_digest, kSha);
  World::Options v01;
  v01.media_type = std::string(kBundleV01);
  EXPECT_TRUE(check(w, v01).valid);
  const std::vector<IdentityRule> regexp = {
      {kIssuer, "", "^https://github\\.com/afu9/afu9/\\.github/workflows/.*@refs/heads/main$"}};
  EXPECT_TRUE(check(w, {}, regexp).valid);
}

TEST(Keyless, AnotherWorkflowIsIdentityMismatch) {
  const World w;
  World::Options o;
  o.san = "https://github.com/afu9/afu9/.github/workflows/other.yml@refs/heads/main";
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "IDENTITY_MISMATCH");
  EXPECT_EQ(v.reason,
            "signed by subject "
            "'https://github.com/afu9/afu9/.github/workflows/other.yml@refs/heads/main' from "
            "issuer 'https://token.actions.githubusercontent.com'; the policy accepts issuer "
            "'https://token.actions.githubusercontent.com', subject "
            "'https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main'");
  const std::vector<IdentityRule> regexp = {{kIssuer, "", "^https://github\\.com/other/"}};
  EXPECT_EQ(check(w, {}, regexp).code, "IDENTITY_MISMATCH");
}

TEST(Keyless, AnotherIssuerIsIdentityMismatch) {
  const World w;
  World::Options o;
  o.extensions = github_extensions("https://accounts.google.com");
  EXPECT_EQ(check(w, o).code, "IDENTITY_MISMATCH");
}

TEST(Keyless, AnotherCommitIsCommitMismatch) {
  const World w;
  World::Options o;
  o.extensions = github_extensions(kIssuer, "fedcba9876543210fedcba9876543210fedcba98");
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "PROVENANCE_COMMIT_MISMATCH");
  EXPECT_EQ(v.reason,
            "the certificate names source commit 'fedcba9876543210fedcba9876543210fedcba98', but "
            "this build is 0123456789abcdef0123456789abcdef01234567");
}

TEST(Keyless, UntrustedCaIsSignatureInvalid) {
  const World w;
  const KeyPair other = KeyPair::make("EC");
  const Cert other_ca = make_cert(other, other, nullptr, true, w.now - 86400, w.now + 86400);
  World::Options o;
  o.ca_key = &other;
  o.ca_cert = other_ca.x509.get();
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_TRUE(v.reason.starts_with(
      "the certificate does not chain to a certificate authority of the trusted root"))
      << v.reason;
}

TEST(Keyless, ExpiredAtLogTimeIsSignatureInvalid) {
  const World w;
  World::Options o;
  o.cert_start_offset = -7200;  // valid for ten minutes two hours before the entry
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_TRUE(v.reason.starts_with("the certificate was not valid at the log's integrated time"))
      << v.reason;
}

TEST(Keyless, TamperedEntryIsTlogInvalid) {
  const World w;
  World::Options o;
  o.tamper_body = true;
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_EQ(v.reason, "entry 7: the signed entry timestamp does not verify with the log's key");
  World::Options no_set;
  no_set.drop_set = true;
  EXPECT_EQ(check(w, no_set).code, "TLOG_INVALID");
  // A log the root does not name.
  World other;
  const auto foreign = verify_bundle(w.root(), other.bundle({}), kDigest, kPolicy, kSha);
  EXPECT_EQ(foreign.code, "TLOG_INVALID");
  EXPECT_TRUE(foreign.reason.find("which the trusted root does not name") != std::string::npos);
}

TEST(Keyless, AnotherDigestIsSignatureInvalid) {
  const World w;
  World::Options o;
  o.subject_digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_EQ(v.reason, "the bundle's subject is sha256:222222222222, not this digest");
}

TEST(Keyless, NotABundle) {
  const World w;
  EXPECT_EQ(verify_bundle(w.root(), "[]", kDigest, kPolicy, kSha).code, "SIGNATURE_INVALID");
  World::Options o;
  o.media_type = "application/json";
  EXPECT_EQ(check(w, o).code, "SIGNATURE_INVALID");
}

// GitHub's attestations for private repositories: no log entry, an RFC 3161 timestamp.

TEST(Keyless, PolicyIdentitiesFromTheManifestAndTheCommandLine) {
  const auto parsed = manifest::parse(R"({
    "provenance": {"identities": [{"issuer": "https://token.actions.githubusercontent.com",
                                   "subject": "https://github.com/o/r/.github/workflows/a.yml@refs/heads/main"}]},
    "images": [{"id": "a", "name": "afu9/a"},
               {"id": "b", "name": "afu9/b", "provenance": {"identities": [
                 {"issuer": "https://accounts.google.com", "subjectRegExp": "^ci@"}]}}]})",
                                      "m.json");
  ASSERT_TRUE(parsed.has_value());
  const auto a = effective_policy(parsed->images[0], {}, "");
  EXPECT_TRUE(a.active);
  ASSERT_EQ(a.identities.size(), 1u);
  EXPECT_EQ(a.identities[0].issuer, kIssuer);
  EXPECT_EQ(a.identities[0].subject,
            "https://github.com/o/r/.github/workflows/a.yml@refs/heads/main");
  const auto b = effective_policy(parsed->images[1], {}, "");
  ASSERT_EQ(b.identities.size(), 1u);
  EXPECT_EQ(b.identities[0].subject_regexp, "^ci@");
  CliPolicy cli;
  cli.certificate_identity = kSubject;
  cli.certificate_oidc_issuer = kIssuer;
  const auto c = effective_policy(parsed->images[1], cli, "");
  ASSERT_EQ(c.identities.size(), 2u);
  EXPECT_EQ(c.identities[1].subject, kSubject);
  EXPECT_EQ(describe(c.identities[1]),
            "issuer 'https://token.actions.githubusercontent.com', subject "
            "'https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main'");
  manifest::Image plain;
  EXPECT_TRUE(effective_policy(plain, cli, "").declared);
}

}  // namespace
}  // namespace imagegate::provenance
