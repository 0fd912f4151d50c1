// Revision binding: the image config's org.opencontainers.image.revision label, and the same key
// as an annotation of the manifest or of the index (docker/metadata-action and buildx write
// both), must name the gate's sha. Every platform image of an index that is read must carry one
// (its own, or the index's); each value read must equal the sha.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "provenance/provenance.hpp"
#include "registry/content.hpp"
#include "report/gate_text.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {
namespace {

using nlohmann::json;
using registry::ContentKind;
using registry::ContentRequest;
using registry::ContentResult;
using registry::ContentStatus;

std::optional<std::string> revision_in(const json& object, const char* field) {
  if (!object.is_object()) return std::nullopt;
  const auto map = object.find(field);
  if (map == object.end() || !map->is_object()) return std::nullopt;
  const auto value = map->find(kRevisionKey);
  if (value == map->end() || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

// One image manifest being read: a subject itself, or a platform image of a subject's index.
struct ImageNode {
  std::size_t subject = 0;
  std::string digest;
  std::string label;  // "" for a single image, else "linux/arm64"
  bool has_revision = false;
  std::string config_digest;
};

std::string described(const std::string& what, const ImageNode& node) {
  if (node.label.empty()) return what;
  return fmt::format("{} of {} ({})", what, node.label, report::short_digest(node.digest));
}

Error read_error(const ContentResult& result, std::string_view what) {
  if (result.status == ContentStatus::kError) {
    return Error{result.error.code.empty() ? "BAD_RESPONSE" : result.error.code,
                 fmt::format("{}: {}", what, result.error.message)};
  }
  return Error{"BAD_RESPONSE", fmt::format("{}: the registry does not have it", what)};
}

// The platform images of an index to read: for each required platform the first entry that
// provides it, else every runnable entry (attestation entries and unknown/unknown left out).
std::vector<std::pair<std::string, std::string>> children_of(
    const json& index, const std::vector<std::string>& wanted) {
  std::vector<std::pair<registry::Platform, std::string>> entries;
  for (const auto& entry : index["manifests"]) {
    if (!entry.is_object() || !entry.contains("platform") || !entry["platform"].is_object()) {
      continue;
    }
    const auto annotations = entry.find("annotations");
    if (annotations != entry.end() && annotations->is_object() &&
        annotations->contains("vnd.docker.reference.type")) {
      continue;
    }
    const auto& p = entry["platform"];
    registry::Platform platform{p.value("os", ""), p.value("architecture", ""),
                                p.value("variant", "")};
    if (platform.os.empty() || platform.os == "unknown") continue;
    entries.emplace_back(std::move(platform), entry.value("digest", ""));
  }
  std::vector<std::pair<std::string, std::string>> out;
  if (wanted.empty()) {
    for (const auto& [platform, digest] : entries) out.emplace_back(platform.to_string(), digest);
    return out;
  }
  for (const auto& text : wanted) {
    const auto want = registry::Platform::parse(text);
    for (const auto& [platform, digest] : entries) {
      if (want && platform.satisfies(*want)) {
        out.emplace_back(platform.to_string(), digest);
        break;
      }
    }
  }
  return out;
}

// One batch; none at all for nothing to read.
std::vector<ContentResult> fetch(registry::Registry& registry,
                                 const std::vector<ContentRequest>& requests) {
  if (requests.empty()) return {};
  return registry.fetch(requests);
}

}  // namespace

std::vector<RevisionFacts> read_revisions(registry::Registry& registry,
                                          const std::vector<Subject>& subjects) {
  std::vector<RevisionFacts> facts(subjects.size());
  std::vector<ImageNode> nodes;
  std::vector<bool> index_has_revision(subjects.size(), false);

  // 1. The subjects' manifests.
  std::vector<ContentRequest> requests;
  for (const auto& s : subjects)
    requests.push_back({s.repository, ContentKind::kManifest, s.digest, ""});
  auto answers = fetch(registry, requests);
  std::vector<ImageNode> children;
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    const std::string what = fmt::format("manifest {}", report::short_digest(subjects[i].digest));
    if (i >= answers.size() || answers[i].status != ContentStatus::kFound) {
      facts[i].errors.push_back(i < answers.size() ? read_error(answers[i], what)
                                                   : Error{"BAD_RESPONSE", what + ": no answer"});
      continue;
    }
    const json doc = json::parse(answers[i].body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      facts[i].errors.push_back(Error{"BAD_RESPONSE", what + ": not a JSON object"});
      continue;
    }
    if (doc.contains("manifests") && doc["manifests"].is_array()) {
      if (const auto value = revision_in(doc, "annotations")) {
        facts[i].found.push_back({"index annotation", *value});
        index_has_revision[i] = true;
      }
      const auto platform_images = children_of(doc, subjects[i].platforms);
      if (platform_images.empty()) {
        facts[i].errors.push_back(
            Error{"BAD_RESPONSE", what + ": the index has no platform image to read"});
      }
      for (const auto& [label, digest] : platform_images) {
        children.push_back({i, digest, label, false, ""});
      }
      continue;
    }
    ImageNode node{i, subjects[i].digest, "", false, ""};
    if (const auto value = revision_in(doc, "annotations")) {
      facts[i].found.push_back({"manifest annotation", *value});
      node.has_revision = true;
    }
    node.config_digest = doc.contains("config") && doc["config"].is_object()
                             ? doc["config"].value("digest", "")
                             : "";
    nodes.push_back(std::move(node));
  }

  // 2. The platform images of indexes.
  requests.clear();
  for (const auto& c : children) {
    requests.push_back({subjects[c.subject].repository, ContentKind::kManifest, c.digest, ""});
  }
  answers = fetch(registry, requests);
  for (std::size_t k = 0; k < children.size(); ++k) {
    ImageNode node = children[k];
    auto& f = facts[node.subject];
    const std::string what = described("manifest", node);
    if (k >= answers.size() || answers[k].status != ContentStatus::kFound) {
      f.errors.push_back(k < answers.size() ? read_error(answers[k], what)
                                            : Error{"BAD_RESPONSE", what + ": no answer"});
      continue;
    }
    const json doc = json::parse(answers[k].body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("config") ||
        !doc["config"].is_object()) {
      f.errors.push_back(Error{"BAD_RESPONSE", what + ": not an image manifest"});
      continue;
    }
    if (const auto value = revision_in(doc, "annotations")) {
      f.found.push_back({described("manifest annotation", node), *value});
      node.has_revision = true;
    }
    node.has_revision = node.has_revision || index_has_revision[node.subject];
    node.config_digest = doc["config"].value("digest", "");
    nodes.push_back(std::move(node));
  }

  // 3. The config blobs.
  requests.clear();
  for (const auto& n : nodes) {
    requests.push_back({subjects[n.subject].repository, ContentKind::kBlob, n.config_digest, ""});
  }
  answers = fetch(registry, requests);
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    ImageNode& node = nodes[k];
    auto& f = facts[node.subject];
    const std::string what = described("config blob", node);
    if (k >= answers.size() || answers[k].status != ContentStatus::kFound) {
      f.errors.push_back(k < answers.size() ? read_error(answers[k], what)
                                            : Error{"BAD_RESPONSE", what + ": no answer"});
      continue;
    }
    const json doc = json::parse(answers[k].body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      f.errors.push_back(Error{"BAD_RESPONSE", what + ": not a JSON object"});
      continue;
    }
    const json config = doc.contains("config") ? doc["config"] : json();
    if (const auto value = revision_in(config, "Labels")) {
      f.found.push_back({described("config label", node), *value});
      node.has_revision = true;
    }
    if (!node.has_revision) {
      f.without.push_back(node.label.empty() ? std::string("the image")
                                             : fmt::format("{} ({})", node.label,
                                                           report::short_digest(node.digest)));
    }
  }
  return facts;
}

