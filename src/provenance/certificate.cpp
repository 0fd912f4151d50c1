// The Fulcio certificate: its chain to a certificate authority of the trusted root at a verified
// time, its embedded SCTs (certificate transparency), the facts Fulcio wrote into it, and the
// identity policy's match.
#include <fmt/format.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <regex>

#include "provenance/keyless_detail.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

using namespace keyless_detail;

namespace {

constexpr std::string_view kFulcioPrefix = "1.3.6.1.4.1.57264.1.";

}  // namespace

std::string keyless_detail::check_chain(const TrustedRoot& root, X509* leaf, std::int64_t t,
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

}  // namespace imagegate::provenance
