// cosign key-based signatures (sigstore/cosign specs/SIGNATURE_SPEC.md): the signature is over
// the simple-signing payload's exact bytes; ECDSA and RSA with SHA-256, Ed25519 over the bytes
// themselves. DSSE envelopes (in-toto attestations, `cosign attest`): each signature is over
// PAE(payloadType, payload) with the payload base64-decoded first.
#include "provenance/verify.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxKeyBytes = 64 * 1024;

std::string key_type(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "rsa";
    case EVP_PKEY_ED25519:
      return "ed25519";
    case EVP_PKEY_EC: {
      char group[64] = {0};
      std::size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &length) == 1 &&
          std::string_view(group) == "prime256v1") {
        return "ecdsa-p256";
      }
      return "";
    }
    default:
      return "";
  }
}

// "host:5000/afu9/x:tag" or ".../afu9/x@sha256:..." -> "host:5000/afu9/x".
std::string without_tag_or_digest(std::string_view reference) {
  if (const auto at = reference.find('@'); at != std::string_view::npos) {
    reference = reference.substr(0, at);
  }
  const auto slash = reference.rfind('/');
  const auto colon = reference.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    reference = reference.substr(0, colon);
  }
  return std::string(reference);
}

// The reference names the repository: equal to it, or a registry host followed by it.
bool names_repository(std::string_view reference, std::string_view repository) {
  const std::string name = without_tag_or_digest(reference);
  if (name == repository) return true;
  if (name.size() <= repository.size() + 1 || !name.ends_with(repository)) return false;
  const std::string_view host(name.data(), name.size() - repository.size() - 1);
  return name[host.size()] == '/' && host.find('/') == std::string_view::npos &&
         (host.find('.') != std::string_view::npos || host.find(':') != std::string_view::npos ||
          host == "localhost");
}

const json* at_path(const json& doc, std::initializer_list<const char*> path) {
  const json* node = &doc;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    const auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

std::string string_at(const json& doc, std::initializer_list<const char*> path) {
  const json* node = at_path(doc, path);
  return node != nullptr && node->is_string() ? node->get<std::string>() : std::string();
}

}  // namespace

Result<PublicKey> parse_public_key(std::string_view pem, std::string_view name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return fail("KEY_INVALID", fmt::format("key {}: out of memory", name));
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return fail("KEY_INVALID",
                fmt::format("key {} is not a PEM public key (-----BEGIN PUBLIC KEY-----)", name));
  }
  PublicKey key;
  key.key = std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free);
  key.name = std::string(name);
  key.type = key_type(raw);
  if (key.type.empty()) {
    return fail("KEY_INVALID", fmt::format("key {} is neither ECDSA P-256, RSA nor Ed25519", name));
  }
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(raw, &der);
  if (length <= 0) return fail("KEY_INVALID", fmt::format("key {} cannot be encoded", name));
  key.fingerprint =
      "sha256:" + util::sha256_hex(std::string_view(reinterpret_cast<const char*>(der),
                                                    static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return key;
}

Result<PublicKey> load_public_key(const std::filesystem::path& path) {
  const std::string name = util::quote(path.string());
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxKeyBytes) {
    return fail("KEY_INVALID", fmt::format("key {} cannot be read", name));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail("KEY_INVALID", fmt::format("key {} cannot be read", name));
  return parse_public_key(text.str(), name);
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string padded(text);
  if (padded.size() % 4 == 1) return std::nullopt;
  while (padded.size() % 4 != 0) padded.push_back('=');
  for (const char c : padded) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return std::nullopt;
    }
  }
  std::string out(padded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(padded.data()),
                                static_cast<int>(padded.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  for (auto it = padded.rbegin(); it != padded.rend() && *it == '='; ++it) ++pad;
  if (pad > 2) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

bool verify_bytes(const PublicKey& key, std::string_view message, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) return false;
  const EVP_MD* md = key.type == "ed25519" ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Verdict verify_simple_signing(const std::vector<PublicKey>& keys, std::string_view payload,
                              std::string_view signature_b64, std::string_view digest,
                              std::string_view repository) {
  Verdict v;
  const auto signature = base64_decode(signature_b64);
  if (!signature) {
    v.reason = "the signature annotation is not base64";
    return v;
  }
  const PublicKey* signer = nullptr;
  for (const auto& key : keys) {
    if (verify_bytes(key, payload, *signature)) {
      signer = &key;
      break;
    }
  }
  if (signer == nullptr) {
    v.reason = "the signature does not verify with any of the keys";
    return v;
  }
  const auto doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    v.reason = "the signed payload is not a simple-signing JSON document";
    return v;
  }
  const std::string signed_digest = string_at(doc, {"critical", "image", "docker-manifest-digest"});
  if (signed_digest != digest) {
    v.reason = fmt::format("the signature is for digest {}, not this one",
                           util::quote(util::escape_display(signed_digest)));
    return v;
  }
  const std::string reference = string_at(doc, {"critical", "identity", "docker-reference"});
  if (!names_repository(reference, repository)) {
    v.reason = fmt::format("the signature is for repository {}, not {}",
                           util::quote(util::escape_display(reference)), util::quote(repository));
    return v;
  }
  v.valid = true;
  v.fingerprint = signer->fingerprint;
  return v;
}

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
  return fmt::format("DSSEv1 {} {} {} {}", payload_type.size(), payload_type, payload.size(),
                     payload);
}

