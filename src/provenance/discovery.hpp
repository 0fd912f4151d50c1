// Finding a digest's signatures and attestations in a registry, in the order the issue of the
// OCI ecosystem settled on, every source read (never stopping at the first answer):
//   1. the OCI 1.1 referrers API (GET /v2/<name>/referrers/<digest>);
//   2. when the registry has none (404 on the endpoint): the referrers tag schema, the tag
//      sha256-<hex> holding an image index of the referrers;
//   3. cosign's tags sha256-<hex>.sig and sha256-<hex>.att.
// All subjects' requests of a step go in one Registry::fetch batch. A source that could not
// answer is recorded as an error (SIGNATURE_UNVERIFIABLE later), never as "nothing there".
// Internal to the provenance module.
#pragma once

#include <string>
#include <vector>

#include "provenance/keyless.hpp"
#include "provenance/provenance.hpp"
#include "provenance/verify.hpp"
#include "registry/registry.hpp"

namespace imagegate::provenance {

inline constexpr std::string_view kSimpleSigning =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kSignatureAnnotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view kDsseEnvelope = "application/vnd.dsse.envelope.v1+json";

// A signature or attestation layer found for a digest, with where its manifest was found.
struct FoundLayer {
  std::string where;  // "referrers API", "layout subject scan", "referrers tag sha256-…", "tag …"
  std::string manifest;  // the signature/attestation manifest's digest
  std::string media_type;
  std::string digest;     // the layer (payload or envelope) digest
  std::string signature;  // simple signing: the annotation (base64)
  std::string body;       // the layer's bytes, once read
};

struct Discovered {
  std::vector<FoundLayer> signatures;    // simple-signing layers
  std::vector<FoundLayer> attestations;  // DSSE envelope layers
  std::vector<FoundLayer> bundles;       // Sigstore bundle layers (keyless)
  std::vector<std::string> sources;      // what answered, e.g. "referrers API: 2 referrers"
  std::vector<Error> errors;             // sources that could not answer
};

struct DiscoverySubject {
  std::string repository;
  std::string digest;
  bool attestations = false;  // read the .att tag too
  bool bundles = false;       // read Sigstore bundle layers (referrers and the tag schema)
};

std::vector<Discovered> discover(registry::Registry& registry,
                                 const std::vector<DiscoverySubject>& subjects);

// The signature and attestation rules on one image (pure). Signatures (when required): one that
// verifies with a key, names the digest and the repository, passes; else SIGNATURE_INVALID for
// each that does not, SIGNATURE_UNVERIFIABLE for each source that could not answer, and
// SIGNATURE_MISSING only when every source answered and none had a signature. Attestations, per
// required predicate type: ATTESTATION_INVALID / ATTESTATION_MISSING likewise, and for SLSA
// provenance (v1, v0.2) PROVENANCE_COMMIT_MISMATCH unless a source commit equals the sha.
void judge_signatures(const Policy& policy, const std::vector<PublicKey>& keys,
                      const Discovered& found, const std::string& sha,
                      const std::string& repository, const std::string& image_id,
                      evidence::ImageEvidence& out);

// The keyless rule on one image (pure): a bundle that verifies against the trusted root, for the
// digest, by one of the identities and (with a sha) from that commit, passes. Else each bundle's
// first failed rule as its finding (SIGNATURE_INVALID, TLOG_INVALID, IDENTITY_MISMATCH,
// PROVENANCE_COMMIT_MISMATCH), SIGNATURE_UNVERIFIABLE for each source that could not answer, and
// SIGNATURE_MISSING when every source answered and none had a bundle.
void judge_keyless(const Policy& policy, const TrustedRoot& root, const Discovered& found,
                   const std::string& sha, const std::string& image_id,
                   evidence::ImageEvidence& out);

}  // namespace imagegate::provenance
