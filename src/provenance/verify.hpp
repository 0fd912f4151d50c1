// The pure part of provenance: public keys, cosign's simple-signing signatures and DSSE
// envelopes, verified with OpenSSL. Bytes in, verdict out: no registry, no files but the key
// files, so every rule is unit-tested on its own.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

struct evp_pkey_st;

namespace imagegate::provenance {

// A PEM public key (SubjectPublicKeyInfo): ECDSA P-256, RSA or Ed25519.
struct PublicKey {
  std::string name;         // the file it was read from, for messages
  std::string type;         // "ecdsa-p256" | "rsa" | "ed25519"
  std::string fingerprint;  // "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo
  std::shared_ptr<evp_pkey_st> key;
};

// KEY_INVALID naming the file when it is not a PEM public key of a supported type.
Result<PublicKey> parse_public_key(std::string_view pem, std::string_view name);
Result<PublicKey> load_public_key(const std::filesystem::path& path);

// Standard base64 (padding optional, no line breaks); nullopt when it is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// True when `signature` (raw bytes: DER for ECDSA, PKCS#1 v1.5 for RSA, 64 bytes for Ed25519)
// signs `message` with the key; SHA-256 for ECDSA and RSA, as cosign signs.
bool verify_bytes(const PublicKey& key, std::string_view message, std::string_view signature);

// The verdict on one signature or attestation.
struct Verdict {
  bool valid = false;
  std::string reason;       // when not valid: why, for SIGNATURE_INVALID / ATTESTATION_INVALID
  std::string fingerprint;  // when valid: the key that verified it
};

// cosign's key-based signature: `payload` is the simple-signing JSON, `signature_b64` the
// dev.cosignproject.cosign/signature annotation. Valid when a key verifies it, the payload's
// critical.image.docker-manifest-digest is `digest` and critical.identity.docker-reference names
// `repository` (its path, with or without the registry host; a tag or digest suffix ignored).
Verdict verify_simple_signing(const std::vector<PublicKey>& keys, std::string_view payload,
                              std::string_view signature_b64, std::string_view digest,
                              std::string_view repository);

// DSSE pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>".
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

// An attestation: a DSSE envelope (JSON) of an in-toto statement.
struct Statement {
  std::string predicate_type;
  std::string predicate_json;        // the predicate, serialised
  std::vector<std::string> commits;  // SLSA source commits found (v1 gitCommit, v0.2 sha1)
};

// Verifies the envelope's signatures with the keys (DSSE PAE), and that the statement's subject
// holds `digest`. Valid verdicts come with the statement.
Verdict verify_attestation(const std::vector<PublicKey>& keys, std::string_view envelope,
                           std::string_view digest, Statement& statement);

}  // namespace imagegate::provenance
