// Signature payloads and DSSE envelopes as the provenance step judges them. Most of what a
// registry serves is only read after a signature verifies, so the target signs for itself with
// an Ed25519 key made at start-up (deterministic signatures); the first byte picks what the rest
// of the input is:
//   0  a DSSE envelope, as found;
//   1  an in-toto statement, wrapped in an envelope signed by the key;
//   2  a simple-signing payload, signed by the key;
//   3  a signature annotation (up to the first newline) and a payload, unsigned.
// Signed inputs also go through judge_signatures with signatures and SLSA provenance required.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.hpp"
#include "evidence/evidence.hpp"
#include "provenance/discovery.hpp"
#include "provenance/verify.hpp"

using namespace imagegate;

namespace {

constexpr std::string_view kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::string_view kRepository = "127.0.0.1:5000/afu9/control-center";
constexpr std::string_view kSha = "0123456789abcdef0123456789abcdef01234567";

struct Signer {
  EVP_PKEY* key = nullptr;
  std::vector<provenance::PublicKey> keys;

  Signer() {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (key == nullptr) std::abort();
    BIO* bio = BIO_new(BIO_s_mem());
    if (PEM_write_bio_PUBKEY(bio, key) != 1) std::abort();
    char* pem = nullptr;
    const long length = BIO_get_mem_data(bio, &pem);
    auto parsed = provenance::parse_public_key(std::string_view(pem, length), "fuzz.pub");
    BIO_free(bio);
    if (!parsed) std::abort();
    keys.push_back(*parsed);
  }

  std::string sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t length = 0;
    std::string out;
    if (EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) != 1 ||
        EVP_DigestSign(ctx, nullptr, &length,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
      std::abort();
    }
    out.resize(length);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &length,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
      std::abort();
    }
    EVP_MD_CTX_free(ctx);
    out.resize(length);
    return out;
  }
};

const Signer& signer() {
  static const Signer* s = new Signer();  // lives as long as the process
  return *s;
}

void judge(const provenance::Discovered& found) {
  provenance::Policy policy;
  policy.declared = policy.active = policy.signatures_required = !found.signatures.empty();
  if (!found.attestations.empty()) {
    policy.declared = policy.active = true;
    policy.attestations = {{"https://slsa.dev/provenance/v1", true},
                           {"https://slsa.dev/provenance/v0.2", false}};
  }
  evidence::ImageEvidence out;
  out.digest = std::string(kDigest);
  provenance::judge_signatures(policy, signer().keys, found, std::string(kSha),
                               std::string(kRepository), "control-center", out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto& keys = signer().keys;
  provenance::Statement statement;
  switch (data[0] % 4) {
    case 0:
      (void)provenance::verify_attestation(keys, input, kDigest, statement);
      break;
    case 1: {
      const std::string type = "application/vnd.in-toto+json";
      const nlohmann::json envelope = {
          {"payloadType", type},
          {"payload", auth::base64_encode(input)},
          {"signatures",
           {{{"keyid", ""},
             {"sig", auth::base64_encode(signer().sign(provenance::dsse_pae(type, input)))}}}}};
      const std::string text = envelope.dump();
      (void)provenance::verify_attestation(keys, text, kDigest, statement);
      provenance::Discovered found;
      found.attestations.push_back({"referrers API", std::string(kDigest),
                                    std::string(provenance::kDsseEnvelope), std::string(kDigest),
                                    "", text});
      judge(found);
      break;
    }
    case 2: {
      const std::string signature = auth::base64_encode(signer().sign(input));
      (void)provenance::verify_simple_signing(keys, input, signature, kDigest, kRepository);
      provenance::Discovered found;
      found.signatures.push_back({"tag sha256-0123.sig", std::string(kDigest),
                                  std::string(provenance::kSimpleSigning), std::string(kDigest),
                                  signature, std::string(input)});
      judge(found);
      break;
    }
    default: {
      const auto eol = input.find('\n');
      const std::string_view annotation = input.substr(0, eol);
      const std::string_view payload =
          eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
      (void)provenance::base64_decode(annotation);
      (void)provenance::verify_simple_signing(keys, payload, annotation, kDigest, kRepository);
      break;
    }
  }
  return 0;
}
