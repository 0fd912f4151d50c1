// The provenance step of a gate, between the registry's tag answers and the evidence: which
// images are judged (an active policy and tags that passed), one batch of reads for all of them,
// then the pure rules per image.
#include <fmt/format.h>

#include "provenance/provenance.hpp"

namespace imagegate::provenance {

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
    if (policy.signatures_required || !policy.attestations.empty()) {
      image.findings.push_back(
          {report::Severity::kError, "SIGNATURE_UNVERIFIABLE", image.id, "signature",
           "signatures and attestations cannot be verified by this build of imagegate"});
    }
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
