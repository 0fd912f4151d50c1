// Keyless provenance: Sigstore bundles (sigstore/cosign specs/BUNDLE_SPEC.md, v0.1 to v0.3)
// verified offline against a trusted root (Sigstore's trusted_root.json): every time source
// verifies and there is at least one (a Rekor entry whose signed entry timestamp verifies with
// the log's key, whose inclusion proof and checkpoint verify when it has them, and whose body
// matches the signature and certificate; an RFC 3161 timestamp of the signature by a timestamp
// authority of the root), the Fulcio certificate chains to a CA of
// the root at each verified time and embeds an SCT of a CT log of the root, the signature verifies
// with the certificate's key, and the certificate's identity, issuer and source commit
// (Fulcio's 1.3.6.1.4.1.57264.1.* extensions) match the policy. Pure: bytes in, verdict out; only
// the trusted root is read from a file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/manifest.hpp"
#include "provenance/verify.hpp"
#include "util/error.hpp"

struct x509_st;

namespace imagegate::provenance {

inline constexpr std::string_view kBundleV01 =
    "application/vnd.dev.sigstore.bundle+json;version=0.1";
inline constexpr std::string_view kBundleV02 =
    "application/vnd.dev.sigstore.bundle+json;version=0.2";
inline constexpr std::string_view kBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

// True for the three bundle media types (and
// "application/vnd.dev.sigstore.bundle+json;version=0.3", which some producers write for v0.3).
bool is_bundle_media_type(std::string_view media_type);

// A validity window in Unix seconds; end 0: open.
struct Validity {
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool contains(std::int64_t t) const { return t >= start && (end == 0 || t <= end); }
};

struct CertificateAuthority {
  std::string uri;
  std::vector<std::shared_ptr<x509_st>> chain;  // leaf-most first, the root last
  Validity valid;
};

struct TransparencyLog {
  std::string base_url;
  std::string log_id;  // the key id, raw bytes
  PublicKey key;
  Validity valid;
};

struct TrustedRoot {
  std::string name;  // the file, for messages
  std::vector<CertificateAuthority> certificate_authorities;
  std::vector<TransparencyLog> tlogs;
  std::vector<TransparencyLog> ctlogs;
  std::vector<CertificateAuthority> timestamp_authorities;
};

// TRUSTED_ROOT_INVALID naming the file and the field when the document is not a trusted root
// with at least one certificate authority and one transparency log.
Result<TrustedRoot> parse_trusted_root(std::string_view text, std::string_view name);
// TRUSTED_ROOT_INVALID also when the file is missing or cannot be read.
Result<TrustedRoot> load_trusted_root(const std::filesystem::path& path);

// "2021-01-12T11:53:27.000Z" (RFC 3339, UTC or an offset) -> Unix seconds; nullopt otherwise.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// The canonical JSON (RFC 8785) a signed entry timestamp signs:
// {"body":"<base64>","integratedTime":<n>,"logID":"<hex>","logIndex":<n>}.
std::string set_payload(std::string_view body_b64, std::int64_t integrated_time,
                        std::string_view log_id_hex, std::int64_t log_index);

std::string hex_encode(std::string_view bytes);

// One RFC 3161 timestamp (`timestampVerificationData.rfc3161Timestamps[].signedTimestamp`): a DER
// TimeStampResp (or the bare token) whose message imprint is the SHA-256 (or SHA-384, SHA-512)
// of `signature`, signed by the leaf of a timestamp authority of the root that was valid (its
// `validFor` and its certificate chain) at the stamped time. On success `reason` is empty, `time`
// is the genTime and `authority` the authority's uri.
struct TimestampVerdict {
  std::string reason;
  std::int64_t time = 0;
  std::string authority;
  bool valid() const { return reason.empty(); }
};
TimestampVerdict verify_timestamp(const TrustedRoot& root, std::string_view der,
                                  std::string_view signature);

// RFC 6962 hashes: a leaf SHA-256(0x00 || leaf), a node SHA-256(0x01 || left || right).
std::string merkle_leaf_hash(std::string_view leaf);
std::string merkle_node_hash(std::string_view left, std::string_view right);
// The root an inclusion proof's audit path (`hashes`, from the leaf up) gives for the leaf hash at
// `index` in a tree of `size` (RFC 9162 2.1.3.2); empty, and `reason` set, when the index is not
// in the tree or the path has not the length the tree needs.
std::string merkle_root(std::uint64_t index, std::uint64_t size, std::string_view leaf_hash,
                        const std::vector<std::string>& hashes, std::string& reason);

// A checkpoint (a signed note, transparency-dev/formats log/README.md): "<origin>\n<size>\n
// <base64 root>\n[other lines]\n\n" and one or more "\u2014 <name> <base64(4-byte key hint ||
// signature)>\n" lines. `note` is the text the signatures sign (up to the blank line).
struct Checkpoint {
  struct Signature {
    std::string name;
    std::string key_hint;  // 4 bytes: the first of the log id
    std::string signature;
  };
  std::string note;
  std::string origin;
  std::uint64_t size = 0;
  std::string root;  // raw, 32 bytes
  std::vector<Signature> signatures;
};
// nullopt, and `reason` naming what is wrong, when the envelope is not a checkpoint.
std::optional<Checkpoint> parse_checkpoint(std::string_view envelope, std::string& reason);

// The SCTs embedded in a Fulcio certificate (RFC 6962 3.3, NID_ct_precert_scts, read with
// OpenSSL's CT API): each whose log id names a CT log of the root (`ctlogs`), valid at the SCT's
// time, and whose signature verifies with that log's key over the precertificate entry (the
// certificate's TBSCertificate without the SCT list, the SHA-256 of the issuer's key; the issuer
// is a certificate of the root's CA chains) counts. `reason`: why the last one did not.
struct SctVerdict {
  int verified = 0;
  std::string reason;
};
SctVerdict verify_scts(const TrustedRoot& root, x509_st* leaf);

// What Fulcio wrote into the certificate.
struct CertificateFacts {
  std::string subject;                            // the SAN: URI or email
  std::string issuer;                             // 1.3.6.1.4.1.57264.1.8, else the legacy .1
  std::map<std::string, std::string> extensions;  // OID -> value, every 1.3.6.1.4.1.57264.1.*
  std::string source_repository;                  // .12
  std::string source_digest;                      // .13 (else the legacy .3)
  std::string source_ref;                         // .14
  std::string build_signer;                       // .9
  std::string build_trigger;                      // .20 (else the legacy .2)
  std::string run_invocation;                     // .21
  std::int64_t not_before = 0, not_after = 0;
};

// Reads the SAN, the validity and the Fulcio extensions (.1 to .6 raw, .8 and above DER
// UTF8String) of a DER certificate; nullopt when it is not a certificate.
std::optional<CertificateFacts> read_certificate(std::string_view der);

// One identity the policy accepts: the issuer exactly, the subject exactly or by an ECMAScript
// regular expression searched in the SAN (as cosign and sigstore-js do).
using IdentityRule = manifest::IdentityRule;
bool identity_matches(const IdentityRule& rule, const CertificateFacts& cert);
// "issuer X, subject Y" for messages.
std::string describe(const IdentityRule& rule);

// The verdict on one bundle: the finding code for the first rule that failed.
struct BundleVerdict {
  bool valid = false;
  std::string code;  // SIGNATURE_INVALID | TLOG_INVALID | IDENTITY_MISMATCH |
                     // PROVENANCE_COMMIT_MISMATCH, when not valid
  std::string reason;
  bool certificate_read = false;
  CertificateFacts certificate;  // when read
  std::string kind;              // "dsseEnvelope" | "messageSignature"
  std::string predicate_type;    // DSSE: the statement's
  std::int64_t log_index = -1;
  std::int64_t integrated_time = 0;
  std::string log_id_hex;
  std::vector<std::int64_t> timestamps;  // the verified RFC 3161 timestamps' times
};

// Verifies one bundle (JSON) for `digest` ("sha256:<hex>"). `sha`, when not empty, must equal the
// certificate's source repository digest.
BundleVerdict verify_bundle(const TrustedRoot& root, std::string_view bundle,
                            std::string_view digest, const std::vector<IdentityRule>& identities,
                            std::string_view sha);

}  // namespace imagegate::provenance