Verdict verify_attestation(const std::vector<PublicKey>& keys, std::string_view envelope,
                           std::string_view digest, Statement& statement) {
  Verdict v;
  const auto doc = json::parse(envelope, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    v.reason = "the attestation is not a DSSE envelope (JSON object)";
    return v;
  }
  const std::string payload_type = string_at(doc, {"payloadType"});
  const auto payload = base64_decode(string_at(doc, {"payload"}));
  if (payload_type.empty() || !payload || !doc.contains("signatures") ||
      !doc["signatures"].is_array()) {
    v.reason = "the DSSE envelope lacks payloadType, payload or signatures";
    return v;
  }
  const std::string pae = dsse_pae(payload_type, *payload);
  const PublicKey* signer = nullptr;
  for (const auto& entry : doc["signatures"]) {
    const auto signature = base64_decode(string_at(entry, {"sig"}));
    if (!signature) continue;
    for (const auto& key : keys) {
      if (verify_bytes(key, pae, *signature)) {
        signer = &key;
        break;
      }
    }
    if (signer != nullptr) break;
  }
  if (signer == nullptr) {
    v.reason = "no signature of the DSSE envelope verifies with any of the keys";
    return v;
  }
  if (payload_type != "application/vnd.in-toto+json") {
    v.reason = fmt::format("the envelope's payloadType is {}, not an in-toto statement",
                           util::quote(util::escape_display(payload_type)));
    return v;
  }
  const auto st = json::parse(*payload, nullptr, false);
  if (st.is_discarded() || !st.is_object() || !st.contains("subject") ||
      !st["subject"].is_array()) {
    v.reason = "the in-toto statement has no subject list";
    return v;
  }
  const std::string hex(digest.substr(digest.find(':') + 1));
  bool subject = false;
  for (const auto& s : st["subject"])
    subject = subject || string_at(s, {"digest", "sha256"}) == hex;
  if (!subject) {
    v.reason = "the statement's subject does not contain this digest";
    return v;
  }
  statement.predicate_type = string_at(st, {"predicateType"});
  const json predicate = st.contains("predicate") ? st["predicate"] : json::object();
  statement.predicate_json = predicate.dump();
  // SLSA provenance v1: buildDefinition.resolvedDependencies[].digest.gitCommit; v0.2:
  // materials[].digest.sha1 (and gitCommit, which some builders write there too).
  const auto collect = [&](const json* list, std::initializer_list<const char*> keys_of) {
    if (list == nullptr || !list->is_array()) return;
    for (const auto& item : *list) {
      for (const char* key : keys_of) {
        const std::string commit = string_at(item, {"digest", key});
        if (!commit.empty()) statement.commits.push_back(commit);
      }
    }
  };
  collect(at_path(predicate, {"buildDefinition", "resolvedDependencies"}), {"gitCommit", "sha1"});
  collect(at_path(predicate, {"materials"}), {"sha1", "gitCommit"});
  v.valid = true;
  v.fingerprint = signer->fingerprint;
  return v;
}

}  // namespace imagegate::provenance
