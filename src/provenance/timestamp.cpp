// RFC 3161 timestamps of a bundle's signature, by a timestamp authority of the trusted root.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include <cstring>
#include <ctime>

#include "provenance/keyless_detail.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

using namespace keyless_detail;

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

}  // namespace imagegate::provenance
