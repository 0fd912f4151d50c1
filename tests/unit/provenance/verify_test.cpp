#include "provenance/verify.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "unit/provenance/signing.hpp"

namespace imagegate::provenance {
namespace {

using testing::base64;
using testing::KeyPair;

const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOther = "sha256:" + std::string(64, 'b');

std::string payload(const std::string& digest, const std::string& reference) {
  return nlohmann::json{{"critical",
                         {{"identity", {{"docker-reference", reference}}},
                          {"image", {{"docker-manifest-digest", digest}}},
                          {"type", "cosign container image signature"}}},
                        {"optional", nullptr}}
      .dump();
}

TEST(Keys, PemPublicKeysOfTheThreeTypesAndTheirFingerprints) {
  for (const char* type : {"EC", "RSA", "ED25519"}) {
    const auto pair = KeyPair::make(type);
    const auto key = parse_public_key(pair.public_pem, "k.pub");
    ASSERT_TRUE(key.has_value()) << type;
    EXPECT_EQ(key->type, std::string_view(type) == "EC"    ? "ecdsa-p256"
                         : std::string_view(type) == "RSA" ? "rsa"
                                                           : "ed25519");
    EXPECT_EQ(key->fingerprint.size(), 7u + 64u);
    EXPECT_TRUE(key->fingerprint.starts_with("sha256:"));
  }
  const auto bad =
      parse_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", "'bad.pub'");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, "KEY_INVALID");
  EXPECT_EQ(bad.error().message,
            "key 'bad.pub' is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  // P-384 is not one cosign uses by default, and not accepted.
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, p384);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const auto other = parse_public_key(std::string(data, static_cast<std::size_t>(n)), "p384");
  BIO_free(bio);
  EVP_PKEY_free(p384);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().message, "key p384 is neither ECDSA P-256, RSA nor Ed25519");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVsbG8"), "hello");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("aGV*bG8=").has_value());
  EXPECT_FALSE(base64_decode("a").has_value());
}

TEST(SimpleSigning, EveryKeyTypeVerifiesItsSignature) {
  for (const char* type : {"EC", "RSA", "ED25519"}) {
    const auto pair = KeyPair::make(type);
    const auto body = payload(kDigest, "127.0.0.1:5000/afu9/a");
    const auto v = verify_simple_signing({pair.public_key()}, body, base64(pair.sign(body)),
                                         kDigest, "afu9/a");
    EXPECT_TRUE(v.valid) << type << ": " << v.reason;
    EXPECT_EQ(v.fingerprint, pair.public_key().fingerprint);
  }
}

TEST(SimpleSigning, EachWayToBeInvalidSaysWhy) {
  const auto ours = KeyPair::make("EC");
  const auto theirs = KeyPair::make("EC");
  const auto keys = std::vector<PublicKey>{ours.public_key()};
  const auto body = payload(kDigest, "127.0.0.1:5000/afu9/a");
  EXPECT_EQ(verify_simple_signing(keys, body, base64(theirs.sign(body)), kDigest, "afu9/a").reason,
            "the signature does not verify with any of the keys");
  const auto other_digest = payload(kOther, "127.0.0.1:5000/afu9/a");
  EXPECT_EQ(
      verify_simple_signing(keys, other_digest, base64(ours.sign(other_digest)), kDigest, "afu9/a")
          .reason,
      "the signature is for digest '" + kOther + "', not this one");
  const auto other_repo = payload(kDigest, "127.0.0.1:5000/afu9/b");
  EXPECT_EQ(
      verify_simple_signing(keys, other_repo, base64(ours.sign(other_repo)), kDigest, "afu9/a")
          .reason,
      "the signature is for repository '127.0.0.1:5000/afu9/b', not 'afu9/a'");
  // A suffix of the path is not the repository.
  const auto longer = payload(kDigest, "127.0.0.1:5000/evil/afu9/a");
  EXPECT_FALSE(
      verify_simple_signing(keys, longer, base64(ours.sign(longer)), kDigest, "afu9/a").valid);
  // A tampered payload no longer verifies.
  EXPECT_FALSE(
      verify_simple_signing(keys, body + " ", base64(ours.sign(body)), kDigest, "afu9/a").valid);
  EXPECT_EQ(verify_simple_signing(keys, body, "***", kDigest, "afu9/a").reason,
            "the signature annotation is not base64");
  // The tag and the host of the reference do not matter; the repository does.
  const auto tagged = payload(kDigest, "afu9/a:prod-latest");
  EXPECT_TRUE(
      verify_simple_signing(keys, tagged, base64(ours.sign(tagged)), kDigest, "afu9/a").valid);
}

std::string envelope(const KeyPair& pair, const nlohmann::json& statement,
                     const std::string& type = "application/vnd.in-toto+json") {
  const std::string body = statement.dump();
  return nlohmann::json{
      {"payloadType", type},
      {"payload", base64(body)},
      {"signatures", {{{"keyid", ""}, {"sig", base64(pair.sign(dsse_pae(type, body)))}}}}}
      .dump();
}

nlohmann::json statement(const std::string& hex, const nlohmann::json& predicate,
                         const std::string& type = "https://slsa.dev/provenance/v1") {
  return {{"_type", "https://in-toto.io/Statement/v1"},
          {"subject", {{{"name", "afu9/a"}, {"digest", {{"sha256", hex}}}}}},
          {"predicateType", type},
          {"predicate", predicate}};
}

TEST(Dsse, PaeIsTheSpecsEncoding) {
  // The example of the DSSE protocol document.
  EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(Dsse, AttestationsVerifyAndYieldTheirSourceCommits) {
  const auto pair = KeyPair::make("EC");
  const auto keys = std::vector<PublicKey>{pair.public_key()};
  const nlohmann::json v1 = {
      {"buildDefinition",
       {{"resolvedDependencies",
         {{{"uri", "git+https://example/x"}, {"digest", {{"gitCommit", "abc123"}}}}}}}}};
  Statement st;
  auto v =
      verify_attestation(keys, envelope(pair, statement(std::string(64, 'a'), v1)), kDigest, st);
  ASSERT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(st.predicate_type, "https://slsa.dev/provenance/v1");
  EXPECT_EQ(st.commits, std::vector<std::string>{"abc123"});

  const nlohmann::json v02 = {
      {"materials", {{{"uri", "git+x"}, {"digest", {{"sha1", "def456"}}}}}}};
  Statement old;
  ASSERT_TRUE(verify_attestation(keys,
                                 envelope(pair, statement(std::string(64, 'a'), v02,
                                                          "https://slsa.dev/provenance/v0.2")),
                                 kDigest, old)
                  .valid);
  EXPECT_EQ(old.commits, std::vector<std::string>{"def456"});

  Statement ignored;
  EXPECT_EQ(verify_attestation(keys, envelope(pair, statement(std::string(64, 'b'), v1)), kDigest,
                               ignored)
                .reason,
            "the statement's subject does not contain this digest");
  EXPECT_EQ(
      verify_attestation(keys, envelope(KeyPair::make("EC"), statement(std::string(64, 'a'), v1)),
                         kDigest, ignored)
          .reason,
      "no signature of the DSSE envelope verifies with any of the keys");
  EXPECT_EQ(verify_attestation(keys, "[]", kDigest, ignored).reason,
            "the attestation is not a DSSE envelope (JSON object)");
  EXPECT_EQ(
      verify_attestation(keys, envelope(pair, statement(std::string(64, 'a'), v1), "text/plain"),
                         kDigest, ignored)
          .reason,
      "the envelope's payloadType is 'text/plain', not an in-toto statement");
}

}  // namespace
}  // namespace imagegate::provenance
