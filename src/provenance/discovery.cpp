#include "provenance/discovery.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "registry/content.hpp"
#include "report/gate_text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using registry::ContentKind;
using registry::ContentRequest;
using registry::ContentResult;
using registry::ContentStatus;

// A referrer list longer than this is not read further (a registry flooding us must not make
// the gate unbounded); what was not read is an error, not "unsigned".
constexpr std::size_t kMaxReferrers = 64;
constexpr std::size_t kMaxLayers = 16;

std::vector<ContentResult> fetch(registry::Registry& registry,
                                 const std::vector<ContentRequest>& requests) {
  if (requests.empty()) return {};
  auto answers = registry.fetch(requests);
  answers.resize(requests.size());
  return answers;
}

Error source_error(const ContentResult& r, const std::string& what) {
  return Error{
      r.error.code.empty() ? "BAD_RESPONSE" : r.error.code,
      fmt::format("{}: {}", what, r.error.message.empty() ? "no answer" : r.error.message)};
}

// One manifest to read in a later step, with where it came from.
struct Pending {
  std::size_t subject = 0;
  std::string where;
  std::string reference;    // tag or digest
  bool must_refer = false;  // found through a referrers list: its subject must be the digest
};

// The descriptors of a referrers index.
std::vector<std::string> referrer_digests(const json& index, std::size_t subject,
                                          std::vector<Discovered>& out, const std::string& what) {
  std::vector<std::string> digests;
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    out[subject].errors.push_back(Error{"BAD_RESPONSE", what + ": not an image index"});
    return digests;
  }
  for (const auto& d : index["manifests"]) {
    const std::string digest = d.is_object() ? d.value("digest", "") : "";
    if (!registry::is_sha256_digest(digest)) continue;
    if (digests.size() == kMaxReferrers) {
      out[subject].errors.push_back(
          Error{"BAD_RESPONSE", fmt::format("{}: more than {} referrers", what, kMaxReferrers)});
      break;
    }
    digests.push_back(digest);
  }
  out[subject].sources.push_back(
      fmt::format("{}: {} referrer{}", what, digests.size(), digests.size() == 1 ? "" : "s"));
  return digests;
}

}  // namespace

