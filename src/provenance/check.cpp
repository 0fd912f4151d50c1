// The provenance step of a gate, between the registry's tag answers and the evidence: which
// images are judged (an active policy and tags that passed), one batch of reads for all of them,
// then the pure rules per image.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <regex>
#include <string_view>
#include <unordered_map>

#include "provenance/discovery.hpp"
#include "provenance/provenance.hpp"
#include "registry/content.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

// The registry as the provenance step sees it: manifests the resolve step read already are
// answered from its bytes (hashed again), the rest goes to the registry in one batch.
class KnownContent final : public registry::Registry {
 public:
  KnownContent(registry::Registry& inner, const std::vector<registry::RepositoryResult>& resolved)
      : inner_(inner) {
    for (const auto& repo : resolved) {
      for (const auto& tag : repo.tags) {
        if (tag.status != registry::TagStatus::kFound || tag.manifest.empty()) continue;
        if (registry::sha256_digest(tag.manifest) != tag.digest) continue;
        known_.emplace(std::make_pair(repo.repository, tag.digest),
                       std::make_pair(tag.manifest, tag.media_type));
      }
    }
  }

  std::vector<registry::RepositoryResult> resolve(
      const std::vector<registry::TagQuery>& queries) override {
    return inner_.resolve(queries);
  }

  std::vector<registry::ContentResult> fetch(
      const std::vector<registry::ContentRequest>& requests) override {
    std::vector<registry::ContentResult> out(requests.size());
    std::vector<registry::ContentRequest> asked;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const auto& r = requests[i];
      const auto it = r.kind == registry::ContentKind::kManifest
                          ? known_.find({r.repository, r.reference})
                          : known_.end();
      if (it == known_.end()) {
        asked.push_back(r);
        positions.push_back(i);
        continue;
      }
      out[i].status = registry::ContentStatus::kFound;
      out[i].body = it->second.first;
      out[i].digest = r.reference;
      out[i].media_type = it->second.second;
    }
    if (asked.empty()) return out;
    auto answers = inner_.fetch(asked);
    for (std::size_t k = 0; k < positions.size() && k < answers.size(); ++k) {
      out[positions[k]] = std::move(answers[k]);
    }
    return out;
  }

  std::string describe() const override { return inner_.describe(); }
  std::string referrers_source() const override { return inner_.referrers_source(); }

 private:
  registry::Registry& inner_;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> known_;
};

// The revision is compared with the gate's sha: a semantic-version deploy without one gets the
// check only where a policy asks for it.
bool reads_revision(const Policy& policy, const std::string& sha) {
  return policy.revision != RevisionMode::kOff && (policy.declared || !sha.empty());
}

}  // namespace

void want_manifests(const manifest::Manifest& manifest, const CliPolicy& cli,
                    const std::string& sha, std::vector<registry::TagQuery>& queries) {
  for (std::size_t i = 0; i < manifest.images.size() && i < queries.size(); ++i) {
    const Policy policy = effective_policy(manifest.images[i], cli, manifest.path.parent_path());
    queries[i].want_manifest = policy.active && reads_revision(policy, sha);
  }
}

