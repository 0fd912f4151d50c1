// Shared fixtures for the deploy tests: a two-image manifest (one optional), its evidence and
// task definitions built in memory.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "deploy/expectations.hpp"
#include "deploy/task_definition.hpp"
#include "evidence/evidence.hpp"
#include "manifest/manifest.hpp"
#include "manifest/tagging.hpp"

namespace imagegate::deploy::testing {

inline const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
inline const std::string kDigestA = "sha256:" + std::string(64, 'a');
inline const std::string kDigestB = "sha256:" + std::string(64, 'b');
inline const std::string kOtherDigest = "sha256:" + std::string(64, 'f');
inline const std::string kRegistry = "123456789012.dkr.ecr.eu-central-1.amazonaws.com";

inline manifest::Manifest two_image_manifest() {
  auto m = manifest::parse(R"({
  "version": "1.0.0",
  "images": [
    {"id": "a", "name": "afu9/a", "dockerfile": "a/Dockerfile", "context": ".",
     "required": true, "taskDefContainerName": "app"},
    {"id": "b", "name": "afu9/b", "dockerfile": "b/Dockerfile", "context": ".",
     "required": false, "taskDefContainerName": "sidekick"}
  ],
  "tagging": {"strategy": "git-sha", "prefixes": {"production": "prod"},
              "alwaysTag": ["{prefix}-{full_sha}", "{prefix}-latest"]}
})",
                           "images-manifest.json");
  EXPECT_TRUE(m);
  return *m;
}

inline evidence::ImageEvidence image_evidence(const std::string& id, const std::string& digest,
                                              bool required = true) {
  evidence::ImageEvidence e;
  e.id = id;
  e.repository = "afu9/" + id;
  e.repository_uri = kRegistry + "/afu9/" + id;
  e.container = id == "a" ? "app" : "sidekick";
  e.required = required;
  e.status = digest.empty() ? "absent" : "pass";
  e.digest = digest;
  return e;
}

inline evidence::Evidence passing_evidence(const manifest::Manifest& m) {
  evidence::Evidence e;
  e.manifest_path = "images-manifest.json";
  e.manifest_sha256 = m.sha256;
  e.env = "production";
  e.sha = kSha;
  e.registry = "ecr";
  e.time = "2026-11-28T01:00:00Z";
  e.verdict = "pass";
  e.images = {image_evidence("a", kDigestA), image_evidence("b", kDigestB, false)};
  return e;
}

inline TaskDefinition task_definition(const nlohmann::json& containers) {
  auto td = parse_task_definition(
      nlohmann::json{{"family", "f"}, {"containerDefinitions", containers}}, "td.json");
  EXPECT_TRUE(td) << td.error().message;
  return *td;
}

inline std::vector<std::string> codes(const findings::Findings& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings.items()) {
    out.push_back(std::string(findings::to_string(f.severity)) + " " + f.code);
  }
  return out;
}

inline std::vector<std::string> tags() {
  return {"prod-" + kSha, "prod-latest"};
}

}  // namespace imagegate::deploy::testing
