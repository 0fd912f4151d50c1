// Keys made in the provenance tests, to sign with; the verifier only ever sees the PEM public key.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <string_view>

#include "provenance/verify.hpp"

namespace imagegate::provenance::testing {

// A key pair made in the test, to sign with; the verifier only ever sees the PEM public key.
struct KeyPair {
  std::shared_ptr<EVP_PKEY> key;
  std::string public_pem;

  static KeyPair make(const char* type) {
    EVP_PKEY* raw = std::string_view(type) == "RSA"
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                    : std::string_view(type) == "EC"
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    KeyPair pair{std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), ""};
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, raw);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pair.public_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pair;
  }

  std::string sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.get());
    std::size_t size = 0;
    EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(message.data()),
                   message.size());
    std::string out(size, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &size,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    out.resize(size);
    EVP_MD_CTX_free(ctx);
    return out;
  }

  PublicKey public_key() const { return *parse_public_key(public_pem, "test.pub"); }
};

inline std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace imagegate::provenance::testing
