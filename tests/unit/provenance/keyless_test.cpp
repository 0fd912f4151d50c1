// Keyless verification on bundles made here with OpenSSL: a Fulcio-like CA and leaf (SAN URI,
// the 1.3.6.1.4.1.57264.1.* extensions), a DSSE envelope of an in-toto statement, an intoto
// Rekor entry and its signed entry timestamp; each rule broken on its own.
#include "provenance/keyless.hpp"

#include <gtest/gtest.h>
#include <openssl/ct.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "manifest/manifest.hpp"
#include "provenance/provenance.hpp"
#include "unit/provenance/signing.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using testing::base64;
using testing::KeyPair;

const std::string kDigest =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
const std::string kIssuer = "https://token.actions.githubusercontent.com";
const std::string kSubject =
    "https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main";

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void add_raw_ext(X509* cert, const std::string& oid, const std::string& bytes) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(bytes.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

std::string utf8_der(const std::string& value) {
  return std::string{0x0c, static_cast<char>(value.size())} + value;
}

struct Cert {
  std::shared_ptr<X509> x509;
  std::string der() const { return der_of(x509.get()); }
};

std::string raw_sha256(const std::string& bytes) {
  const std::string hex = util::sha256_hex(bytes);
  std::string raw;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return raw;
}

std::string spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// A CT log's SCT for the certificate as it is now (its TBSCertificate: the precertificate),
// embedded as Fulcio does (RFC 6962 3.3). `signer` signs; `log_key` names the log.
struct SctSpec {
  const KeyPair* signer = nullptr;
  const KeyPair* log_key = nullptr;
  std::int64_t time_ms = 0;
};

void add_sct(X509* cert, X509* issuer, const SctSpec& spec) {
  unsigned char* tbs = nullptr;
  const int n = i2d_re_X509_tbs(cert, &tbs);
  const std::string tbs_der(reinterpret_cast<const char*>(tbs), static_cast<std::size_t>(n));
  OPENSSL_free(tbs);
  const auto be = [](std::uint64_t v, int bytes) {
    std::string b;
    for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return b;
  };
  const std::string data = be(0, 1) + be(0, 1) + be(static_cast<std::uint64_t>(spec.time_ms), 8) +
                           be(1, 2) + raw_sha256(spki_of(X509_get0_pubkey(issuer))) +
                           be(tbs_der.size(), 3) + tbs_der + be(0, 2);
  const std::string sig = spec.signer->sign(data);
  const std::string id = raw_sha256(spki_of(spec.log_key->key.get()));
  SCT* sct = SCT_new();
  SCT_set_version(sct, SCT_VERSION_V1);
  SCT_set_log_entry_type(sct, CT_LOG_ENTRY_TYPE_PRECERT);
  SCT_set1_log_id(sct, reinterpret_cast<const unsigned char*>(id.data()), id.size());
  SCT_set_timestamp(sct, static_cast<std::uint64_t>(spec.time_ms));
  SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256);
  SCT_set1_signature(sct, reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
  STACK_OF(SCT)* list = sk_SCT_new_null();
  sk_SCT_push(list, sct);
  X509_add1_ext_i2d(cert, NID_ct_precert_scts, list, 0, 0);
  SCT_LIST_free(list);
}

Cert make_cert(const KeyPair& subject_key, const KeyPair& issuer_key, X509* issuer, bool ca,
               std::int64_t not_before, std::int64_t not_after,
               const std::map<std::string, std::string>& fulcio = {},
               const std::string& san = kSubject, const SctSpec& sct = {}) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ca ? 1 : 2);
  ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after));
  X509_set_pubkey(cert, subject_key.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  if (ca) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("sigstore"), -1, -1, 0);
  }
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer_cert = issuer != nullptr ? issuer : cert;
  if (ca) {
    add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, signer_cert, NID_key_usage, "critical,digitalSignature");
    add_ext(cert, signer_cert, NID_ext_key_usage, "codeSigning");
    add_ext(cert, signer_cert, NID_subject_alt_name, ("critical,URI:" + san).c_str());
    for (const auto& [oid, value] : fulcio) add_raw_ext(cert, oid, value);
    if (sct.signer != nullptr) {
      // Signed once so that the TBSCertificate names its signature algorithm, as the
      // precertificate Fulcio logs does.
      X509_sign(cert, issuer_key.key.get(), EVP_sha256());
      add_sct(cert, signer_cert, sct);
    }
  }
  X509_sign(cert, issuer_key.key.get(), EVP_sha256());
  return {std::shared_ptr<X509>(cert, X509_free)};
}

