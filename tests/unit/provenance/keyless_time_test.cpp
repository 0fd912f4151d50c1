// Keyless verification's time sources and logs on bundles made here (keyless_world.hpp): RFC 3161
// timestamps, RFC 6962 audit paths, checkpoints, inclusion proofs, and the certificate's SCTs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "manifest/manifest.hpp"
#include "provenance/keyless.hpp"
#include "unit/provenance/keyless_world.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using namespace testing;

// A bundle whose only time source is an RFC 3161 timestamp of the trusted root's authority.
World::Options stamp_only() {
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
  return o;
}

TEST(Keyless, TimestampWithoutLogEntryPasses) {
  const World w;
  World::Options o = stamp_only();
  const auto v = check(w, o);
  EXPECT_TRUE(v.valid) << v.code << ": " << v.reason;
  EXPECT_EQ(v.log_index, -1);
  EXPECT_EQ(v.timestamps, std::vector<std::int64_t>{w.now});
  o.tlog = true;  // both time sources
  const auto both = check(w, o);
  EXPECT_TRUE(both.valid) << both.reason;
  EXPECT_EQ(both.log_index, 7);
  EXPECT_EQ(both.timestamps.size(), 1u);
}

TEST(Keyless, NoTimeSourceIsTlogInvalid) {
  const World w;
  World::Options o;
  o.tlog = false;
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_EQ(v.reason, "the bundle has neither a transparency-log entry nor an RFC 3161 timestamp");
}

TEST(Keyless, TimestampOfOtherBytesIsTlogInvalid) {
  const World w;
  World::Options o = stamp_only();
  o.stamp_over = "another signature";
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_EQ(v.reason,
            "timestamp 0: the timestamp is over other bytes (its message imprint is not the "
            "SHA-256 of the bundle's signature)");
}

TEST(Keyless, TamperedTimestampIsTlogInvalid) {
  const World w;
  World::Options o = stamp_only();
  o.tamper_stamp = true;
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_TRUE(v.reason.starts_with(
      "timestamp 0: the timestamp does not verify with the timestamp authority "
      "'https://tsa.test' ("))
      << v.reason;
  // A bad timestamp fails the bundle even when the log entry verifies.
  o.tlog = true;
  EXPECT_EQ(check(w, o).code, "TLOG_INVALID");
}

TEST(Keyless, TimestampOfAnotherAuthorityIsTlogInvalid) {
  const World w;
  // Another authority with the same names and serial: only its key differs.
  const KeyPair other = KeyPair::make("EC");
  const Cert other_root = make_cert(other, other, nullptr, true, w.now - 86400, w.now + 86400);
  const Cert other_leaf =
      make_tsa_cert(other, other, other_root.x509.get(), w.now - 86400, w.now + 86400);
  World::Options o = stamp_only();
  o.tsa_key = &other;
  o.tsa_cert = other_leaf.x509.get();
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_TRUE(v.reason.starts_with(
      "timestamp 0: the timestamp does not verify with the timestamp authority "
      "'https://tsa.test' ("))
      << v.reason;
}

TEST(Keyless, TimestampOutsideTheAuthorityWindowIsTlogInvalid) {
  World w;
  w.tsa_start = "2099-01-01T00:00:00Z";
  World::Options o = stamp_only();
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_TRUE(v.reason.starts_with(
      "timestamp 0: the timestamp's signer is not the certificate of a timestamp authority of "
      "the trusted root valid at its time "))
      << v.reason;
}

TEST(Keyless, CertificateExpiredAtTheTimestampIsSignatureInvalid) {
  const World w;
  World::Options o = stamp_only();
  o.stamp_offset = 3600;  // stamped an hour after the ten-minute certificate
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "SIGNATURE_INVALID");
  EXPECT_TRUE(v.reason.starts_with("the certificate was not valid at the timestamp's time"))
      << v.reason;
  // With the log entry too: the certificate must be valid at every verified time.
  o.tlog = true;
  EXPECT_EQ(check(w, o).code, "SIGNATURE_INVALID");
}

TEST(Keyless, TimestampBytesThatAreNoTimestamp) {
  const World w;
  const auto root = w.root();
  EXPECT_EQ(verify_timestamp(root, "not DER", "sig").reason,
            "the timestamp is not a DER RFC 3161 timestamp response or token");
  const std::string good = make_timestamp("sig", w.now, w.tsa_key, w.tsa_leaf.x509.get());
  const auto ok = verify_timestamp(root, good, "sig");
  EXPECT_TRUE(ok.valid()) << ok.reason;
  EXPECT_EQ(ok.time, w.now);
  EXPECT_EQ(ok.authority, "https://tsa.test");
  EXPECT_EQ(verify_timestamp(root, good + "x", "sig").reason,
            "the timestamp is not a DER RFC 3161 timestamp response or token");
}

