// Provenance: what a found digest is, not only that it exists. After the registry resolved the
// tags, each passing image's digest is judged against its provenance policy: the revision label
// or annotation must equal the gate's sha (signatures and attestations follow the same path).
// Reading is a registry capability (Registry::fetch, batched, every phase one concurrent batch);
// judging is pure (facts in, findings out), so every rule is unit-tested without a registry.
// "Could not read" is an error finding of its own, never "absent", and never a pass.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "evidence/evidence.hpp"
#include "manifest/manifest.hpp"
#include "registry/registry.hpp"
#include "util/error.hpp"

namespace imagegate::provenance {

inline constexpr std::string_view kRevisionKey = "org.opencontainers.image.revision";

enum class RevisionMode { kOff, kIfPresent, kRequired };

// "required" | "if-present" | "off"; nullopt for anything else.
std::optional<RevisionMode> parse_revision_mode(std::string_view text);
std::string to_string(RevisionMode mode);

// What the command line adds to every image's policy.
struct CliPolicy {
  std::vector<std::string> keys;          // --key FILE: adds keys and requires signatures
  std::vector<std::string> attestations;  // --require-attestation TYPE
  std::string revision;                   // --revision MODE, empty: the manifest's
  // Keyless, as cosign names the flags: one identity added to every image's identities.
  // (Default member initializers: the three fields above may be brace-initialised alone.)
  std::string certificate_identity = {};         // --certificate-identity
  std::string certificate_identity_regexp = {};  // --certificate-identity-regexp
  std::string certificate_oidc_issuer = {};      // --certificate-oidc-issuer
  std::string trusted_root = {};                 // --trusted-root FILE (Sigstore trusted_root.json)
};

// One image's effective policy.
struct Policy {
  // A policy in the manifest or on the command line; without one the image still gets the
  // default revision check (if-present).
  bool declared = false;
  bool active = false;  // false: nothing to judge (revision off, no signatures, no attestations)
  RevisionMode revision = RevisionMode::kIfPresent;
  std::vector<std::filesystem::path> keys;
  bool signatures_required = false;
  std::vector<manifest::AttestationRule> attestations;
  std::vector<manifest::IdentityRule> identities;  // keyless: a bundle by one of them required
};

// The manifest image's policy with the command line's additions; key paths resolve against
// base_dir. Throws UsageError for a bad --revision value.
Policy effective_policy(const manifest::Image& image, const CliPolicy& cli,
                        const std::filesystem::path& base_dir);

// Where a revision value was read: "config label", "manifest annotation", "index annotation",
// each with the manifest it belongs to.
struct RevisionSource {
  std::string where;  // e.g. "config label of linux/arm64 (sha256:0123456789ab)"
  std::string value;
};

struct RevisionFacts {
  std::vector<RevisionSource> found;  // every value read
  std::vector<std::string> without;   // images with no revision anywhere, described
  std::vector<Error> errors;          // what could not be read (code + message)
};

// One digest to read: a passing image's repository, digest and required platforms.
struct Subject {
  std::string repository;
  std::string digest;
  std::vector<std::string> platforms;  // required; empty: every platform image of an index
};

// Reads the revision facts of every subject through registry.fetch: the manifests, the platform
// images of indexes, then the config blobs; three batches at most.
std::vector<RevisionFacts> read_revisions(registry::Registry& registry,
                                          const std::vector<Subject>& subjects);

// The revision rules on one image (pure): REVISION_MISMATCH (error, naming both), REVISION_MISSING
// (error when required, warning when if-present), the read errors as errors (subject
// "revision"). Fills out.provenance and appends to out.findings.
void judge_revision(RevisionMode mode, const std::string& sha, const RevisionFacts& facts,
                    const std::string& image_id, evidence::ImageEvidence& out);

// Reads every key the policies name, before anything connects: a key that cannot be used, or
// signatures/attestations required without a key, is a UsageError (exit 2). Likewise the
// keyless inputs: an identity flag without its issuer (or the other way round), an identity
// whose regular expression does not compile, identities without --trusted-root, and a trusted
// root that is missing, unreadable or not a trusted root.
void check_keys(const manifest::Manifest& manifest, const CliPolicy& cli);

// The whole provenance step of a gate: for every image with an active policy whose tags passed,
// read and judge; an image whose provenance fails becomes "fail" (its digest is kept in
// provenance.digest only), and the evidence's findings and verdict are recomputed.
// `resolved` is what resolve answered: manifests it read (TagQuery::want_manifest) are not
// asked for again.
void check(registry::Registry& registry, const manifest::Manifest& manifest, const CliPolicy& cli,
           const std::vector<registry::RepositoryResult>& resolved, evidence::Evidence& evidence);

// Sets want_manifest on the queries (one per manifest image, in order, as gate::build_queries
// makes them) of the images whose revision the provenance step will read.
void want_manifests(const manifest::Manifest& manifest, const CliPolicy& cli,
                    const std::string& sha, std::vector<registry::TagQuery>& queries);

}  // namespace imagegate::provenance
