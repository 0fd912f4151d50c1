#include "evidence/evidence.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/text.hpp"

namespace imagegate::evidence {
namespace {

using nlohmann::json;

findings::Severity severity_of(const std::string& s) {
  if (s == "warning") return findings::Severity::kWarning;
  if (s == "info") return findings::Severity::kInfo;
  return findings::Severity::kError;
}

findings::Finding finding_from(const json& j) {
  return {severity_of(j.value("severity", "error")), j.value("code", ""), j.value("image", ""),
          j.value("subject", ""), j.value("message", "")};
}

json findings_to_json(const std::vector<findings::Finding>& findings) {
  json out = json::array();
  for (const auto& f : findings) out.push_back(f);
  return out;
}

json provenance_to_json(const ProvenanceEvidence& p) {
  json revisions = json::array();
  for (const auto& r : p.revisions) revisions.push_back({{"where", r.where}, {"value", r.value}});
  json signatures = json::array();
  for (const auto& sig : p.signatures) {
    signatures.push_back({{"keyFingerprint", sig.key_fingerprint},
                          {"where", sig.where},
                          {"manifest", sig.manifest}});
  }
  json attestations = json::array();
  for (const auto& a : p.attestations) {
    attestations.push_back({{"predicateType", a.predicate_type},
                            {"digest", a.digest},
                            {"where", a.where},
                            {"keyFingerprint", a.key_fingerprint}});
  }
  json out{{"status", p.status},
           {"digest", p.digest},
           {"revision",
            {{"policy", p.revision_policy},
             {"value", p.revision.empty() ? json(nullptr) : json(p.revision)},
             {"sources", revisions}}},
           {"signatures", {{"required", p.signatures_required}, {"verified", signatures}}},
           {"attestations", {{"required", p.attestations_required}, {"verified", attestations}}}};
  if (!p.identities_required.empty() || !p.keyless.empty()) {
    json verified = json::array();
    for (const auto& k : p.keyless) {
      verified.push_back({{"where", k.where},
                          {"manifest", k.manifest},
                          {"bundle", k.bundle},
                          {"kind", k.kind},
                          {"predicateType", k.predicate_type},
                          {"subject", k.subject},
                          {"issuer", k.issuer},
                          {"sourceRepository", k.source_repository},
                          {"sourceDigest", k.source_digest},
                          {"sourceRef", k.source_ref},
                          {"buildSigner", k.build_signer},
                          {"buildTrigger", k.build_trigger},
                          {"runInvocation", k.run_invocation},
                          {"logIndex", k.log_index},
                          {"integratedTime", k.integrated_time},
                          {"logId", k.log_id}});
      if (!k.timestamps.empty()) verified.back()["timestamps"] = k.timestamps;
    }
    out["keyless"] = {{"identities", p.identities_required}, {"verified", verified}};
  }
  return out;
}

ProvenanceEvidence provenance_from(const json& j) {
  ProvenanceEvidence p;
  p.checked = true;
  p.status = j.at("status").get<std::string>();
  p.digest = j.value("digest", "");
  if (j.contains("revision") && j["revision"].is_object()) {
    const auto& r = j["revision"];
    p.revision_policy = r.value("policy", "");
    if (r.contains("value") && r["value"].is_string()) p.revision = r["value"];
    for (const auto& s : r.value("sources", json::array())) {
      p.revisions.push_back({s.value("where", ""), s.value("value", "")});
    }
  }
  if (j.contains("signatures") && j["signatures"].is_object()) {
    p.signatures_required = j["signatures"].value("required", false);
  }
  if (j.contains("attestations") && j["attestations"].is_object()) {
    p.attestations_required = j["attestations"].value("required", std::vector<std::string>{});
  }
  if (j.contains("keyless") && j["keyless"].is_object()) {
    p.identities_required = j["keyless"].value("identities", std::vector<std::string>{});
  }
  if (p.status != "pass" && p.status != "fail") {
    throw std::invalid_argument("provenance.status is neither \"pass\" nor \"fail\"");
  }
  return p;
}

json scan_to_json(const ScanEvidence& s) {
  json out{{"status", s.status},
           {"digest", s.digest},
           {"maxSeverity", s.max_severity},
           {"policySource", s.policy_source},
           {"scanStatus", s.scan_status.empty() ? json(nullptr) : json(s.scan_status)},
           {"severityCounts", s.counts},
           {"failingCounts", s.failing},
           {"findingsListed", s.findings_listed},
           {"pages", s.pages}};
  if (!s.description.empty()) out["description"] = s.description;
  if (!s.kind.empty()) out["findingsShape"] = s.kind;
  if (!s.completed_at.empty()) out["completedAt"] = s.completed_at;
  return out;
}

}  // namespace

void recompute_verdict(Evidence& e) {
  e.findings.clear();
  bool failed = false;
  for (const auto& image : e.images) {
    for (const auto& f : image.findings) {
      e.findings.push_back(f);
      failed = failed || f.severity == findings::Severity::kError;
    }
  }
  e.verdict = failed ? "fail" : "pass";
}

const ImageEvidence* Evidence::find_image(std::string_view id) const {
  for (const auto& image : images) {
    if (image.id == id) return &image;
  }
  return nullptr;
}

json to_json(const Evidence& e) {
  json images = json::array();
  for (const auto& image : e.images) {
    json tags = json::array();
    for (const auto& t : image.tags) {
      json tag = {{"tag", t.tag}, {"status", t.status}};
      if (!t.digest.empty()) tag["digest"] = t.digest;
      if (!t.media_type.empty()) tag["mediaType"] = t.media_type;
      tags.push_back(std::move(tag));
    }
    json entry = {{"id", image.id},
                  {"repository", image.repository},
                  {"repositoryUri", image.repository_uri},
                  {"container", image.container},
                  {"required", image.required},
                  {"status", image.status},
                  {"digest", image.digest.empty() ? json(nullptr) : json(image.digest)},
                  {"tags", tags},
                  {"requiredPlatforms", image.required_platforms},
                  {"platforms", image.platforms},
                  {"findings", findings_to_json(image.findings)}};
    if (!image.digest.empty()) entry["pinnedReference"] = image.pinned_reference();
    if (image.provenance.checked) entry["provenance"] = provenance_to_json(image.provenance);
    if (image.scan.checked) entry["scan"] = scan_to_json(image.scan);
    images.push_back(std::move(entry));
  }
  json excluded = json::array();
  for (const auto& x : e.excluded) {
    excluded.push_back({{"id", x.id}, {"container", x.container}, {"reason", x.reason}});
  }
  json out{{"schemaVersion", e.schema_version},
           {"tool", e.tool},
           {"manifest", {{"path", e.manifest_path}, {"sha256", e.manifest_sha256}}},
           {"env", e.env},
           {"sha", e.sha},
           {"registry", e.registry},
           {"time", e.time},
           {"verdict", e.verdict},
           {"images", images},
           {"excluded", excluded},
           {"features", e.features},
           {"findings", findings_to_json(e.findings)}};
  if (!e.version.empty()) out["version"] = e.version;
  return out;
}

Result<Evidence> from_json(const json& d) {
  auto invalid = [](std::string what) {
    return fail("EVIDENCE_INVALID", "evidence document is not valid: " + what);
  };
  if (!d.is_object()) return invalid("expected a JSON object");
  if (!d.contains("schemaVersion") || !d["schemaVersion"].is_number_integer()) {
    return invalid("schemaVersion is missing");
  }
  // Compared as written: 4294967297 is not version 1 (a narrowing read would wrap it).
  const auto& version = d["schemaVersion"];
  const bool supported =
      version.is_number_unsigned()
          ? version.get<std::uint64_t>() == static_cast<std::uint64_t>(kSchemaVersion)
          : version.get<std::int64_t>() == kSchemaVersion;
  if (!supported) {
    return invalid(fmt::format("schemaVersion {} is not supported (expected {})", version.dump(),
                               kSchemaVersion));
  }
  try {
    Evidence e;
    e.tool = d.value("tool", "");
    e.manifest_path = d.at("manifest").at("path").get<std::string>();
    e.manifest_sha256 = d.at("manifest").at("sha256").get<std::string>();
    e.env = d.at("env").get<std::string>();
    e.sha = d.at("sha").get<std::string>();
    e.registry = d.at("registry").get<std::string>();
    e.time = d.at("time").get<std::string>();
    e.verdict = d.at("verdict").get<std::string>();
    e.version = d.value("version", "");
    e.features = d.value("features", std::vector<std::string>{});
    for (const auto& x : d.value("excluded", json::array())) {
      e.excluded.push_back(
          {x.at("id").get<std::string>(), x.value("container", ""), x.value("reason", "")});
    }
    for (const auto& f : d.value("findings", json::array())) e.findings.push_back(finding_from(f));
    for (const auto& i : d.at("images")) {
      ImageEvidence image;
      image.id = i.at("id").get<std::string>();
      image.repository = i.at("repository").get<std::string>();
      image.repository_uri = i.at("repositoryUri").get<std::string>();
      image.container = i.value("container", "");
      image.required = i.at("required").get<bool>();
      image.status = i.at("status").get<std::string>();
      if (i.contains("digest") && i["digest"].is_string()) image.digest = i["digest"];
      for (const auto& t : i.at("tags")) {
        image.tags.push_back({t.at("tag").get<std::string>(), t.at("status").get<std::string>(),
                              t.value("digest", ""), t.value("mediaType", "")});
      }
      image.required_platforms = i.value("requiredPlatforms", std::vector<std::string>{});
      image.platforms = i.value("platforms", std::vector<std::string>{});
      for (const auto& f : i.value("findings", json::array())) {
        image.findings.push_back(finding_from(f));
      }
      if (i.contains("provenance")) image.provenance = provenance_from(i.at("provenance"));
      e.images.push_back(std::move(image));
    }
    if (e.verdict != "pass" && e.verdict != "fail" && e.verdict != "skipped") {
      return invalid(fmt::format("verdict {} is not \"pass\", \"fail\" or \"skipped\"",
                                 util::quote(e.verdict)));
    }
    return e;
  } catch (const json::exception& ex) {
    return invalid(util::escape_display(ex.what()));
  } catch (const std::invalid_argument& ex) {
    return invalid(ex.what());
  }
}

Result<Evidence> load(const std::filesystem::path& path) {
  std::error_code ec;
  // A directory opens as a stream on Linux and reads as nothing: not "invalid JSON".
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return fail("EVIDENCE_UNREADABLE",
                fmt::format("evidence {} cannot be read", util::quote(path.string())));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

Result<Evidence> parse(std::string_view text, const std::filesystem::path& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& ex) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < ex.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line, column = 1;
      } else {
        ++column;
      }
    }
    return fail("EVIDENCE_INVALID_JSON",
                fmt::format("evidence {} is not valid JSON at line {}, column {}",
                            util::quote(path.string()), line, column));
  } catch (const json::out_of_range&) {
    // A number past what a double holds (1e400).
    return fail("EVIDENCE_INVALID_JSON",
                fmt::format("evidence {} is not valid JSON: a number is out of range",
                            util::quote(path.string())));
  }
  return from_json(doc);
}

std::string now_rfc3339() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

}  // namespace imagegate::evidence
