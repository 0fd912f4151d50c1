// The provenance step of a gate, between the registry's tag answers and the evidence: which
// images are judged (an active policy and tags that passed), one batch of reads for all of them,
// then the pure rules per image.
#include <fmt/format.h>

#include <map>

#include "provenance/discovery.hpp"
#include "provenance/provenance.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

void check_keys(const manifest::Manifest& manifest, const CliPolicy& cli) {
  for (const auto& image : manifest.images) {
    const Policy policy = effective_policy(image, cli, manifest.path.parent_path());
    if (!policy.active || (!policy.signatures_required && policy.attestations.empty())) continue;
    if (policy.keys.empty()) {
      throw UsageError(fmt::format(
          "image {}: signatures or attestations are required but no key is given (--key FILE or "
          "provenance.signatures.keys)",
          util::quote(image.id)));
    }
    for (const auto& path : policy.keys) {
      if (auto key = load_public_key(path); !key) {
        throw UsageError(fmt::format("{}: {}", key.error().code, key.error().message));
      }
    }
  }
}

void check(registry::Registry& registry, const manifest::Manifest& manifest, const CliPolicy& cli,
           evidence::Evidence& evidence) {
  const auto base_dir = manifest.path.parent_path();
  std::vector<std::size_t> judged;  // evidence image indices
  std::vector<Policy> policies;
  std::vector<Subject> subjects;
  for (std::size_t i = 0; i < evidence.images.size(); ++i) {
    auto& image = evidence.images[i];
    const manifest::Image* declared = manifest.find_image(image.id);
    if (declared == nullptr) continue;
    Policy policy = effective_policy(*declared, cli, base_dir);
    if (!policy.active || image.status != "pass" || image.digest.empty()) continue;
    judged.push_back(i);
    subjects.push_back({image.repository, image.digest, declared->platforms});
    policies.push_back(std::move(policy));
  }
  if (judged.empty()) return;

  // Keys are read once each; a key that cannot be used is an input error (exit 2).
  std::map<std::filesystem::path, PublicKey> loaded;
  std::vector<std::vector<PublicKey>> keys(judged.size());
  std::vector<DiscoverySubject> discovering;
  std::vector<std::size_t> discovered_for;  // positions in judged
  for (std::size_t k = 0; k < judged.size(); ++k) {
    const Policy& policy = policies[k];
    if (!policy.signatures_required && policy.attestations.empty()) continue;
    if (policy.keys.empty()) {
      throw UsageError(fmt::format(
          "image {}: signatures or attestations are required but no key is given (--key FILE or "
          "provenance.signatures.keys)",
          util::quote(evidence.images[judged[k]].id)));
    }
    for (const auto& path : policy.keys) {
      auto it = loaded.find(path);
      if (it == loaded.end()) {
        auto key = load_public_key(path);
        if (!key) throw UsageError(fmt::format("{}: {}", key.error().code, key.error().message));
        it = loaded.emplace(path, std::move(*key)).first;
      }
      keys[k].push_back(it->second);
    }
    discovering.push_back(
        {subjects[k].repository, subjects[k].digest, !policy.attestations.empty()});
    discovered_for.push_back(k);
  }
  std::vector<Discovered> found(judged.size());
  const auto discovered = discover(registry, discovering);
  for (std::size_t d = 0; d < discovered_for.size() && d < discovered.size(); ++d) {
    found[discovered_for[d]] = discovered[d];
  }

  std::vector<std::size_t> reading;  // positions in judged whose revision is read
  std::vector<Subject> to_read;
  for (std::size_t k = 0; k < judged.size(); ++k) {
    if (policies[k].revision != RevisionMode::kOff) {
      reading.push_back(k);
      to_read.push_back(subjects[k]);
    }
  }
  std::vector<RevisionFacts> revision_facts(judged.size());
  const auto read = read_revisions(registry, to_read);
  for (std::size_t r = 0; r < reading.size() && r < read.size(); ++r) {
    revision_facts[reading[r]] = read[r];
  }

  for (std::size_t k = 0; k < judged.size(); ++k) {
    auto& image = evidence.images[judged[k]];
    const Policy& policy = policies[k];
    const std::size_t before = image.findings.size();
    image.provenance.checked = true;
    image.provenance.digest = image.digest;
    image.provenance.signatures_required = policy.signatures_required;
    for (const auto& rule : policy.attestations) {
      if (rule.required) image.provenance.attestations_required.push_back(rule.predicate_type);
    }
    judge_revision(policy.revision, evidence.sha, revision_facts[k], image.id, image);
    judge_signatures(policy, keys[k], found[k], evidence.sha, image.repository, image.id, image);
    bool failed = false;
    for (std::size_t f = before; f < image.findings.size(); ++f) {
      failed = failed || image.findings[f].severity == report::Severity::kError;
    }
    image.provenance.status = failed ? "fail" : "pass";
    if (failed) {
      image.status = "fail";
      image.digest.clear();
    }
  }
  evidence::recompute_verdict(evidence);
}

}  // namespace imagegate::provenance