namespace {

void check_identity(const manifest::IdentityRule& rule, const std::string& where) {
  if (rule.issuer.empty()) {
    throw UsageError(fmt::format(
        "{}: an identity needs its OIDC issuer ({})", where,
        where == "command line" ? "--certificate-oidc-issuer" : "provenance.identities[].issuer"));
  }
  if (!rule.subject.empty() && !rule.subject_regexp.empty()) {
    throw UsageError(
        fmt::format("{}: an identity is a subject or a subject expression, not both", where));
  }
  if (rule.subject.empty() && rule.subject_regexp.empty()) {
    throw UsageError(fmt::format("{}: an identity needs its subject ({})", where,
                                 where == "command line"
                                     ? "--certificate-identity or --certificate-identity-regexp"
                                     : "provenance.identities[].subject or subjectRegExp"));
  }
  if (!rule.subject_regexp.empty()) {
    try {
      const std::regex compiled(rule.subject_regexp);
      (void)compiled;
    } catch (const std::regex_error&) {
      throw UsageError(fmt::format("{}: the subject expression {} is not a regular expression",
                                   where, util::quote(rule.subject_regexp)));
    }
  }
}

// The trusted root, once, when some image's policy is keyless; a UsageError when it is needed and
// missing or cannot be used.
std::optional<TrustedRoot> trusted_root_for(const manifest::Manifest& manifest,
                                            const CliPolicy& cli) {
  const bool cli_identity =
      !cli.certificate_identity.empty() || !cli.certificate_identity_regexp.empty();
  if (cli_identity || !cli.certificate_oidc_issuer.empty()) {
    check_identity(
        {cli.certificate_oidc_issuer, cli.certificate_identity, cli.certificate_identity_regexp},
        "command line");
  }
  std::string keyless_image;
  for (const auto& image : manifest.images) {
    for (const auto& rule : image.provenance.identities) {
      check_identity(rule, fmt::format("image {}", util::quote(image.id)));
    }
    if (keyless_image.empty() && (cli_identity || !image.provenance.identities.empty())) {
      keyless_image = image.id;
    }
  }
  if (keyless_image.empty() && cli.trusted_root.empty()) return std::nullopt;
  if (cli.trusted_root.empty()) {
    throw UsageError(fmt::format(
        "image {}: keyless identities are required but no trusted root is given (--trusted-root "
        "FILE, Sigstore's trusted_root.json)",
        util::quote(keyless_image)));
  }
  auto root = load_trusted_root(cli.trusted_root);
  if (!root) throw UsageError(fmt::format("{}: {}", root.error().code, root.error().message));
  return std::move(*root);
}

}  // namespace

void check_keys(const manifest::Manifest& manifest, const CliPolicy& cli) {
  (void)trusted_root_for(manifest, cli);
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

void check(registry::Registry& backend, const manifest::Manifest& manifest, const CliPolicy& cli,
           const std::vector<registry::RepositoryResult>& resolved, evidence::Evidence& evidence) {
  KnownContent registry(backend, resolved);
  const auto base_dir = manifest.path.parent_path();
  std::vector<std::size_t> judged;  // evidence image indices
  std::vector<Policy> policies;
  std::vector<Subject> subjects;
  // By id, not Manifest::find_image per image: that scan made a 1000-image gate quadratic.
  std::unordered_map<std::string_view, const manifest::Image*> declared_by_id;
  declared_by_id.reserve(manifest.images.size());
  for (const auto& image : manifest.images) declared_by_id.emplace(image.id, &image);
  for (std::size_t i = 0; i < evidence.images.size(); ++i) {
    auto& image = evidence.images[i];
    const auto found = declared_by_id.find(image.id);
    if (found == declared_by_id.end()) continue;
    const manifest::Image* declared = found->second;
    Policy policy = effective_policy(*declared, cli, base_dir);
    if (!reads_revision(policy, evidence.sha)) policy.revision = RevisionMode::kOff;
    policy.active = policy.revision != RevisionMode::kOff || policy.signatures_required ||
                    !policy.attestations.empty() || !policy.identities.empty();
    if (!policy.active || image.status != "pass" || image.digest.empty()) continue;
    judged.push_back(i);
    subjects.push_back({image.repository, image.digest, declared->platforms});
    policies.push_back(std::move(policy));
  }
  if (judged.empty()) return;

  // Keys and the trusted root are read once each; one that cannot be used is an input error
  // (exit 2).
  const std::optional<TrustedRoot> root = trusted_root_for(manifest, cli);
  std::map<std::filesystem::path, PublicKey> loaded;
  std::vector<std::vector<PublicKey>> keys(judged.size());
  std::vector<DiscoverySubject> discovering;
  std::vector<std::size_t> discovered_for;  // positions in judged
  for (std::size_t k = 0; k < judged.size(); ++k) {
    const Policy& policy = policies[k];
    const bool keyless = !policy.identities.empty() && root.has_value();
    const bool keyed = policy.signatures_required || !policy.attestations.empty();
    if (!keyed && !keyless) continue;
    if (!keyed) {
      discovering.push_back({subjects[k].repository, subjects[k].digest, false, true});
      discovered_for.push_back(k);
      continue;
    }
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
        {subjects[k].repository, subjects[k].digest, !policy.attestations.empty(), keyless});
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
    if (!policy.identities.empty() && root) {
      judge_keyless(policy, *root, found[k], evidence.sha, image.id, image);
    }
    bool failed = false;
    for (std::size_t f = before; f < image.findings.size(); ++f) {
      failed = failed || image.findings[f].severity == findings::Severity::kError;
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
