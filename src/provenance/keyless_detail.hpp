// What the files of keyless verification share (keyless.cpp, keyless_support.cpp,
// trusted_root.cpp, transparency_log.cpp, certificate.cpp, timestamp.cpp): lenient JSON accessors
// (a missing or mistyped field reads as absent; the callers say what is missing), DER and
// ASN.1 helpers, and the checks verify_bundle composes. Not an interface for the rest of imagegate.
#pragma once

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "provenance/keyless.hpp"

namespace imagegate::provenance::keyless_detail {

using nlohmann::json;

// The string, object or array at `key` of an object; "" / nullptr when absent or of another type.
std::string str(const json& j, const char* key);
const json* obj(const json& j, const char* key);
const json* arr(const json& j, const char* key);
// A protobuf-JSON int64: a string of digits or a number.
std::optional<std::int64_t> int64_of(const json& j, const char* key);

std::string base64_encode(std::string_view bytes);
// A DER certificate with nothing after it; nullptr otherwise.
std::shared_ptr<x509_st> x509_from_der(std::string_view der);
std::string der_of(X509* cert);
// The DER of a PEM certificate, empty when it is not one.
std::string der_of_pem(std::string_view pem);
// Unix seconds of an ASN.1 time (0 when unreadable), an ASN.1 string's bytes, and
// "YYYY-MM-DDTHH:MM:SSZ".
std::int64_t time_of(const ASN1_TIME* t);
std::string asn1_text(const ASN1_STRING* s);
std::string utc_text(std::int64_t t);
// The reason of OpenSSL's last error, with its data (the X.509 verify error) when it has some.
std::string openssl_reason();
// The raw digest of `data` with `md`; empty on failure.
std::string digest_with(const EVP_MD* md, std::string_view data);

// What a bundle signs, as its transparency-log entries must repeat it.
struct Content {
  std::string kind;
  std::string signature;       // raw
  std::string payload;         // DSSE: decoded payload
  std::string payload_type;    // DSSE
  std::string message_digest;  // messageSignature: raw SHA-256
};

// The transparency-log entry: its SET verifies with a log of the root and its body matches.
struct EntryCheck {
  std::string reason;  // empty: verified
  bool timed = false;  // a verified signed entry timestamp: the integrated time is trusted
  std::int64_t log_index = -1;
  std::int64_t integrated_time = 0;
  std::string log_id_hex;
};
// transparency_log.cpp: one entry of verificationMaterial.tlogEntries, for the bundle's content
// and leaf certificate (DER).
EntryCheck check_entry(const TrustedRoot& root, const json& entry, const Content& content,
                       const std::string& leaf_der);

// certificate.cpp: the chain from the leaf to a CA of the root, at time t (`what` gave it);
// empty: verified.
std::string check_chain(const TrustedRoot& root, X509* leaf, std::int64_t t,
                        const std::string& what);

}  // namespace imagegate::provenance::keyless_detail
