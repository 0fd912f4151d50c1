// Sigstore bundle verification (sigstore/cosign specs/dotsigstore_bundle/verification_flows.md),
// offline, with OpenSSL: the time sources first (RFC 3161 timestamps and transparency-log
// entries; they give the times everything else is judged at), then the certificate chain at each
// of those times, the signature with the certificate's key, the subject digest, and last the
// identity and the commit the certificate names.
#include "provenance/keyless.hpp"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTrustedRootBytes = 4 * 1024 * 1024;
constexpr std::string_view kFulcioPrefix = "1.3.6.1.4.1.57264.1.";
constexpr std::string_view kInToto = "application/vnd.in-toto+json";

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* obj(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

const json* arr(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? &*it : nullptr;
}

// A protobuf-JSON int64: a string of digits or a number.
std::optional<std::int64_t> int64_of(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return std::nullopt;
  const std::string s = it->get<std::string>();
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::shared_ptr<x509_st> x509_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return nullptr;
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(cert);
    return nullptr;
  }
  return std::shared_ptr<x509_st>(cert, X509_free);
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  if (n <= 0) return "";
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// The DER of a PEM certificate, empty when it is not one.
std::string der_of_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return "";
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr) return "";
  std::string der = der_of(cert);
  X509_free(cert);
  return der;
}

std::int64_t time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string asn1_text(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string utc_text(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<Validity> validity_of(const json& entry, const std::string& where) {
  Validity v;
  const json* valid = obj(entry, "validFor");
  if (valid == nullptr) return v;  // open
  const std::string start = str(*valid, "start");
  const std::string end = str(*valid, "end");
  if (!start.empty()) {
    const auto t = parse_rfc3339(start);
    if (!t) return fail("TRUSTED_ROOT_INVALID", where + ".validFor.start is not an RFC 3339 time");
    v.start = *t;
  }
  if (!end.empty()) {
    const auto t = parse_rfc3339(end);
    if (!t) return fail("TRUSTED_ROOT_INVALID", where + ".validFor.end is not an RFC 3339 time");
    v.end = *t;
  }
  return v;
}

Result<std::vector<CertificateAuthority>> read_authorities(const json& doc, const char* field) {
  std::vector<CertificateAuthority> out;
  const json* list = arr(doc, field);
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string where = fmt::format("{}[{}]", field, i);
    CertificateAuthority ca;
    ca.uri = str(item, "uri");
    const json* chain = obj(item, "certChain");
    const json* certs = chain != nullptr ? arr(*chain, "certificates") : nullptr;
    if (certs == nullptr || certs->empty()) {
      return fail("TRUSTED_ROOT_INVALID", where + ".certChain.certificates is missing or empty");
    }
    for (std::size_t c = 0; c < certs->size(); ++c) {
      const auto der = base64_decode(str((*certs)[c], "rawBytes"));
      auto cert = der ? x509_from_der(*der) : nullptr;
      if (!cert) {
        return fail("TRUSTED_ROOT_INVALID",
                    fmt::format("{}.certChain.certificates[{}].rawBytes is not a base64 DER "
                                "certificate",
                                where, c));
      }
      ca.chain.push_back(std::move(cert));
    }
    auto valid = validity_of(item, where);
    if (!valid) return std::unexpected(valid.error());
    ca.valid = *valid;
    out.push_back(std::move(ca));
  }
  return out;
}

Result<std::vector<TransparencyLog>> read_logs(const json& doc, const char* field) {
  std::vector<TransparencyLog> out;
  const json* list = arr(doc, field);
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string where = fmt::format("{}[{}]", field, i);
    TransparencyLog log;
    log.base_url = str(item, "baseUrl");
    const json* log_id = obj(item, "logId");
    const auto id = log_id != nullptr ? base64_decode(str(*log_id, "keyId")) : std::nullopt;
    if (!id || id->empty()) {
      return fail("TRUSTED_ROOT_INVALID", where + ".logId.keyId is missing or not base64");
    }
    log.log_id = *id;
    const json* key = obj(item, "publicKey");
    const auto der = key != nullptr ? base64_decode(str(*key, "rawBytes")) : std::nullopt;
    if (!der) {
      return fail("TRUSTED_ROOT_INVALID", where + ".publicKey.rawBytes is missing or not base64");
    }
    // A log listed without key bytes (a key type the root's producer does not ship) can verify
    // nothing: it is left out, as sigstore-python does; an entry it logged is then unknown.
    if (der->empty()) continue;
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    const std::string b64 = base64_encode(*der);
    for (std::size_t at = 0; at < b64.size(); at += 64) pem += b64.substr(at, 64) + "\n";
    pem += "-----END PUBLIC KEY-----\n";
    auto parsed = parse_public_key(pem, where);
    if (!parsed) {
      return fail(
          "TRUSTED_ROOT_INVALID",
          where + ".publicKey.rawBytes is not a DER public key (ECDSA P-256, RSA, Ed25519)");
    }
    log.key = std::move(*parsed);
    auto valid = key != nullptr ? validity_of(*key, where + ".publicKey") : Result<Validity>();
    if (!valid) return std::unexpected(valid.error());
    log.valid = *valid;
    out.push_back(std::move(log));
  }
  return out;
}

// The transparency-log entry: its SET verifies with a log of the root and its body matches.
struct EntryCheck {
  std::string reason;  // empty: verified
  bool timed = false;  // a verified signed entry timestamp: the integrated time is trusted
  std::int64_t log_index = -1;
  std::int64_t integrated_time = 0;
  std::string log_id_hex;
};

struct Content {
  std::string kind;
  std::string signature;       // raw
  std::string payload;         // DSSE: decoded payload
  std::string payload_type;    // DSSE
  std::string message_digest;  // messageSignature: raw SHA-256
};