void judge_revision(RevisionMode mode, const std::string& sha, const RevisionFacts& facts,
                    const std::string& image_id, evidence::ImageEvidence& out) {
  auto& p = out.provenance;
  p.revision_policy = to_string(mode);
  if (mode == RevisionMode::kOff) return;
  const auto add = [&](findings::Severity severity, const char* code, std::string message) {
    out.findings.push_back({severity, code, image_id, "revision", std::move(message)});
  };
  for (const auto& e : facts.errors) {
    add(findings::Severity::kError, e.code.c_str(),
        fmt::format("the revision could not be read: {}", e.message));
  }
  bool all_equal = true;
  for (const auto& s : facts.found) {
    p.revisions.push_back({s.where, s.value});
    if (s.value != sha) {
      all_equal = false;
      add(findings::Severity::kError, "REVISION_MISMATCH",
          fmt::format("the {} ({}) names revision {}, but this build is {}", s.where,
                      std::string(kRevisionKey), util::quote(util::escape_display(s.value)), sha));
    }
  }
  if (all_equal && !facts.found.empty() && facts.errors.empty() && facts.without.empty()) {
    p.revision = sha;
  }
  for (const auto& w : facts.without) {
    add(mode == RevisionMode::kRequired ? findings::Severity::kError : findings::Severity::kWarning,
        "REVISION_MISSING",
        fmt::format("{} has no {} label or annotation{}", w, std::string(kRevisionKey),
                    mode == RevisionMode::kRequired
                        ? "; the policy requires it"
                        : "; it cannot be tied to a commit (revision: if-present)"));
  }
}

}  // namespace imagegate::provenance