std::vector<Discovered> discover(registry::Registry& registry,
                                 const std::vector<DiscoverySubject>& subjects) {
  std::vector<Discovered> out(subjects.size());
  const auto tag_of = [&](std::size_t s) {
    return "sha256-" + subjects[s].digest.substr(subjects[s].digest.find(':') + 1);
  };

  // Step 1: the referrers API and cosign's tags, together.
  std::vector<ContentRequest> requests;
  std::vector<Pending> kinds;  // where = "referrers" | tag
  for (std::size_t s = 0; s < subjects.size(); ++s) {
    const auto& subject = subjects[s];
    requests.push_back({subject.repository, ContentKind::kReferrers, subject.digest, ""});
    kinds.push_back({s, registry.referrers_source(), subject.digest, true});
    requests.push_back({subject.repository, ContentKind::kManifest, tag_of(s) + ".sig", ""});
    kinds.push_back({s, "tag " + tag_of(s) + ".sig", tag_of(s) + ".sig", false});
    if (subject.attestations) {
      requests.push_back({subject.repository, ContentKind::kManifest, tag_of(s) + ".att", ""});
      kinds.push_back({s, "tag " + tag_of(s) + ".att", tag_of(s) + ".att", false});
    }
  }
  auto answers = fetch(registry, requests);
  std::vector<Pending> manifests_to_read;
  std::vector<std::pair<Pending, ContentResult>> artifacts;  // artifact manifests read
  std::vector<std::size_t> tag_schema;                       // subjects without a referrers API
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Pending& k = kinds[i];
    const ContentResult& a = answers[i];
    if (a.status == ContentStatus::kError) {
      out[k.subject].errors.push_back(source_error(a, k.where));
    } else if (requests[i].kind == ContentKind::kReferrers) {
      if (a.status == ContentStatus::kUnsupported) {
        tag_schema.push_back(k.subject);
      } else if (a.status == ContentStatus::kFound) {
        const auto index = json::parse(a.body, nullptr, false);
        for (auto& d : referrer_digests(index, k.subject, out, k.where)) {
          manifests_to_read.push_back({k.subject, k.where, d, true});
        }
      } else {
        out[k.subject].errors.push_back(Error{"BAD_RESPONSE", k.where + ": no conclusive answer"});
      }
    } else if (a.status == ContentStatus::kFound) {
      out[k.subject].sources.push_back(k.where);
      artifacts.emplace_back(k, a);
    } else if (a.status == ContentStatus::kMissing) {
      out[k.subject].sources.push_back(k.where + ": none");
    } else {
      out[k.subject].errors.push_back(Error{"BAD_RESPONSE", k.where + ": no conclusive answer"});
    }
  }

  // Step 2: the referrers tag schema where the API is missing, and the referrers the API listed.
  requests.clear();
  kinds.clear();
  for (const std::size_t s : tag_schema) {
    requests.push_back({subjects[s].repository, ContentKind::kManifest, tag_of(s), ""});
    kinds.push_back({s, "referrers tag " + tag_of(s), tag_of(s), true});
  }
  const std::size_t schema_count = requests.size();
  for (const auto& p : manifests_to_read) {
    requests.push_back({subjects[p.subject].repository, ContentKind::kManifest, p.reference, ""});
    kinds.push_back(p);
  }
  answers = fetch(registry, requests);
  manifests_to_read.clear();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Pending& k = kinds[i];
    const ContentResult& a = answers[i];
    if (a.status == ContentStatus::kError) {
      out[k.subject].errors.push_back(source_error(a, k.where));
    } else if (a.status == ContentStatus::kMissing) {
      if (i < schema_count) {
        out[k.subject].sources.push_back(k.where + ": none");
      } else {
        out[k.subject].errors.push_back(
            Error{"BAD_RESPONSE", fmt::format("{}: referrer {} is listed but missing", k.where,
                                              report::short_digest(k.reference))});
      }
    } else if (a.status != ContentStatus::kFound) {
      out[k.subject].errors.push_back(Error{"BAD_RESPONSE", k.where + ": no conclusive answer"});
    } else if (i < schema_count) {
      const auto index = json::parse(a.body, nullptr, false);
      for (auto& d : referrer_digests(index, k.subject, out, k.where)) {
        manifests_to_read.push_back({k.subject, k.where, d, true});
      }
    } else {
      artifacts.emplace_back(k, a);
    }
  }

  // Step 3: the referrers the tag schema listed.
  requests.clear();
  for (const auto& p : manifests_to_read) {
    requests.push_back({subjects[p.subject].repository, ContentKind::kManifest, p.reference, ""});
  }
  answers = fetch(registry, requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Pending& k = manifests_to_read[i];
    if (answers[i].status == ContentStatus::kFound) {
      artifacts.emplace_back(k, answers[i]);
    } else {
      out[k.subject].errors.push_back(
          answers[i].status == ContentStatus::kError
              ? source_error(answers[i], k.where)
              : Error{"BAD_RESPONSE", fmt::format("{}: referrer {} is listed but missing", k.where,
                                                  report::short_digest(k.reference))});
    }
  }

  // Step 4: the layers (simple-signing payloads, DSSE envelopes) of every artifact manifest.
  requests.clear();
  std::vector<std::pair<std::size_t, FoundLayer>> layers;
  for (const auto& [k, a] : artifacts) {
    const auto doc = json::parse(a.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      out[k.subject].errors.push_back(Error{"BAD_RESPONSE", k.where + ": not a manifest"});
      continue;
    }
    if (k.must_refer) {
      const bool refers = doc.contains("subject") && doc["subject"].is_object() &&
                          doc["subject"].value("digest", "") == subjects[k.subject].digest;
      if (!refers) continue;  // a referrer of something else: not evidence either way
    }
    if (!doc.contains("layers") || !doc["layers"].is_array()) continue;
    // The referrers form as @sigstore/oci writes it carries the annotation on the manifest.
    std::string manifest_signature;
    if (doc.contains("annotations") && doc["annotations"].is_object()) {
      const auto& annotations = doc["annotations"];
      const auto sig = annotations.find(std::string(kSignatureAnnotation));
      if (sig != annotations.end() && sig->is_string())
        manifest_signature = sig->get<std::string>();
    }
    std::size_t n = 0;
    for (const auto& layer : doc["layers"]) {
      if (!layer.is_object() || ++n > kMaxLayers) break;
      FoundLayer found;
      found.where = k.where;
      found.manifest = a.digest;
      found.media_type = layer.value("mediaType", "");
      found.digest = layer.value("digest", "");
      if (layer.contains("annotations") && layer["annotations"].is_object()) {
        const auto& annotations = layer["annotations"];
        const auto sig = annotations.find(std::string(kSignatureAnnotation));
        if (sig != annotations.end() && sig->is_string()) found.signature = sig->get<std::string>();
      }
      if (found.signature.empty()) found.signature = manifest_signature;
      const bool wanted = found.media_type == kSimpleSigning ||
                          (found.media_type == kDsseEnvelope && subjects[k.subject].attestations) ||
                          (is_bundle_media_type(found.media_type) && subjects[k.subject].bundles);
      if (!wanted || !registry::is_sha256_digest(found.digest)) continue;
      requests.push_back({subjects[k.subject].repository, ContentKind::kBlob, found.digest, ""});
      layers.emplace_back(k.subject, std::move(found));
    }
  }
  answers = fetch(registry, requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto& [s, layer] = layers[i];
    if (answers[i].status != ContentStatus::kFound) {
      out[s].errors.push_back(
          answers[i].status == ContentStatus::kError
              ? source_error(answers[i],
                             layer.where + " layer " + report::short_digest(layer.digest))
              : Error{"BAD_RESPONSE", fmt::format("{}: layer {} is missing", layer.where,
                                                  report::short_digest(layer.digest))});
      continue;
    }
    layer.body = answers[i].body;
    if (is_bundle_media_type(layer.media_type)) {
      out[s].bundles.push_back(std::move(layer));
    } else {
      (layer.media_type == kSimpleSigning ? out[s].signatures : out[s].attestations)
          .push_back(std::move(layer));
    }
  }
  return out;
}

}  // namespace imagegate::provenance