std::string check_body(const json& body, const std::string& kind, const Content& content,
                       const std::string& leaf_der) {
  const json* spec = obj(body, "spec");
  if (str(body, "kind") != kind || spec == nullptr) {
    return fmt::format("the entry's body is not a {} entry", util::quote(kind));
  }
  const auto cert_matches = [&](const std::string& b64_pem) {
    const auto pem = base64_decode(b64_pem);
    return pem && !leaf_der.empty() && der_of_pem(*pem) == leaf_der;
  };
  if (kind == "intoto") {
    if (content.kind != "dsseEnvelope") return "an intoto entry for a bundle without DSSE envelope";
    const json* c = obj(*spec, "content");
    const json* envelope = c != nullptr ? obj(*c, "envelope") : nullptr;
    const json* sigs = envelope != nullptr ? arr(*envelope, "signatures") : nullptr;
    if (sigs == nullptr || sigs->size() != 1)
      return "the entry does not hold exactly one signature";
    const auto once = base64_decode(str((*sigs)[0], "sig"));
    const auto twice = once ? base64_decode(*once) : std::nullopt;
    if (!twice || *twice != content.signature) return "the entry's signature is not the bundle's";
    if (!cert_matches(str((*sigs)[0], "publicKey"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* hash = obj(*c, "payloadHash");
    if (hash == nullptr || str(*hash, "value") != util::sha256_hex(content.payload)) {
      return "the entry's payload hash is not the envelope's payload";
    }
    return "";
  }
  if (kind == "dsse") {
    if (content.kind != "dsseEnvelope") return "a dsse entry for a bundle without DSSE envelope";
    const json* sigs = arr(*spec, "signatures");
    if (sigs == nullptr || sigs->size() != 1)
      return "the entry does not hold exactly one signature";
    const auto sig = base64_decode(str((*sigs)[0], "signature"));
    if (!sig || *sig != content.signature) return "the entry's signature is not the bundle's";
    if (!cert_matches(str((*sigs)[0], "verifier"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* hash = obj(*spec, "payloadHash");
    if (hash == nullptr || str(*hash, "value") != util::sha256_hex(content.payload)) {
      return "the entry's payload hash is not the envelope's payload";
    }
    return "";
  }
  if (kind == "hashedrekord") {
    if (content.kind != "messageSignature") {
      return "a hashedrekord entry for a bundle without message signature";
    }
    const json* signature = obj(*spec, "signature");
    const auto sig =
        signature != nullptr ? base64_decode(str(*signature, "content")) : std::nullopt;
    if (!sig || *sig != content.signature) return "the entry's signature is not the bundle's";
    const json* key = obj(*signature, "publicKey");
    if (key == nullptr || !cert_matches(str(*key, "content"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* data = obj(*spec, "data");
    const json* hash = data != nullptr ? obj(*data, "hash") : nullptr;
    if (hash == nullptr || str(*hash, "value") != hex_encode(content.message_digest)) {
      return "the entry's digest is not the signed digest";
    }
    return "";
  }
  return fmt::format("entries of kind {} are not checked", util::quote(kind));
}

// An inclusion proof (Rekor v1): the RFC 6962 audit path from the entry's leaf to rootHash, and a
// checkpoint (a signed note) of the same tree signed by the log; empty: verified.
std::string check_inclusion_proof(const TransparencyLog& log, const json& proof,
                                  const std::string& body) {
  // Protobuf JSON leaves out zero values: a proof of the log's first leaf has no logIndex.
  const auto index =
      proof.contains("logIndex") ? int64_of(proof, "logIndex") : std::optional<std::int64_t>(0);
  const auto size = int64_of(proof, "treeSize");
  const auto root_hash = base64_decode(str(proof, "rootHash"));
  const json* list = arr(proof, "hashes");
  if (!index || !size || !root_hash || root_hash->size() != 32) {
    return "the inclusion proof lacks logIndex, treeSize or a base64 SHA-256 rootHash";
  }
  std::vector<std::string> hashes;
  for (std::size_t i = 0; list != nullptr && i < list->size(); ++i) {
    const auto h =
        (*list)[i].is_string() ? base64_decode((*list)[i].get<std::string>()) : std::nullopt;
    if (!h) return fmt::format("the inclusion proof's hashes[{}] is not base64", i);
    hashes.push_back(*h);
  }
  const json* checkpoint = obj(proof, "checkpoint");
  const std::string envelope = checkpoint != nullptr ? str(*checkpoint, "envelope") : "";
  if (envelope.empty()) return "the inclusion proof has no checkpoint";
  std::string reason;
  const auto note = parse_checkpoint(envelope, reason);
  if (!note) return reason;
  bool signed_by_log = false;
  for (const auto& sig : note->signatures) {
    signed_by_log = signed_by_log || (sig.key_hint == log.log_id.substr(0, 4) &&
                                      log.base_url.find(sig.name) != std::string::npos &&
                                      verify_bytes(log.key, note->note, sig.signature));
  }
  if (!signed_by_log) return "no signature of the checkpoint verifies with the log's key";
  if (note->size != static_cast<std::uint64_t>(*size)) {
    return fmt::format("the checkpoint's tree size {} is not the inclusion proof's {}", note->size,
                       *size);
  }
  if (note->root != *root_hash) return "the checkpoint's root hash is not the inclusion proof's";
  const std::string computed =
      merkle_root(static_cast<std::uint64_t>(*index), static_cast<std::uint64_t>(*size),
                  merkle_leaf_hash(body), hashes, reason);
  if (!reason.empty()) return reason;
  if (computed != *root_hash) {
    return "the inclusion proof's audit path does not lead from the entry to its root hash";
  }
  return "";
}

EntryCheck check_entry(const TrustedRoot& root, const json& entry, const Content& content,
                       const std::string& leaf_der) {
  EntryCheck out;
  const auto index = int64_of(entry, "logIndex");
  const auto time = int64_of(entry, "integratedTime");
  const json* log_id = obj(entry, "logId");
  const auto id = log_id != nullptr ? base64_decode(str(*log_id, "keyId")) : std::nullopt;
  const std::string body_b64 = str(entry, "canonicalizedBody");
  const auto body_bytes = base64_decode(body_b64);
  const json* kv = obj(entry, "kindVersion");
  if (!index || !time || !id || !body_bytes || kv == nullptr) {
    out.reason =
        "the entry lacks logIndex, integratedTime, logId, kindVersion or canonicalizedBody";
    return out;
  }
  out.log_index = *index;
  out.integrated_time = *time;
  out.log_id_hex = hex_encode(*id);
  const TransparencyLog* log = nullptr;
  for (const auto& t : root.tlogs) {
    if (t.log_id == *id) log = &t;
  }
  if (log == nullptr) {
    out.reason = fmt::format("the entry is in log {}, which the trusted root does not name",
                             out.log_id_hex.substr(0, 16));
    return out;
  }
  if (!log->valid.contains(*time)) {
    out.reason =
        fmt::format("the log's key was not valid at the integrated time {}", utc_text(*time));
    return out;
  }
  const json* promise = obj(entry, "inclusionPromise");
  const auto set =
      promise != nullptr ? base64_decode(str(*promise, "signedEntryTimestamp")) : std::nullopt;
  const json* proof = obj(entry, "inclusionProof");
  if ((!set || set->empty()) && proof == nullptr) {
    out.reason = "the entry has neither a signed entry timestamp nor an inclusion proof";
    return out;
  }
  if (set && !set->empty()) {
    if (!verify_bytes(log->key, set_payload(body_b64, *time, out.log_id_hex, *index), *set)) {
      out.reason = "the signed entry timestamp does not verify with the log's key";
      return out;
    }
    out.timed = true;  // the log signed the integrated time
  }
  if (proof != nullptr) {
    out.reason = check_inclusion_proof(*log, *proof, *body_bytes);
    if (!out.reason.empty()) return out;
  }
  const auto body = json::parse(*body_bytes, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    out.reason = "the entry's body is not JSON";
    return out;
  }
  out.reason = check_body(body, str(*kv, "kind"), content, leaf_der);
  return out;
}

// The chain from the leaf to a CA of the root, at time t (`what` gave it); empty: verified.
std::string check_chain(const TrustedRoot& root, X509* leaf, std::int64_t t,
                        const std::string& what) {
  std::string last = "no certificate authority of the trusted root was valid at that time";
  for (const auto& ca : root.certificate_authorities) {
    if (!ca.valid.contains(t) || ca.chain.empty()) continue;
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  X509_STORE_free);
    const auto free_stack = [](STACK_OF(X509) * stack) { sk_X509_free(stack); };
    std::unique_ptr<STACK_OF(X509), decltype(free_stack)> untrusted(sk_X509_new_null(), free_stack);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                        X509_STORE_CTX_free);
    if (!store || !untrusted || !ctx) return "out of memory";
    X509_STORE_add_cert(store.get(), ca.chain.back().get());
    for (std::size_t i = 0; i + 1 < ca.chain.size(); ++i) {
      sk_X509_push(untrusted.get(), ca.chain[i].get());
    }
    if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
      return "out of memory";
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(t));
    if (X509_verify_cert(ctx.get()) == 1) return "";
    const int error = X509_STORE_CTX_get_error(ctx.get());
    if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) {
      return fmt::format("the certificate was not valid at {} {} ({})", what, utc_text(t),
                         X509_verify_cert_error_string(error));
    }
    last = fmt::format(
        "the certificate does not chain to a certificate authority of the trusted "
        "root ({})",
        X509_verify_cert_error_string(error));
  }
  return last;
}

// The reason of OpenSSL's last error, with its data (the X.509 verify error) when it has some.
std::string openssl_reason() {
  const char* data = nullptr;
  int flags = 0;
  unsigned long last = 0;
  std::string text;
  unsigned long e = 0;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    last = e;
    text = (flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0' ? data : "";
  }
  if (last == 0) return "no reason given";
  const char* reason = ERR_reason_error_string(last);
  std::string out = reason != nullptr ? reason : fmt::format("error {:#x}", last);
  if (!text.empty()) out += ": " + text;
  return out;
}

std::string digest_with(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace

std::string merkle_leaf_hash(std::string_view leaf) {
  return digest_with(EVP_sha256(), std::string(1, '\0') + std::string(leaf));
}

std::string merkle_node_hash(std::string_view left, std::string_view right) {
  return digest_with(EVP_sha256(), std::string(1, '\x01') + std::string(left) + std::string(right));
}

std::string merkle_root(std::uint64_t index, std::uint64_t size, std::string_view leaf_hash,
                        const std::vector<std::string>& hashes, std::string& reason) {
  reason.clear();
  if (index >= size) {
    reason = fmt::format("the inclusion proof's index {} is not in a tree of size {}", index, size);
    return "";
  }
  // The audit path's length: the levels below the point where the paths to the leaf and to the
  // last leaf part (inner), then one hash for each set bit above it (the right border).
  std::size_t inner = 0;
  for (std::uint64_t x = index ^ (size - 1); x != 0; x >>= 1) ++inner;
  std::size_t border = 0;
  for (std::uint64_t x = inner < 64 ? index >> inner : 0; x != 0; x >>= 1) border += x & 1;
  if (hashes.size() != inner + border) {
    reason =
        fmt::format("the inclusion proof holds {} hashes; index {} in a tree of size {} needs {}",
                    hashes.size(), index, size, inner + border);
    return "";
  }
  for (const auto& h : hashes) {
    if (h.size() != 32) {
      reason = "a hash of the inclusion proof is not 32 bytes";
      return "";
    }
  }
  // RFC 9162 2.1.3.2.
  std::uint64_t fn = index, sn = size - 1;
  std::string r(leaf_hash);
  for (const auto& p : hashes) {
    if ((fn & 1) == 1 || fn == sn) {
      r = merkle_node_hash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = merkle_node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return r;
}

std::optional<Checkpoint> parse_checkpoint(std::string_view envelope, std::string& reason) {
  reason.clear();
  const auto split = envelope.find("\n\n");
  if (split == std::string_view::npos) {
    reason = "the checkpoint has no blank line between its note and its signatures";
    return std::nullopt;
  }
  Checkpoint c;
  c.note = std::string(envelope.substr(0, split + 1));
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < c.note.size();) {
    const auto nl = c.note.find('\n', at);
    lines.push_back(std::string_view(c.note).substr(at, nl - at));
    at = nl + 1;
  }
  if (lines.size() < 3) {
    reason = "the checkpoint's note has fewer than three lines (origin, tree size, root hash)";
    return std::nullopt;
  }
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) {
    reason = "the checkpoint's origin line is empty";
    return std::nullopt;
  }
  const std::string_view size = lines[1];
  bool digits = !size.empty() && size.size() <= 19 && (size == "0" || size[0] != '0');
  std::uint64_t n = 0;
  for (const char ch : size) {
    digits = digits && std::isdigit(static_cast<unsigned char>(ch));
    if (digits) n = n * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (!digits) {
    reason = fmt::format("the checkpoint's tree size {} is not a decimal number",
                         util::quote(util::escape_display(std::string(size))));
    return std::nullopt;
  }
  c.size = n;
  const auto hash = base64_decode(lines[2]);
  if (!hash || hash->size() != 32) {
    reason = "the checkpoint's root hash is not a base64 SHA-256 hash";
    return std::nullopt;
  }
  c.root = *hash;
  // Signature lines: "\u2014 <name> <base64(4-byte key hint || signature)>".
  constexpr std::string_view kDash = "\xe2\x80\x94 ";
  std::string_view rest = envelope.substr(split + 2);
  std::size_t line_number = 0;
  while (!rest.empty()) {
    ++line_number;
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      reason = fmt::format("the checkpoint's signature line {} does not end with a newline",
                           line_number);
      return std::nullopt;
    }
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    const auto space =
        line.starts_with(kDash) ? line.find(' ', kDash.size()) : std::string_view::npos;
    const auto sig =
        space != std::string_view::npos ? base64_decode(line.substr(space + 1)) : std::nullopt;
    if (space == std::string_view::npos || space == kDash.size() || !sig || sig->size() < 5) {
      reason = fmt::format(
          "the checkpoint's signature line {} is not \"\u2014 <name> <base64 key hint and "
          "signature>\"",
          line_number);
      return std::nullopt;
    }
    c.signatures.push_back({std::string(line.substr(kDash.size(), space - kDash.size())),
                            sig->substr(0, 4), sig->substr(4)});
  }
  if (c.signatures.empty()) {
    reason = "the checkpoint has no signature";
    return std::nullopt;
  }
  return c;
}

SctVerdict verify_scts(const TrustedRoot& root, X509* leaf) {
  SctVerdict out;
  const auto fail_with = [&](std::string reason) {
    out.reason = std::move(reason);
    return out;
  };
  std::unique_ptr<STACK_OF(SCT), decltype(&SCT_LIST_free)> scts(
      static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(leaf, NID_ct_precert_scts, nullptr, nullptr)),
      SCT_LIST_free);
  ERR_clear_error();
  if (!scts || sk_SCT_num(scts.get()) == 0) {
    return fail_with("the certificate embeds no SCT");
  }
  // The issuer (a certificate of a CA chain of the root) and the hash of its key.
  X509* issuer = nullptr;
  for (const auto& ca : root.certificate_authorities) {
    for (const auto& cert : ca.chain) {
      if (issuer == nullptr && X509_check_issued(cert.get(), leaf) == X509_V_OK) {
        issuer = cert.get();
      }
    }
  }
  if (issuer == nullptr) return fail_with("the certificate's issuer is not in the trusted root");
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
  if (spki_len <= 0) return fail_with("the issuer's key cannot be read");
  const std::string issuer_key_hash = digest_with(
      EVP_sha256(),
      std::string(reinterpret_cast<const char*>(spki), static_cast<std::size_t>(spki_len)));
  OPENSSL_free(spki);
  // The precertificate's TBSCertificate: the leaf's without the SCT list (RFC 6962 3.2).
  std::unique_ptr<X509, decltype(&X509_free)> pre(X509_dup(leaf), X509_free);
  if (!pre) return fail_with("out of memory");
  for (const int nid : {NID_ct_precert_scts, NID_ct_precert_poison}) {
    const int at = X509_get_ext_by_NID(pre.get(), nid, -1);
    if (at >= 0) X509_EXTENSION_free(X509_delete_ext(pre.get(), at));
  }
  unsigned char* tbs_der = nullptr;
  const int tbs_len = i2d_re_X509_tbs(pre.get(), &tbs_der);
  if (tbs_len <= 0) return fail_with("the certificate's TBSCertificate cannot be encoded");
  const std::string tbs(reinterpret_cast<const char*>(tbs_der), static_cast<std::size_t>(tbs_len));
  OPENSSL_free(tbs_der);
  const auto be = [](std::uint64_t v, int bytes) {
    std::string b;
    for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return b;
  };
  std::string last;
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    const SCT* sct = sk_SCT_value(scts.get(), i);
    unsigned char* id = nullptr;
    const std::size_t id_len = SCT_get0_log_id(sct, &id);
    const std::string log_id(reinterpret_cast<const char*>(id), id_len);
    const TransparencyLog* log = nullptr;
    for (const auto& l : root.ctlogs) {
      if (l.log_id == log_id) log = &l;
    }
    const std::int64_t when = static_cast<std::int64_t>(SCT_get_timestamp(sct) / 1000);
    if (SCT_get_version(sct) != SCT_VERSION_V1) {
      last = fmt::format("SCT {} is not a version 1 SCT", i);
      continue;
    }
    if (log == nullptr) {
      last = fmt::format("SCT {} is from CT log {}, which the trusted root does not name", i,
                         hex_encode(log_id).substr(0, 16));
      continue;
    }
    if (!log->valid.contains(when)) {
      last = fmt::format("SCT {}: the CT log's key was not valid at the SCT's time {}", i,
                         utc_text(when));
      continue;
    }
    const int nid = SCT_get_signature_nid(sct);
    if (nid != NID_ecdsa_with_SHA256 && nid != NID_sha256WithRSAEncryption) {
      last = fmt::format("SCT {} is not signed with SHA-256 (ECDSA or RSA)", i);
      continue;
    }
    unsigned char* ext = nullptr;
    const std::size_t ext_len = SCT_get0_extensions(sct, &ext);
    unsigned char* sig = nullptr;
    const std::size_t sig_len = SCT_get0_signature(sct, &sig);
    // digitally-signed struct: version, certificate_timestamp, timestamp, precert_entry,
    // issuer_key_hash, the TBSCertificate (24-bit length), the extensions (16-bit length).
    std::string data = be(0, 1) + be(0, 1) + be(SCT_get_timestamp(sct), 8) + be(1, 2) +
                       issuer_key_hash + be(tbs.size(), 3) + tbs + be(ext_len, 2) +
                       std::string(reinterpret_cast<const char*>(ext), ext_len);
    if (!verify_bytes(log->key, data,
                      std::string_view(reinterpret_cast<const char*>(sig), sig_len))) {
      last = fmt::format("SCT {} does not verify with the CT log's key", i);
      continue;
    }
    ++out.verified;
  }
  if (out.verified == 0) out.reason = last;
  return out;
}

TimestampVerdict verify_timestamp(const TrustedRoot& root, std::string_view der,
                                  std::string_view signature) {
  TimestampVerdict out;
  const auto fail_with = [&](std::string reason) {
    out.reason = std::move(reason);
    return out;
  };
  ERR_clear_error();
  const auto* start = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = start + der.size();
  const unsigned char* p = start;
  std::unique_ptr<TS_RESP, decltype(&TS_RESP_free)> resp(
      d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())), TS_RESP_free);
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> own_token(nullptr, PKCS7_free);
  std::unique_ptr<TS_TST_INFO, decltype(&TS_TST_INFO_free)> own_info(nullptr, TS_TST_INFO_free);
  PKCS7* token = nullptr;
  TS_TST_INFO* info = nullptr;
  if (resp && p == end) {
    // A TimeStampResp (RFC 3161 2.4.2), as Sigstore's bundles hold it.
    const long status =
        ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get())));
    if (status != 0 && status != 1) {
      return fail_with(fmt::format("the timestamp response's status is {}, not granted", status));
    }
    token = TS_RESP_get_token(resp.get());
    info = TS_RESP_get_tst_info(resp.get());
  } else {
    // The bare TimeStampToken (a CMS SignedData of a TSTInfo).
    p = start;
    own_token.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (own_token && p == end) own_info.reset(PKCS7_to_TS_TST_INFO(own_token.get()));
    token = own_token.get();
    info = own_info.get();
  }
  ERR_clear_error();
  if (token == nullptr || info == nullptr) {
    return fail_with("the timestamp is not a DER RFC 3161 timestamp response or token");
  }
  const ASN1_GENERALIZEDTIME* gen_time = TS_TST_INFO_get_time(info);
  std::tm tm{};
  if (gen_time == nullptr || ASN1_TIME_to_tm(gen_time, &tm) != 1) {
    return fail_with("the timestamp's genTime cannot be read");
  }
  out.time = static_cast<std::int64_t>(timegm(&tm));

  // The imprint: the hash of the bundle's signature bytes.
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info);
  const ASN1_OBJECT* algorithm = nullptr;
  X509_ALGOR_get0(&algorithm, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  const int nid = OBJ_obj2nid(algorithm);
  const EVP_MD* md = nid == NID_sha256   ? EVP_sha256()
                     : nid == NID_sha384 ? EVP_sha384()
                     : nid == NID_sha512 ? EVP_sha512()
                                         : nullptr;
  const char* md_name = nid == NID_sha256 ? "SHA-256" : nid == NID_sha384 ? "SHA-384" : "SHA-512";
  if (md == nullptr) {
    char name[80] = {0};
    OBJ_obj2txt(name, sizeof(name), algorithm, 0);
    return fail_with(fmt::format(
        "the timestamp's message imprint uses {}, not SHA-256, SHA-384 or SHA-512", name));
  }
  const std::string expected = digest_with(md, signature);
  if (asn1_text(TS_MSG_IMPRINT_get_msg(imprint)) != expected) {
    return fail_with(fmt::format(
        "the timestamp is over other bytes (its message imprint is not the {} of the bundle's "
        "signature)",
        md_name));
  }

  // The signer, named by issuer and serial: the leaf of a timestamp authority of the root.
  STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
  if (signers == nullptr || sk_PKCS7_SIGNER_INFO_num(signers) != 1) {
    return fail_with("the timestamp does not have exactly one signer");
  }
  const PKCS7_ISSUER_AND_SERIAL* sid = sk_PKCS7_SIGNER_INFO_value(signers, 0)->issuer_and_serial;
  std::string last = fmt::format(
      "the timestamp's signer is not the certificate of a timestamp authority of the trusted "
      "root valid at its time {}",
      utc_text(out.time));
  for (const auto& tsa : root.timestamp_authorities) {
    if (tsa.chain.empty() || !tsa.valid.contains(out.time)) continue;
    X509* leaf = tsa.chain.front().get();
    if (sid == nullptr || X509_NAME_cmp(sid->issuer, X509_get_issuer_name(leaf)) != 0 ||
        ASN1_INTEGER_cmp(sid->serial, X509_get0_serialNumber(leaf)) != 0) {
      continue;
    }
    std::unique_ptr<TS_VERIFY_CTX, decltype(&TS_VERIFY_CTX_free)> ctx(TS_VERIFY_CTX_new(),
                                                                      TS_VERIFY_CTX_free);
    X509_STORE* store = X509_STORE_new();
    STACK_OF(X509)* certs = sk_X509_new_null();
    auto* bytes = static_cast<unsigned char*>(OPENSSL_malloc(expected.size()));
    if (!ctx || store == nullptr || certs == nullptr || bytes == nullptr) {
      X509_STORE_free(store);
      sk_X509_free(certs);
      OPENSSL_free(bytes);
      return fail_with("out of memory");
    }
    // The context owns the store, the certificates and the imprint from here on.
    TS_VERIFY_CTX_set_store(ctx.get(), store);
    TS_VERIFY_CTX_set_certs(ctx.get(), certs);
    std::memcpy(bytes, expected.data(), expected.size());
    TS_VERIFY_CTX_set_imprint(ctx.get(), bytes, static_cast<long>(expected.size()));
    X509_STORE_add_cert(store, tsa.chain.back().get());
    for (const auto& cert : tsa.chain) {
      if (X509_up_ref(cert.get()) != 1 || sk_X509_push(certs, cert.get()) <= 0) {
        return fail_with("out of memory");
      }
    }
    // The authority's chain is judged at the time it stamped, not now.
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(out.time));
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
    ERR_clear_error();
    if (TS_RESP_verify_token(ctx.get(), token) == 1) {
      out.authority = tsa.uri;
      return out;
    }
    last = fmt::format("the timestamp does not verify with the timestamp authority {} ({})",
                       util::quote(util::escape_display(tsa.uri)), openssl_reason());
  }
  return fail_with(last);
}

