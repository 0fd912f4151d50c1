// Sigstore bundles and trusted roots as the keyless provenance step reads them: the input is a
// trusted_root.json, a line "%%", then a bundle (v0.1 to v0.3). Without the separator the whole
// input is read as a trusted root. The bundle is verified for one digest, identity and commit
// (those of the corpus, made by @sigstore/sign with @sigstore/mock's Fulcio, Rekor and TSA), so
// the certificate, the time sources (Rekor entries, inclusion proofs and checkpoints, RFC 3161
// timestamps), the SCTs and the DSSE and message signatures are all reached.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "provenance/keyless.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto cut = text.find("\n%%\n");
  const auto root = provenance::parse_trusted_root(text.substr(0, cut), "trusted_root.json");
  if (!root || cut == std::string_view::npos) return 0;
  const std::vector<provenance::IdentityRule> identities = {
      {"https://token.actions.githubusercontent.com",
       "https://github.com/afu9/afu9/.github/workflows/deploy.yml@refs/heads/main", ""},
      {"https://token.actions.githubusercontent.com", "", "^https://github\\.com/afu9/"}};
  const auto verdict = provenance::verify_bundle(
      *root, text.substr(cut + 4),
      "sha256:abababababababababababababababababababababababababababababababab", identities,
      "0123456789abcdef0123456789abcdef01234567");
  // A verified bundle has read its certificate and names what it signed; a refused one says why.
  if (verdict.valid &&
      (!verdict.certificate_read || verdict.kind.empty() || !verdict.code.empty())) {
    std::abort();
  }
  if (!verdict.valid && (verdict.code.empty() || verdict.reason.empty())) std::abort();
  return 0;
}