std::map<std::string, std::string> github_extensions(const std::string& issuer = kIssuer,
                                                     const std::string& sha = kSha) {
  return {{"1.3.6.1.4.1.57264.1.1", issuer},  // legacy: the bytes themselves
          {"1.3.6.1.4.1.57264.1.8", utf8_der(issuer)},
          {"1.3.6.1.4.1.57264.1.12", utf8_der("https://github.com/afu9/afu9")},
          {"1.3.6.1.4.1.57264.1.13", utf8_der(sha)},
          {"1.3.6.1.4.1.57264.1.20", utf8_der("push")},
          {"1.3.6.1.4.1.57264.1.21",
           utf8_der("https://github.com/afu9/afu9/actions/runs/42/attempts/1")}};
}

// A timestamp authority's signing certificate (timeStamping, critical, as RFC 3161 asks), issued
// by `issuer` (its own root).
Cert make_tsa_cert(const KeyPair& key, const KeyPair& issuer_key, X509* issuer,
                   std::int64_t not_before, std::int64_t not_after) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 2);
  ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after));
  X509_set_pubkey(cert, key.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tsa signing"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
  add_ext(cert, issuer, NID_ext_key_usage, "critical,timeStamping");
  X509_sign(cert, issuer_key.key.get(), EVP_sha256());
  return {std::shared_ptr<X509>(cert, X509_free)};
}

int fixed_time(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  *sec = static_cast<long>(*static_cast<std::int64_t*>(data));
  *usec = 0;
  return 1;
}

// An RFC 3161 TimeStampResp over SHA-256(bytes), stamped at `at`, signed by `key` with `cert`.
std::string make_timestamp(const std::string& bytes, std::int64_t at, const KeyPair& key,
                           X509* cert) {
  const std::string hex = util::sha256_hex(bytes);
  std::string digest;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    digest.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  TS_REQ* req = TS_REQ_new();
  TS_REQ_set_version(req, 1);
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* algo = X509_ALGOR_new();
  X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
  TS_MSG_IMPRINT_set_algo(imprint, algo);  // copies it
  X509_ALGOR_free(algo);
  TS_MSG_IMPRINT_set_msg(imprint, reinterpret_cast<unsigned char*>(digest.data()),
                         static_cast<int>(digest.size()));
  TS_REQ_set_msg_imprint(req, imprint);
  BIO* req_bio = BIO_new(BIO_s_mem());
  i2d_TS_REQ_bio(req_bio, req);
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  TS_RESP_CTX_set_signer_cert(ctx, cert);
  TS_RESP_CTX_set_signer_key(ctx, key.key.get());
  ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.57264.2", 1);
  TS_RESP_CTX_set_def_policy(ctx, policy);
  TS_RESP_CTX_add_md(ctx, EVP_sha256());
  TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
  std::int64_t when = at;
  TS_RESP_CTX_set_time_cb(ctx, fixed_time, &when);
  TS_RESP* resp = TS_RESP_create_response(ctx, req_bio);
  unsigned char* der = nullptr;
  const int n = resp != nullptr ? i2d_TS_RESP(resp, &der) : 0;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n > 0 ? n : 0));
  OPENSSL_free(der);
  TS_RESP_free(resp);
  TS_RESP_CTX_free(ctx);
  ASN1_OBJECT_free(policy);
  BIO_free(req_bio);
  TS_MSG_IMPRINT_free(imprint);
  TS_REQ_free(req);
  return out;
}

// A CA, a Rekor key, and bundles signed by leaves of that CA.
struct World {
  KeyPair ca_key = KeyPair::make("EC");
  KeyPair rekor = KeyPair::make("EC");
  KeyPair ct = KeyPair::make("EC");
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  Cert ca = make_cert(ca_key, ca_key, nullptr, true, now - 86400, now + 86400 * 365);
  KeyPair tsa_key = KeyPair::make("EC");
  Cert tsa_root = make_cert(tsa_key, tsa_key, nullptr, true, now - 86400, now + 86400 * 365);
  Cert tsa_leaf =
      make_tsa_cert(tsa_key, tsa_key, tsa_root.x509.get(), now - 86400, now + 86400 * 365);
  std::string tsa_start = "2020-01-01T00:00:00Z";

  std::string rekor_spki() const {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(rekor.key.get(), &der);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
  }
  std::string log_id() const {
    const std::string hex = util::sha256_hex(rekor_spki());
    std::string raw;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return raw;
  }