namespace {

bool verify_prehashed(EVP_PKEY* key, std::string_view digest, std::string_view signature) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return false;
  }
  return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(digest.data()),
                         digest.size()) == 1;
}

}  // namespace

bool is_bundle_media_type(std::string_view media_type) {
  return media_type == kBundleV01 || media_type == kBundleV02 || media_type == kBundleV03 ||
         media_type == "application/vnd.dev.sigstore.bundle+json;version=0.3";
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (text.size() < 20) return std::nullopt;
  const auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
             s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' || *mo < 1 ||
      *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    const std::size_t digits = at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
    if (at == digits) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    offset = 0;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    const auto oh = num(at + 1, 2), om = num(at + 4, 2);
    if (!oh || !om) return std::nullopt;
    offset = (*oh * 3600 + *om * 60) * (text[at] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

std::string set_payload(std::string_view body_b64, std::int64_t integrated_time,
                        std::string_view log_id_hex, std::int64_t log_index) {
  // Sorted keys, no whitespace, integers as integers: RFC 8785 for these four values.
  const json payload = {{"body", std::string(body_b64)},
                        {"integratedTime", integrated_time},
                        {"logID", std::string(log_id_hex)},
                        {"logIndex", log_index}};
  return payload.dump();
}

Result<TrustedRoot> parse_trusted_root(std::string_view text, std::string_view name) {
  const std::string quoted = std::string(name);
  const auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(
        "TRUSTED_ROOT_INVALID",
        fmt::format("trusted root {} is not a JSON object (Sigstore's trusted_root.json)", quoted));
  }
  const std::string media_type = str(doc, "mediaType");
  if (!media_type.empty() && !media_type.starts_with("application/vnd.dev.sigstore.trustedroot")) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {}: mediaType {} is not a Sigstore trusted root", quoted,
                            util::quote(util::escape_display(media_type))));
  }
  const auto wrap = [&](const Error& e) {
    return fail(e.code, fmt::format("trusted root {}: {}", quoted, e.message));
  };
  TrustedRoot root;
  root.name = quoted;
  auto cas = read_authorities(doc, "certificateAuthorities");
  if (!cas) return wrap(cas.error());
  root.certificate_authorities = std::move(*cas);
  auto tsas = read_authorities(doc, "timestampAuthorities");
  if (!tsas) return wrap(tsas.error());
  root.timestamp_authorities = std::move(*tsas);
  auto tlogs = read_logs(doc, "tlogs");
  if (!tlogs) return wrap(tlogs.error());
  root.tlogs = std::move(*tlogs);
  auto ctlogs = read_logs(doc, "ctlogs");
  if (!ctlogs) return wrap(ctlogs.error());
  root.ctlogs = std::move(*ctlogs);
  if (root.certificate_authorities.empty()) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {} names no certificateAuthorities (Fulcio)", quoted));
  }
  // Without a log, only timestamps can give a time: GitHub's trusted root for private
  // repositories names a timestamp authority and no Rekor.
  if (root.tlogs.empty() && root.timestamp_authorities.empty()) {
    return fail(
        "TRUSTED_ROOT_INVALID",
        fmt::format("trusted root {} names no tlogs (Rekor) and no timestampAuthorities", quoted));
  }
  return root;
}

