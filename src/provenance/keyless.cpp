// Sigstore bundle verification (sigstore/cosign specs/dotsigstore_bundle/verification_flows.md),
// offline, with OpenSSL: the time sources first (RFC 3161 timestamps and transparency-log
// entries; they give the times everything else is judged at), then the certificate chain at each
// of those times, the signature with the certificate's key, the subject digest, and last the
// identity and the commit the certificate names.
//
// The parts live beside it: trusted_root.cpp, timestamp.cpp, transparency_log.cpp,
// certificate.cpp, and keyless_support.cpp for what they share (keyless_detail.hpp).
#include "provenance/keyless.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "provenance/keyless_detail.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

using namespace keyless_detail;

namespace {

constexpr std::string_view kInToto = "application/vnd.in-toto+json";

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