  json root_json() const {
    return {
        {"mediaType", "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
        {"tlogs",
         {{{"baseUrl", "https://rekor.test"},
           {"hashAlgorithm", "SHA2_256"},
           {"publicKey",
            {{"rawBytes", base64(rekor_spki())},
             {"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
             {"validFor", {{"start", "2020-01-01T00:00:00Z"}}}}},
           {"logId", {{"keyId", base64(log_id())}}}}}},
        {"certificateAuthorities",
         {{{"uri", "https://fulcio.test"},
           {"certChain", {{"certificates", {{{"rawBytes", base64(ca.der())}}}}}},
           {"validFor", {{"start", "2020-01-01T00:00:00.000Z"}}}}}},
        {"ctlogs",
         {{{"baseUrl", "https://ctfe.test"},
           {"hashAlgorithm", "SHA2_256"},
           {"publicKey",
            {{"rawBytes", base64(spki_of(ct.key.get()))},
             {"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
             {"validFor", {{"start", "2020-01-01T00:00:00Z"}}}}},
           {"logId", {{"keyId", base64(raw_sha256(spki_of(ct.key.get())))}}}}}},
        {"timestampAuthorities",
         {{{"uri", "https://tsa.test"},
           {"certChain",
            {{"certificates",
              {{{"rawBytes", base64(tsa_leaf.der())}}, {{"rawBytes", base64(tsa_root.der())}}}}}},
           {"validFor", {{"start", tsa_start}}}}}}};
  }
  TrustedRoot root() const { return *parse_trusted_root(root_json().dump(), "root.json"); }

  struct Options {
    std::string subject_digest = kDigest;
    std::map<std::string, std::string> extensions = github_extensions();
    std::string san = kSubject;
    const KeyPair* ca_key = nullptr;  // another CA
    X509* ca_cert = nullptr;
    std::int64_t cert_start_offset = -60;
    std::int64_t cert_lifetime = 600;
    bool tamper_body = false;
    bool drop_set = false;
    std::string media_type = std::string(kBundleV03);
    bool tlog = true;        // a Rekor entry
    bool timestamp = false;  // an RFC 3161 timestamp of the signature
    std::int64_t stamp_offset = 0;
    const KeyPair* tsa_key = nullptr;  // another TSA (with its own certificate)
    X509* tsa_cert = nullptr;
    std::string stamp_over;       // stamp these bytes instead of the signature
    bool tamper_stamp = false;    // flip the timestamp's last byte (its signature)
    bool proof = false;           // an inclusion proof: the entry is leaf 2 of a 5-leaf tree
    std::string tamper_proof;     // "hash" | "checkpoint-signature" | "checkpoint-size" | "root"
    std::string sct = "trusted";  // "trusted" | "none" | "foreign" (another log) | "forged"
  };

  // The entry's body as leaf 2 of five, its audit path and a checkpoint the log signs.
  json inclusion_proof(const std::string& body, const std::string& tamper) const {
    if (tamper == "first-of-one") {
      const std::string root = merkle_leaf_hash(body);
      const std::string note = "rekor.test - 42\n1\n" + base64(root) + "\n";
      return {{"rootHash", base64(root)},
              {"treeSize", "1"},
              {"checkpoint",
               {{"envelope", note + "\n\u2014 rekor.test " +
                                 base64(log_id().substr(0, 4) + rekor.sign(note)) + "\n"}}}};
    }
    std::vector<std::string> leaves;
    for (int i = 0; i < 5; ++i) leaves.push_back(merkle_leaf_hash("leaf " + std::to_string(i)));
    leaves[2] = merkle_leaf_hash(body);
    const auto node = [](const std::string& l, const std::string& r) {
      return merkle_node_hash(l, r);
    };
    // The tree: ((0 1) (2 3)) 4; the path of leaf 2 is 3, (0 1), 4.
    const std::string h01 = node(leaves[0], leaves[1]), h23 = node(leaves[2], leaves[3]);
    const std::string root = node(node(h01, h23), leaves[4]);
    std::vector<std::string> path = {leaves[3], h01, leaves[4]};
    if (tamper == "hash") path[0][0] = static_cast<char>(path[0][0] ^ 0x01);
    const std::string note = "rekor.test - 42\n" +
                             std::string(tamper == "checkpoint-size" ? "6" : "5") + "\n" +
                             base64(root) + "\nTimestamp: 1\n";
    std::string sig = rekor.sign(note);
    if (tamper == "checkpoint-signature") sig = rekor.sign(note + "x");
    json hashes = json::array();
    for (const auto& h : path) hashes.push_back(base64(h));
    std::string claimed = root;
    if (tamper == "root") claimed[0] = static_cast<char>(claimed[0] ^ 0x01);
    return {{"logIndex", "2"},
            {"rootHash", base64(claimed)},
            {"treeSize", "5"},
            {"hashes", hashes},
            {"checkpoint",
             {{"envelope",
               note + "\n\u2014 rekor.test " + base64(log_id().substr(0, 4) + sig) + "\n"}}}};
  }

  std::string bundle(const Options& o) const {
    const KeyPair leaf_key = KeyPair::make("EC");
    const KeyPair other_ct = KeyPair::make("EC");
    SctSpec sct;
    if (o.sct != "none") {
      sct.signer = o.sct == "trusted" ? &ct : &other_ct;
      sct.log_key = o.sct == "foreign" ? &other_ct : &ct;
      sct.time_ms = (now + o.cert_start_offset) * 1000;
    }
    const Cert leaf = make_cert(
        leaf_key, o.ca_key != nullptr ? *o.ca_key : ca_key,
        o.ca_cert != nullptr ? o.ca_cert : ca.x509.get(), false, now + o.cert_start_offset,
        now + o.cert_start_offset + o.cert_lifetime, o.extensions, o.san, sct);
    const std::string statement = json{
        {"_type", "https://in-toto.io/Statement/v1"},
        {"subject", {{{"name", "image"}, {"digest", {{"sha256", o.subject_digest.substr(7)}}}}}},
        {"predicateType", "https://slsa.dev/provenance/v1"},
        {"predicate", json::object()}}.dump();
    const std::string type = "application/vnd.in-toto+json";
    const std::string sig = leaf_key.sign(dsse_pae(type, statement));
    json body = {
        {"apiVersion", "0.0.2"},
        {"kind", "intoto"},
        {"spec",
         {{"content",
           {{"envelope",
             {{"payloadType", type},
              {"payload", base64(base64(statement))},
              {"signatures",
               {{{"sig", base64(base64(sig))}, {"publicKey", base64(pem_of(leaf.x509.get()))}}}}}},
            {"hash", {{"algorithm", "sha256"}, {"value", std::string(64, 'a')}}},
            {"payloadHash", {{"algorithm", "sha256"}, {"value", util::sha256_hex(statement)}}}}}}}};
    const std::string body_b64 = base64(body.dump());
    const std::int64_t index = 7;
    const std::string set = rekor.sign(set_payload(body_b64, now, hex_encode(log_id()), index));
    if (o.tamper_body) body["spec"]["content"]["payloadHash"]["value"] = std::string(64, 'b');
    json entry = {{"logIndex", std::to_string(index)},
                  {"logId", {{"keyId", base64(log_id())}}},
                  {"kindVersion", {{"kind", "intoto"}, {"version", "0.0.2"}}},
                  {"integratedTime", std::to_string(now)},
                  {"inclusionPromise", {{"signedEntryTimestamp", base64(set)}}},
                  {"canonicalizedBody", base64(body.dump())}};
    if (o.drop_set) entry.erase("inclusionPromise");
    if (o.proof) entry["inclusionProof"] = inclusion_proof(body.dump(), o.tamper_proof);
    json material = {{"tlogEntries", o.tlog ? json::array({entry}) : json::array()}};
    if (o.timestamp) {
      std::string stamp =
          make_timestamp(o.stamp_over.empty() ? sig : o.stamp_over, now + o.stamp_offset,
                         o.tsa_key != nullptr ? *o.tsa_key : tsa_key,
                         o.tsa_cert != nullptr ? o.tsa_cert : tsa_leaf.x509.get());
      if (o.tamper_stamp) stamp.back() = static_cast<char>(stamp.back() ^ 0x01);
      material["timestampVerificationData"] = {
          {"rfc3161Timestamps", {{{"signedTimestamp", base64(stamp)}}}}};
    }
    if (o.media_type == kBundleV03) {
      material["certificate"] = {{"rawBytes", base64(leaf.der())}};
    } else {
      material["x509CertificateChain"] = {{"certificates", {{{"rawBytes", base64(leaf.der())}}}}};
    }
    return json{{"mediaType", o.media_type},
                {"verificationMaterial", material},
                {"dsseEnvelope",
                 {{"payloadType", type},
                  {"payload", base64(statement)},
                  {"signatures", {{{"sig", base64(sig)}, {"keyid", ""}}}}}}}
        .dump();
  }
};

const std::vector<IdentityRule> kPolicy = {{kIssuer, kSubject, ""}};

BundleVerdict check(const World& w, const World::Options& o,
                    const std::vector<IdentityRule>& policy = kPolicy) {
  return verify_bundle(w.root(), w.bundle(o), kDigest, policy, kSha);
}

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
TEST(Keyless, TimestampWithoutLogEntryPasses) {
  const World w;
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
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
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
  o.stamp_over = "another signature";
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_EQ(v.reason,
            "timestamp 0: the timestamp is over other bytes (its message imprint is not the "
            "SHA-256 of the bundle's signature)");
}

TEST(Keyless, TamperedTimestampIsTlogInvalid) {
  const World w;
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
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
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
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
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
  const auto v = check(w, o);
  EXPECT_EQ(v.code, "TLOG_INVALID");
  EXPECT_TRUE(v.reason.starts_with(
      "timestamp 0: the timestamp's signer is not the certificate of a timestamp authority of "
      "the trusted root valid at its time "))
      << v.reason;
}

TEST(Keyless, CertificateExpiredAtTheTimestampIsSignatureInvalid) {
  const World w;
  World::Options o;
  o.tlog = false;
  o.timestamp = true;
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