Result<TrustedRoot> load_trusted_root(const std::filesystem::path& path) {
  const std::string name = util::quote(path.string());
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} does not exist", name));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} cannot be read", name));
  if (size > kMaxTrustedRootBytes) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {} is larger than {} bytes", name, kMaxTrustedRootBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} cannot be read", name));
  return parse_trusted_root(text.str(), name);
}

std::optional<CertificateFacts> read_certificate(std::string_view der) {
  auto cert = x509_from_der(der);
  if (!cert) return std::nullopt;
  CertificateFacts facts;
  facts.not_before = time_of(X509_get0_notBefore(cert.get()));
  facts.not_after = time_of(X509_get0_notAfter(cert.get()));
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && facts.subject.empty(); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_URI) facts.subject = asn1_text(name->d.uniformResourceIdentifier);
      if (name->type == GEN_EMAIL) facts.subject = asn1_text(name->d.rfc822Name);
    }
    GENERAL_NAMES_free(names);
  }
  for (int i = 0; i < X509_get_ext_count(cert.get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert.get(), i);
    char oid[128] = {0};
    if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0) continue;
    const std::string_view id(oid);
    if (!id.starts_with(kFulcioPrefix)) continue;
    const std::string raw = asn1_text(X509_EXTENSION_get_data(ext));
    int number = 0;
    for (const char c : id.substr(kFulcioPrefix.size())) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        number = -1;
        break;
      }
      number = number * 10 + (c - '0');
    }
    if (number <= 0) continue;
    std::string value;
    if (number <= 6) {
      value = raw;  // the legacy extensions hold the bytes themselves
    } else {
      const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
      ASN1_UTF8STRING* s = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(raw.size()));
      if (s == nullptr) continue;  // not what Fulcio writes: read as absent, never as a value
      value = asn1_text(s);
      ASN1_UTF8STRING_free(s);
    }
    facts.extensions[std::string(id)] = value;
  }
  const auto ext = [&](int n) {
    const auto it = facts.extensions.find(fmt::format("{}{}", kFulcioPrefix, n));
    return it == facts.extensions.end() ? std::string() : it->second;
  };
  facts.issuer = !ext(8).empty() ? ext(8) : ext(1);
  facts.build_signer = ext(9);
  facts.source_repository = ext(12);
  facts.source_digest = !ext(13).empty() ? ext(13) : ext(3);
  facts.source_ref = !ext(14).empty() ? ext(14) : ext(6);
  facts.build_trigger = !ext(20).empty() ? ext(20) : ext(2);
  facts.run_invocation = ext(21);
  return facts;
}

