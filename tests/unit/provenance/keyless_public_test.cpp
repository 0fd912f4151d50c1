// Keyless verification of a bundle the public-good Sigstore made (tests/data/sigstore-public:
// sigstore-python's test assets, Apache-2.0): a real Fulcio certificate with its SCT, a real
// Rekor entry with its signed entry timestamp, inclusion proof and checkpoint, checked offline
// against the public-good trusted root. Each rule is then broken on a copy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "provenance/keyless.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;

const std::filesystem::path kDir = std::filesystem::path(IMAGEGATE_TEST_DATA) / "sigstore-public";
const std::string kDigest =
    "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
const std::string kSha = "d8b4a6445f38c48b9137a8099706d9b8073146e4";
const IdentityRule kIdentity{
    "https://token.actions.githubusercontent.com",
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2", ""};

std::string read(const std::string& name) {
  std::ifstream in(kDir / name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TrustedRoot root_of(const std::string& text) {
  auto root = parse_trusted_root(text, "trusted_root.json");
  EXPECT_TRUE(root) << root.error().message;
  return root ? *root : TrustedRoot{};
}

BundleVerdict verify(const std::string& bundle, const TrustedRoot& root,
                     const std::string& digest = kDigest, const IdentityRule& rule = kIdentity,
                     const std::string& sha = kSha) {
  return verify_bundle(root, bundle, digest, {rule}, sha);
}

TEST(KeylessPublic, GitHubActionsBundleVerifiesOffline) {
  const auto root = root_of(read("trusted_root.json"));
  const auto v = verify(read("bundle_v3_github.whl.sigstore"), root);
  ASSERT_TRUE(v.valid) << v.code << ": " << v.reason;
  EXPECT_EQ(v.kind, "messageSignature");
  EXPECT_EQ(v.log_index, 79605083);
  EXPECT_EQ(v.integrated_time, 1710888076);
  EXPECT_EQ(v.log_id_hex, "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");
  EXPECT_EQ(v.certificate.subject, kIdentity.subject);
  EXPECT_EQ(v.certificate.issuer, kIdentity.issuer);
  EXPECT_EQ(v.certificate.source_repository, "https://github.com/trailofbits/rfc8785.py");
  EXPECT_EQ(v.certificate.source_digest, kSha);
  EXPECT_EQ(v.certificate.source_ref, "refs/tags/v0.1.2");
  EXPECT_EQ(v.certificate.build_trigger, "release");
  EXPECT_EQ(v.certificate.run_invocation,
            "https://github.com/trailofbits/rfc8785.py/actions/runs/8351058501/attempts/1");
}

TEST(KeylessPublic, EachRuleBrokenFailsWithItsCode) {
  const auto root = root_of(read("trusted_root.json"));
  const std::string bundle = read("bundle_v3_github.whl.sigstore");

  auto v = verify(bundle, root,
                  "sha256:0000000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_EQ(v.reason, "the bundle signs digest sha256:c4e92e9ecc82, not this digest");

  IdentityRule other = kIdentity;
  other.subject =
      "https://github.com/trailofbits/rfc8785.py/.github/workflows/ci.yml@refs/heads/main";
  v = verify(bundle, root, kDigest, other);
  EXPECT_EQ(v.code, "IDENTITY_MISMATCH");

  v = verify(bundle, root, kDigest, kIdentity, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(v.code, "PROVENANCE_COMMIT_MISMATCH");
  EXPECT_EQ(v.reason,
            "the certificate names source commit 'd8b4a6445f38c48b9137a8099706d9b8073146e4', "
            "but this build is 0123456789abcdef0123456789abcdef01234567");

  // Rekor's checkpoint signature, one byte changed.
  json doc = json::parse(bundle);
  auto& envelope =
      doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
  std::string note = envelope.get<std::string>();
  note[note.find("wNI9aj") + 8] = note[note.find("wNI9aj") + 8] == 'A' ? 'B' : 'A';
  envelope = note;
  v = verify(doc.dump(), root);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_NE(v.reason.find("no signature of the checkpoint verifies with the log's key"),
            std::string::npos)
      << v.reason;

  // The signed entry timestamp for another integrated time.
  doc = json::parse(bundle);
  doc["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = "1710888077";
  v = verify(doc.dump(), root);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_NE(v.reason.find("the signed entry timestamp does not verify with the log's key"),
            std::string::npos)
      << v.reason;
}

TEST(KeylessPublic, TrustedRootWithoutTheLogsFails) {
  const std::string bundle = read("bundle_v3_github.whl.sigstore");
  json doc = json::parse(read("trusted_root.json"));
  json no_ct = doc;
  no_ct["ctlogs"] = json::array();
  auto v = verify(bundle, root_of(no_ct.dump()));
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_NE(v.reason.find("no valid SCT"), std::string::npos) << v.reason;

  // GitHub's root for private repositories: a timestamp authority, no Rekor. This bundle has no
  // timestamp, so its Rekor entry is in a log the root does not name.
  json tsa_only = doc;
  tsa_only["tlogs"] = json::array();
  v = verify(bundle, root_of(tsa_only.dump()));
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_FALSE(v.valid);

  json old_ca = doc;  // only the 2021 Fulcio CA, which did not issue this certificate
  old_ca["certificateAuthorities"].erase(1);
  v = verify(bundle, root_of(old_ca.dump()));
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_FALSE(v.valid);
}

}  // namespace
}  // namespace imagegate::provenance
