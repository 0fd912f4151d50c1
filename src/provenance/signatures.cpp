// The signature and attestation rules. A verified signature is proof on its own; what could not
// be read is reported apart from what is absent, so "the registry failed" never reads as
// "unsigned", and neither ever passes.
#include <fmt/format.h>

#include <ctime>

#include "provenance/discovery.hpp"
#include "report/gate_text.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

constexpr std::string_view kSlsaV1 = "https://slsa.dev/provenance/v1";
constexpr std::string_view kSlsaV02 = "https://slsa.dev/provenance/v0.2";

struct Adder {
  const std::string& image_id;
  evidence::ImageEvidence& out;
  void operator()(findings::Severity severity, const char* code, const char* subject,
                  std::string message) const {
    out.findings.push_back({severity, code, image_id, subject, std::move(message)});
  }
};

std::string errors_text(const std::vector<Error>& errors) {
  std::vector<std::string> parts;
  for (const auto& e : errors) parts.push_back(e.message);
  return util::join(parts, "; ");
}

void judge_signature_layers(const std::vector<PublicKey>& keys, const Discovered& found,
                            const std::string& digest, const std::string& repository,
                            const Adder& add, evidence::ImageEvidence& out) {
  std::vector<std::string> invalid;
  for (const auto& layer : found.signatures) {
    const Verdict v = verify_simple_signing(keys, layer.body, layer.signature, digest, repository);
    if (v.valid) {
      out.provenance.signatures.push_back({v.fingerprint, layer.where, layer.manifest});
    } else {
      invalid.push_back(fmt::format("{} (signature manifest {}): {}", layer.where,
                                    report::short_digest(layer.manifest), v.reason));
    }
  }
  const bool verified = !out.provenance.signatures.empty();
  const auto severity = verified ? findings::Severity::kWarning : findings::Severity::kError;
  for (const auto& reason : invalid) add(severity, "SIGNATURE_INVALID", "signature", reason);
  if (verified) return;
  if (!found.errors.empty()) {
    add(findings::Severity::kError, "SIGNATURE_UNVERIFIABLE", "signature",
        fmt::format("the registry could not say whether {} is signed: {}",
                    report::short_digest(digest), errors_text(found.errors)));
  } else if (invalid.empty()) {
    add(findings::Severity::kError, "SIGNATURE_MISSING", "signature",
        fmt::format("{} has no signature (looked in: {})", report::short_digest(digest),
                    util::join(found.sources, ", ")));
  }
}

void judge_attestation(const manifest::AttestationRule& rule, const std::vector<PublicKey>& keys,
                       const Discovered& found, const std::string& digest, const std::string& sha,
                       const Adder& add, evidence::ImageEvidence& out) {
  std::vector<std::string> invalid;
  bool matched = false;
  std::vector<std::string> other_commits;
  for (const auto& layer : found.attestations) {
    Statement statement;
    const Verdict v = verify_attestation(keys, layer.body, digest, statement);
    if (!v.valid) {
      invalid.push_back(fmt::format("{} (envelope {}): {}", layer.where,
                                    report::short_digest(layer.digest), v.reason));
      continue;
    }
    if (statement.predicate_type != rule.predicate_type) continue;
    const bool slsa = rule.predicate_type == kSlsaV1 || rule.predicate_type == kSlsaV02;
    if (slsa && std::find(statement.commits.begin(), statement.commits.end(), sha) ==
                    statement.commits.end()) {
      other_commits.push_back(statement.commits.empty() ? std::string("no commit")
                                                        : util::join(statement.commits, ", "));
      continue;
    }
    matched = true;
    out.provenance.attestations.push_back(
        {statement.predicate_type, layer.digest, layer.where, v.fingerprint});
  }
  if (matched) return;
  const auto severity = rule.required ? findings::Severity::kError : findings::Severity::kWarning;
  const std::string type = util::quote(rule.predicate_type);
  for (const auto& commits : other_commits) {
    add(severity, "PROVENANCE_COMMIT_MISMATCH", "attestation",
        fmt::format("the {} attestation of {} names source commit {}, but this build is {}", type,
                    report::short_digest(digest), commits, sha));
  }
  for (const auto& reason : invalid) add(severity, "ATTESTATION_INVALID", "attestation", reason);
  if (!other_commits.empty() || !invalid.empty()) return;
  if (!found.errors.empty()) {
    add(severity, "SIGNATURE_UNVERIFIABLE", "attestation",
        fmt::format("the registry could not say whether {} has a {} attestation: {}",
                    report::short_digest(digest), type, errors_text(found.errors)));
  } else {
    add(severity, "ATTESTATION_MISSING", "attestation",
        fmt::format("{} has no {} attestation signed by the keys (looked in: {})",
                    report::short_digest(digest), type, util::join(found.sources, ", ")));
  }
}

std::string utc(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void judge_keyless(const Policy& policy, const TrustedRoot& root, const Discovered& found,
                   const std::string& sha, const std::string& image_id,
                   evidence::ImageEvidence& out) {
  const Adder add{image_id, out};
  const std::string digest = out.provenance.digest;
  for (const auto& rule : policy.identities) {
    out.provenance.identities_required.push_back(describe(rule));
  }
  std::vector<std::pair<std::string, std::string>> invalid;  // code, message
  for (const auto& layer : found.bundles) {
    const BundleVerdict v = verify_bundle(root, layer.body, digest, policy.identities, sha);
    if (!v.valid) {
      invalid.emplace_back(v.code, fmt::format("{} (bundle {}): {}", layer.where,
                                               report::short_digest(layer.digest), v.reason));
      continue;
    }
    const CertificateFacts& c = v.certificate;
    std::vector<std::string> stamps;
    for (const auto t : v.timestamps) stamps.push_back(utc(t));
    out.provenance.keyless.push_back(
        {layer.where, layer.manifest, layer.digest, v.kind, v.predicate_type, c.subject, c.issuer,
         c.source_repository, c.source_digest, c.source_ref, c.build_signer, c.build_trigger,
         c.run_invocation, v.log_index, v.log_index >= 0 ? utc(v.integrated_time) : "",
         v.log_id_hex, std::move(stamps)});
  }
  const bool verified = !out.provenance.keyless.empty();
  const auto severity = verified ? findings::Severity::kWarning : findings::Severity::kError;
  for (const auto& [code, reason] : invalid) add(severity, code.c_str(), "bundle", reason);
  if (verified) return;
  if (!found.errors.empty()) {
    add(findings::Severity::kError, "SIGNATURE_UNVERIFIABLE", "bundle",
        fmt::format("the registry could not say whether {} has a Sigstore bundle: {}",
                    report::short_digest(digest), errors_text(found.errors)));
  } else if (invalid.empty()) {
    add(findings::Severity::kError, "SIGNATURE_MISSING", "bundle",
        fmt::format("{} has no Sigstore bundle (looked in: {})", report::short_digest(digest),
                    util::join(found.sources, ", ")));
  }
}

void judge_signatures(const Policy& policy, const std::vector<PublicKey>& keys,
                      const Discovered& found, const std::string& sha,
                      const std::string& repository, const std::string& image_id,
                      evidence::ImageEvidence& out) {
  const Adder add{image_id, out};
  const std::string digest = out.provenance.digest;
  if (policy.signatures_required) {
    judge_signature_layers(keys, found, digest, repository, add, out);
  }
  for (const auto& rule : policy.attestations) {
    judge_attestation(rule, keys, found, digest, sha, add, out);
  }
}

}  // namespace imagegate::provenance