bool identity_matches(const IdentityRule& rule, const CertificateFacts& cert) {
  if (rule.issuer.empty() || cert.issuer != rule.issuer) return false;
  if (!rule.subject.empty()) return cert.subject == rule.subject;
  if (rule.subject_regexp.empty()) return false;
  try {
    // As cosign and sigstore-js: the expression is searched in the SAN; anchor it (^...$) to
    // match the whole subject.
    return std::regex_search(cert.subject, std::regex(rule.subject_regexp));
  } catch (const std::regex_error&) {
    return false;
  }
}

std::string describe(const IdentityRule& rule) {
  return rule.subject.empty()
             ? fmt::format("issuer {}, subject matching {}", util::quote(rule.issuer),
                           util::quote(rule.subject_regexp))
             : fmt::format("issuer {}, subject {}", util::quote(rule.issuer),
                           util::quote(rule.subject));
}

BundleVerdict verify_bundle(const TrustedRoot& root, std::string_view bundle,
                            std::string_view digest, const std::vector<IdentityRule>& identities,
                            std::string_view sha) {
  BundleVerdict v;
  const auto invalid = [&](const char* code, std::string reason) {
    v.code = code;
    v.reason = std::move(reason);
    return v;
  };
  const auto doc = json::parse(bundle, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid("SIGNATURE_INVALID", "the bundle is not JSON");
  }
  const std::string media_type = str(doc, "mediaType");
  if (!is_bundle_media_type(media_type)) {
    return invalid("SIGNATURE_INVALID",
                   fmt::format("the bundle's mediaType {} is not a Sigstore bundle v0.1 to v0.3",
                               util::quote(util::escape_display(media_type))));
  }
  const json* material = obj(doc, "verificationMaterial");
  if (material == nullptr)
    return invalid("SIGNATURE_INVALID", "the bundle has no verificationMaterial");
  std::string leaf_b64;
  if (const json* chain = obj(*material, "x509CertificateChain")) {
    const json* certs = arr(*chain, "certificates");
    if (certs != nullptr && !certs->empty()) leaf_b64 = str((*certs)[0], "rawBytes");
  } else if (const json* cert = obj(*material, "certificate")) {
    leaf_b64 = str(*cert, "rawBytes");
  } else if (obj(*material, "publicKey") != nullptr) {
    return invalid("SIGNATURE_INVALID",
                   "the bundle is signed with a key, not a Fulcio certificate (use --key)");
  }
  const auto leaf_der = base64_decode(leaf_b64);
  auto leaf = leaf_der ? x509_from_der(*leaf_der) : nullptr;
  const auto facts = leaf_der ? read_certificate(*leaf_der) : std::nullopt;
  if (!leaf || !facts) {
    return invalid("SIGNATURE_INVALID", "the bundle holds no readable X.509 certificate");
  }
  v.certificate_read = true;
  v.certificate = *facts;

  Content content;
  if (const json* envelope = obj(doc, "dsseEnvelope")) {
    content.kind = "dsseEnvelope";
    content.payload_type = str(*envelope, "payloadType");
    const auto payload = base64_decode(str(*envelope, "payload"));
    const json* sigs = arr(*envelope, "signatures");
    const auto sig =
        sigs != nullptr && sigs->size() == 1 ? base64_decode(str((*sigs)[0], "sig")) : std::nullopt;
    if (!payload || !sig || content.payload_type.empty()) {
      return invalid("SIGNATURE_INVALID",
                     "the DSSE envelope lacks payloadType, payload or exactly one signature");
    }
    content.payload = *payload;
    content.signature = *sig;
  } else if (const json* message = obj(doc, "messageSignature")) {
    content.kind = "messageSignature";
    const json* md = obj(*message, "messageDigest");
    const auto d = md != nullptr ? base64_decode(str(*md, "digest")) : std::nullopt;
    const auto sig = base64_decode(str(*message, "signature"));
    if (md == nullptr || str(*md, "algorithm") != "SHA2_256" || !d || d->size() != 32 || !sig) {
      return invalid("SIGNATURE_INVALID",
                     "the message signature lacks a SHA2_256 messageDigest or the signature");
    }
    content.message_digest = *d;
    content.signature = *sig;
  } else {
    return invalid("SIGNATURE_INVALID",
                   "the bundle holds neither dsseEnvelope nor messageSignature");
  }
  v.kind = content.kind;

  // The time sources: every RFC 3161 timestamp and every transparency-log entry the bundle holds
  // must verify (any that does not fails the bundle), and at least one must give a trusted time;
  // the certificate must have been valid at each of those times.
  std::vector<std::pair<std::int64_t, std::string>> times;  // the time, what gave it
  const json* stamp_data = obj(*material, "timestampVerificationData");
  const json* stamps = stamp_data != nullptr ? arr(*stamp_data, "rfc3161Timestamps") : nullptr;
  for (std::size_t i = 0; stamps != nullptr && i < stamps->size(); ++i) {
    const auto der = base64_decode(str((*stamps)[i], "signedTimestamp"));
    if (!der || der->empty()) {
      return invalid("TLOG_INVALID",
                     fmt::format("timestamp {}: signedTimestamp is missing or not base64", i));
    }
    const TimestampVerdict stamp = verify_timestamp(root, *der, content.signature);
    if (!stamp.valid()) {
      return invalid("TLOG_INVALID", fmt::format("timestamp {}: {}", i, stamp.reason));
    }
    v.timestamps.push_back(stamp.time);
    times.emplace_back(stamp.time, "the timestamp's time");
  }
  const json* tlog_entries = arr(*material, "tlogEntries");
  for (std::size_t i = 0; tlog_entries != nullptr && i < tlog_entries->size(); ++i) {
    const EntryCheck check = check_entry(root, (*tlog_entries)[i], content, *leaf_der);
    if (!check.reason.empty()) {
      return invalid("TLOG_INVALID",
                     check.log_index >= 0
                         ? fmt::format("entry {}: {}", check.log_index, check.reason)
                         : check.reason);
    }
    if (v.log_index < 0) {
      v.log_index = check.log_index;
      v.integrated_time = check.integrated_time;
      v.log_id_hex = check.log_id_hex;
    }
    if (check.timed) times.emplace_back(check.integrated_time, "the log's integrated time");
  }
  if (times.empty()) {
    return invalid(
        "TLOG_INVALID",
        v.log_index >= 0
            ? "no verified time: the log entries have no signed entry timestamp (an inclusion "
              "proof proves the entry is logged, not when) and the bundle has no RFC 3161 "
              "timestamp"
            : "the bundle has neither a transparency-log entry nor an RFC 3161 timestamp");
  }
  for (const auto& [t, what] : times) {
    if (const std::string chain = check_chain(root, leaf.get(), t, what); !chain.empty()) {
      return invalid("SIGNATURE_INVALID", chain);
    }
  }
  // Certificate transparency: Fulcio logged the certificate (as sigstore-js: one SCT of a CT log of
  // the root, ctlogThreshold 1).
  if (const SctVerdict scts = verify_scts(root, leaf.get()); scts.verified == 0) {
    return invalid("SIGNATURE_INVALID",
                   fmt::format("the certificate has no valid SCT of a CT log of the trusted root "
                               "({})",
                               scts.reason));
  }
  PublicKey cert_key;
  EVP_PKEY* pkey = X509_get0_pubkey(leaf.get());
  if (pkey == nullptr || EVP_PKEY_up_ref(pkey) != 1) {
    return invalid("SIGNATURE_INVALID", "the certificate's public key cannot be read");
  }
  cert_key.key = std::shared_ptr<evp_pkey_st>(pkey, EVP_PKEY_free);
  cert_key.type = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 ? "ed25519" : "ecdsa";

  const std::string hex(digest.substr(digest.find(':') + 1));
  if (content.kind == "dsseEnvelope") {
    if (!verify_bytes(cert_key, dsse_pae(content.payload_type, content.payload),
                      content.signature)) {
      return invalid("SIGNATURE_INVALID",
                     "the DSSE envelope's signature does not verify with the certificate's key");
    }
    if (content.payload_type != kInToto) {
      return invalid("SIGNATURE_INVALID",
                     fmt::format("the envelope's payloadType is {}, not an in-toto statement",
                                 util::quote(util::escape_display(content.payload_type))));
    }
    const auto st = json::parse(content.payload, nullptr, false);
    const json* subjects = arr(st, "subject");
    if (subjects == nullptr)
      return invalid("SIGNATURE_INVALID", "the in-toto statement has no subject list");
    v.predicate_type = str(st, "predicateType");
    bool names = false;
    std::vector<std::string> others;
    for (const auto& s : *subjects) {
      const json* d = obj(s, "digest");
      const std::string value = d != nullptr ? str(*d, "sha256") : "";
      names = names || value == hex;
      if (!value.empty()) others.push_back("sha256:" + value.substr(0, 12));
    }
    if (!names) {
      return invalid("SIGNATURE_INVALID",
                     fmt::format("the bundle's subject is {}, not this digest",
                                 others.empty() ? std::string("empty") : util::join(others, ", ")));
    }
  } else {
    if (!verify_prehashed(pkey, content.message_digest, content.signature)) {
      return invalid("SIGNATURE_INVALID",
                     "the message signature does not verify with the certificate's key");
    }
    if (hex_encode(content.message_digest) != hex) {
      return invalid("SIGNATURE_INVALID",
                     fmt::format("the bundle signs digest sha256:{}, not this digest",
                                 hex_encode(content.message_digest).substr(0, 12)));
    }
  }

  bool identity = false;
  for (const auto& rule : identities) identity = identity || identity_matches(rule, *facts);
  if (!identity) {
    std::vector<std::string> wanted;
    for (const auto& rule : identities) wanted.push_back(describe(rule));
    return invalid(
        "IDENTITY_MISMATCH",
        fmt::format("signed by subject {} from issuer {}; the policy accepts {}",
                    util::quote(util::escape_display(facts->subject)),
                    util::quote(util::escape_display(facts->issuer)), util::join(wanted, "; ")));
  }
  if (!sha.empty() && facts->source_digest != sha) {
    return invalid("PROVENANCE_COMMIT_MISMATCH",
                   fmt::format("the certificate names source commit {}, but this build is {}",
                               facts->source_digest.empty()
                                   ? std::string("none")
                                   : util::quote(util::escape_display(facts->source_digest)),
                               sha));
  }
  v.valid = true;
  return v;
}

}  // namespace imagegate::provenance
