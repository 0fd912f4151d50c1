// The bundles of the keyless tests, made here with OpenSSL: a Fulcio-like CA and leaf (SAN URI,
// the 1.3.6.1.4.1.57264.1.* extensions, SCTs of a CT log), a DSSE envelope of an in-toto
// statement or a message signature, Rekor entries with signed entry timestamps and inclusion
// proofs, RFC 3161 timestamps; World::Options breaks each rule on its own.
#pragma once

#include <openssl/ct.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "provenance/keyless.hpp"
#include "provenance/provenance.hpp"
#include "unit/provenance/signing.hpp"
#include "util/text.hpp"

namespace imagegate::provenance::testing {

using nlohmann::json;

inline const std::string kDigest =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
inline const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
inline const std::string kIssuer = "https://token.actions.githubusercontent.com";
inline const std::string kSubject =
    "https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main";

inline std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

inline std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

inline void add_raw_ext(X509* cert, const std::string& oid, const std::string& bytes) {
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

inline std::string utf8_der(const std::string& value) {
  return std::string{0x0c, static_cast<char>(value.size())} + value;
}

struct Cert {
  std::shared_ptr<X509> x509;
  std::string der() const { return der_of(x509.get()); }
};

inline std::string raw_sha256(const std::string& bytes) {
  const std::string hex = util::sha256_hex(bytes);
  std::string raw;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return raw;
}

inline std::string spki_of(EVP_PKEY* key) {
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

inline void add_sct(X509* cert, X509* issuer, const SctSpec& spec) {
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

inline Cert make_cert(const KeyPair& subject_key, const KeyPair& issuer_key, X509* issuer, bool ca,
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

inline std::map<std::string, std::string> github_extensions(const std::string& issuer = kIssuer,
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
inline Cert make_tsa_cert(const KeyPair& key, const KeyPair& issuer_key, X509* issuer,
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

inline int fixed_time(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  *sec = static_cast<long>(*static_cast<std::int64_t*>(data));
  *usec = 0;
  return 1;
}

// An RFC 3161 TimeStampResp over SHA-256(bytes), stamped at `at`, signed by `key` with `cert`.
inline std::string make_timestamp(const std::string& bytes, std::int64_t at, const KeyPair& key,
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

inline const std::vector<IdentityRule> kPolicy = {{kIssuer, kSubject, ""}};

inline BundleVerdict check(const World& w, const World::Options& o,
                           const std::vector<IdentityRule>& policy = kPolicy) {
  return verify_bundle(w.root(), w.bundle(o), kDigest, policy, kSha);
}

}  // namespace imagegate::provenance::testing