// RFC 6962's test vectors (the certificate-transparency reference implementation's eight leaves):
// every audit path of every tree of one to eight leaves, computed by the RFC's definition, leads
// to the tree's root.
TEST(Keyless, MerkleAuditPathsOfTheRfc6962Vectors) {
  const std::vector<std::string> data = {
      "",
      std::string(1, '\0'),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  // MTH and PATH of RFC 6962 2.1 and 2.1.1, by their recursive definitions.
  std::function<std::string(std::size_t, std::size_t)> mth = [&](std::size_t lo, std::size_t n) {
    if (n == 1) return merkle_leaf_hash(data[lo]);
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return merkle_node_hash(mth(lo, k), mth(lo + k, n - k));
  };
  std::function<std::vector<std::string>(std::size_t, std::size_t, std::size_t)> path =
      [&](std::size_t m, std::size_t lo, std::size_t n) -> std::vector<std::string> {
    if (n == 1) return {};
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    std::vector<std::string> out;
    if (m < k) {
      out = path(m, lo, k);
      out.push_back(mth(lo + k, n - k));
    } else {
      out = path(m - k, lo + k, n - k);
      out.push_back(mth(lo, k));
    }
    return out;
  };
  for (std::size_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(hex_encode(mth(0, n)), roots[n - 1]) << n;
    for (std::size_t m = 0; m < n; ++m) {
      std::string reason;
      const std::string root = merkle_root(m, n, merkle_leaf_hash(data[m]), path(m, 0, n), reason);
      EXPECT_EQ(hex_encode(root), roots[n - 1]) << "leaf " << m << " of " << n << ": " << reason;
    }
  }
  // Another leaf, or a path of another length, does not lead to the root.
  std::string reason;
  EXPECT_NE(hex_encode(merkle_root(2, 5, merkle_leaf_hash("x"), path(2, 0, 5), reason)), roots[4]);
  EXPECT_EQ(merkle_root(5, 5, merkle_leaf_hash(data[0]), {}, reason), "");
  EXPECT_EQ(reason, "the inclusion proof's index 5 is not in a tree of size 5");
  auto longer = path(2, 0, 5);
  longer.push_back(std::string(32, 'a'));
  EXPECT_EQ(merkle_root(2, 5, merkle_leaf_hash(data[2]), longer, reason), "");
  EXPECT_EQ(reason, "the inclusion proof holds 4 hashes; index 2 in a tree of size 5 needs 3");
  EXPECT_EQ(merkle_root(0, 1, merkle_leaf_hash(data[0]), {}, reason), merkle_leaf_hash(data[0]));
  EXPECT_EQ(reason, "");
}

TEST(Keyless, CheckpointsAreParsed) {
  const std::string root = base64(std::string(32, 'r'));
  const std::string sig = base64("hint" + std::string("signature"));
  std::string reason;
  const auto c = parse_checkpoint(
      "rekor.test - 42\n5\n" + root + "\nTimestamp: 1\n\n\u2014 rekor.test " + sig + "\n", reason);
  ASSERT_TRUE(c) << reason;
  EXPECT_EQ(c->origin, "rekor.test - 42");
  EXPECT_EQ(c->size, 5u);
  EXPECT_EQ(c->root, std::string(32, 'r'));
  EXPECT_EQ(c->note, "rekor.test - 42\n5\n" + root + "\nTimestamp: 1\n");
  ASSERT_EQ(c->signatures.size(), 1u);
  EXPECT_EQ(c->signatures[0].name, "rekor.test");
  EXPECT_EQ(c->signatures[0].key_hint, "hint");
  EXPECT_EQ(c->signatures[0].signature, "signature");
  const auto reason_of = [](const std::string& text) {
    std::string r;
    return parse_checkpoint(text, r) ? std::string("ok") : r;
  };
  const std::string line = "\u2014 rekor.test " + sig + "\n";
  EXPECT_EQ(reason_of("rekor.test\n5\n" + root + "\n" + line),
            "the checkpoint has no blank line between its note and its signatures");
  EXPECT_EQ(reason_of("rekor.test\n5\n\n" + line),
            "the checkpoint's note has fewer than three lines (origin, tree size, root hash)");
  EXPECT_EQ(reason_of("\n5\n" + root + "\n\n" + line), "the checkpoint's origin line is empty");
  EXPECT_EQ(reason_of("rekor.test\n-5\n" + root + "\n\n" + line),
            "the checkpoint's tree size '-5' is not a decimal number");
  EXPECT_EQ(reason_of("rekor.test\n05\n" + root + "\n\n" + line),
            "the checkpoint's tree size '05' is not a decimal number");
  EXPECT_EQ(reason_of("rekor.test\n5\nnot-base64\n\n" + line),
            "the checkpoint's root hash is not a base64 SHA-256 hash");
  EXPECT_EQ(reason_of("rekor.test\n5\n" + base64("short") + "\n\n" + line),
            "the checkpoint's root hash is not a base64 SHA-256 hash");
  EXPECT_EQ(reason_of("rekor.test\n5\n" + root + "\n\n"), "the checkpoint has no signature");
  EXPECT_EQ(reason_of("rekor.test\n5\n" + root + "\n\n- rekor.test " + sig + "\n"),
            "the checkpoint's signature line 1 is not \"\u2014 <name> <base64 key hint and "
            "signature>\"");
  EXPECT_EQ(reason_of("rekor.test\n5\n" + root + "\n\n" + line + "\u2014 rekor.test " +
                      base64("abc") + "\n"),
            "the checkpoint's signature line 2 is not \"\u2014 <name> <base64 key hint and "
            "signature>\"");
  EXPECT_EQ(reason_of("rekor.test\n5\n" + root + "\n\n\u2014 rekor.test " + sig),
            "the checkpoint's signature line 1 does not end with a newline");
}

TEST(Keyless, InclusionProofIsVerified) {
  const World w;
  World::Options o;
  o.proof = true;
  const auto v = check(w, o);
  EXPECT_TRUE(v.valid) << v.code << ": " << v.reason;
  const auto reason_of = [&](const std::string& tamper) {
    World::Options t = o;
    t.tamper_proof = tamper;
    const auto r = check(w, t);
    return r.code + ": " + r.reason;
  };
  EXPECT_EQ(reason_of("hash"),
            "TLOG_INVALID: entry 7: the inclusion proof's audit path does not lead from the entry "
            "to its root hash");
  EXPECT_EQ(reason_of("checkpoint-signature"),
            "TLOG_INVALID: entry 7: no signature of the checkpoint verifies with the log's key");
  EXPECT_EQ(reason_of("checkpoint-size"),
            "TLOG_INVALID: entry 7: the checkpoint's tree size 6 is not the inclusion proof's 5");
  EXPECT_EQ(reason_of("root"),
            "TLOG_INVALID: entry 7: the checkpoint's root hash is not the inclusion proof's");
  // What @sigstore/mock's Rekor answers and protobuf JSON writes: a tree of one, the proof of its
  // first leaf without logIndex (a zero value) and without hashes.
  World::Options one = o;
  one.tamper_proof = "first-of-one";
  EXPECT_TRUE(check(w, one).valid) << check(w, one).reason;
}

// Rekor v2 style: an inclusion proof and no signed entry timestamp. The entry is proven logged,
// but its integrated time is the log's claim: the time must come from an RFC 3161 timestamp.
TEST(Keyless, InclusionProofWithoutSetNeedsATimestamp) {
  const World w;
  World::Options o;
  o.proof = true;
  o.drop_set = true;
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_EQ(v.reason,
            "no verified time: the log entries have no signed entry timestamp (an inclusion proof "
            "proves the entry is logged, not when) and the bundle has no RFC 3161 timestamp");
  o.timestamp = true;
  const auto timed = check(w, o);
  EXPECT_TRUE(timed.valid) << timed.reason;
  EXPECT_EQ(timed.log_index, 7);
  // The certificate is judged at the timestamp's time only: an hour after the certificate
  // expired, the untrusted integrated time inside its window does not save it.
  o.stamp_offset = 3600;
  EXPECT_EQ(check(w, o).code, "SIGNATURE_INVALID");
  World::Options neither;
  neither.drop_set = true;
  EXPECT_EQ(check(w, neither).reason,
            "entry 7: the entry has neither a signed entry timestamp nor an inclusion proof");
}

// As sigstore-js (ctlogThreshold 1): the certificate must embed an SCT of a CT log of the root.
TEST(Keyless, CertificateWithoutValidSctIsSignatureInvalid) {
  const World w;
  const auto reason_of = [&](const std::string& sct) {
    World::Options o;
    o.sct = sct;
    const auto v = check(w, o);
    return v.code + ": " + v.reason;
  };
  EXPECT_EQ(reason_of("none"),
            "SIGNATURE_INVALID: the certificate has no valid SCT of a CT log of the trusted root "
            "(the certificate embeds no SCT)");
  EXPECT_TRUE(reason_of("foreign").starts_with(
      "SIGNATURE_INVALID: the certificate has no valid SCT of a CT log of the trusted root (SCT "
      "0 is from CT log "))
      << reason_of("foreign");
  EXPECT_EQ(reason_of("forged"),
            "SIGNATURE_INVALID: the certificate has no valid SCT of a CT log of the trusted root "
            "(SCT 0 does not verify with the CT log's key)");
  // A root without CT logs verifies no SCT.
  json j = w.root_json();
  j["ctlogs"] = json::array();
  const auto root = parse_trusted_root(j.dump(), "root.json");
  ASSERT_TRUE(root);
  EXPECT_EQ(verify_bundle(*root, w.bundle({}), kDigest, kPolicy, kSha).code, "SIGNATURE_INVALID");
}

}  // namespace
}  // namespace imagegate::provenance
