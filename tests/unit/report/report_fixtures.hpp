// Gate evidence and findings shared by the report tests: a passing gate, a failing gate whose
// tag, image id and registry message are hostile (workflow commands, percent signs, CR LF,
// HTML, Markdown table/link syntax, ANSI escapes), and validate findings without an evidence.
#pragma once

#include <string>

#include "evidence/evidence.hpp"
#include "report/reports.hpp"

namespace imagegate::report::testing {

inline const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
inline const std::string kDigestA =
    "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111";
inline const std::string kDigestB =
    "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222";
// What a hostile registry or manifest could put into a tag or a message.
inline const std::string kHostileTag =
    "prod-x\r\n::set-output name=verdict::pass%0A|<script>alert(1)</script>\x1b[31m";
inline const std::string kHostileMessage =
    "denied \x1b[31mred\x1b[0m %25 50% ::error::forged | <img src=x onerror=alert(1)> "
    "[link](https://evil.example) *b* _i_ `c`\r\n::set-output name=verdict::pass";

inline evidence::Evidence base_evidence() {
  evidence::Evidence e;
  e.tool = "imagegate 0.1.0 (test)";
  e.manifest_path = "examples/afu9/images-manifest.json";
  e.manifest_sha256 = std::string(64, 'c');
  e.env = "production";
  e.sha = kSha;
  e.registry = "oci-layout:/srv/layouts";
  e.time = "2026-11-28T01:02:03Z";
  return e;
}

inline evidence::ImageEvidence image(std::string id, std::vector<std::string> tags,
                                     const std::string& digest) {
  evidence::ImageEvidence img;
  img.id = id;
  img.repository = "afu9/" + id;
  img.repository_uri = "127.0.0.1:5000/afu9/" + id;
  img.container = id;
  img.status = "pass";
  img.digest = digest;
  for (auto& t : tags) img.tags.push_back({std::move(t), "found", digest, "application/json"});
  return img;
}

inline std::vector<std::string> tags() {
  return {"prod-" + kSha, "prod-0123456", "prod-latest"};
}

inline void finish(evidence::Evidence& e) {
  bool failed = false;
  for (const auto& img : e.images) {
    for (const auto& f : img.findings) {
      e.findings.push_back(f);
      failed = failed || f.severity == Severity::kError;
    }
  }
  e.verdict = failed ? "fail" : "pass";
}

inline ReportInput gate_input(evidence::Evidence e) {
  ReportInput in;
  in.command = "gate";
  for (const auto& f : e.findings) in.findings.add(f);
  in.verdict = e.verdict;
  in.evidence = std::move(e);
  return in;
}

inline ReportInput passing_gate() {
  auto e = base_evidence();
  auto cc = image("control-center", tags(), kDigestA);
  cc.provenance = {true,  "pass", kDigestA, "if-present", kSha, {{"config label", kSha}},
                   false, {},     {},       {},           {},   {}};
  e.images.push_back(cc);
  auto github = image("mcp-github", tags(), kDigestB);
  github.required_platforms = {"linux/amd64"};
  github.platforms = {"linux/amd64", "linux/arm64"};
  github.provenance = {true, "pass", kDigestB, "if-present", "", {}, false, {}, {}, {}, {}, {}};
  github.findings.push_back({Severity::kWarning, "REVISION_MISSING", "mcp-github", "revision",
                             "linux/amd64 (sha256:bbbbbbbbbbbb) has no "
                             "org.opencontainers.image.revision label or annotation; it cannot "
                             "be tied to a commit (revision: if-present)"});
  e.images.push_back(github);
  auto obs = image("mcp-observability", {}, "");
  obs.required = false;
  obs.status = "absent";
  for (const auto& t : tags()) obs.tags.push_back({t, "missing", "", ""});
  obs.findings.push_back({Severity::kWarning, "TAG_MISSING", "mcp-observability", "",
                          "none of the 3 expected tags is in 'afu9/mcp-observability'; the "
                          "image is optional"});
  e.images.push_back(obs);
  finish(e);
  return gate_input(std::move(e));
}

inline ReportInput failing_gate() {
  auto e = base_evidence();
  const std::vector<std::string> all{"prod-" + kSha, "prod-0123456", kHostileTag};
  auto cc = image("control-center", {}, "");
  cc.status = "fail";
  cc.tags = {{all[0], "found", kDigestA, ""},
             {all[1], "found", kDigestB, ""},
             {all[2], "missing", "", ""}};
  cc.findings = {{Severity::kError, "TAG_MISSING", "control-center", kHostileTag,
                  "tag '" + kHostileTag + "' is not in 'afu9/control-center'"},
                 {Severity::kError, "DIGEST_MISMATCH", "control-center", "",
                  "the tags of one build name 2 different digests: prod-" + kSha +
                      " -> sha256:aaaaaaaaaaaa, prod-0123456 -> sha256:bbbbbbbbbbbb"}};
  e.images.push_back(cc);
  auto gh = image("mcp-github", {}, "");
  gh.status = "fail";
  gh.findings = {{Severity::kError, "REPOSITORY_MISSING", "mcp-github", "",
                  "repository 'afu9/mcp-github' does not exist in the registry"}};
  e.images.push_back(gh);
  auto evil = image("evil<b>|id", {}, "");
  evil.status = "fail";
  for (const auto& t : all) evil.tags.push_back({t, "error", "", ""});
  evil.findings = {{Severity::kError, "AUTH_FAILED", "evil<b>|id", "", kHostileMessage},
                   {Severity::kWarning, "SLOW_REGISTRY", "evil<b>|id", "", kHostileMessage}};
  e.images.push_back(evil);
  // Every tag on one digest, but an old build re-tagged: provenance fails.
  auto stale = image("mcp-deploy", all, "");
  stale.status = "fail";
  for (auto& t : stale.tags) t.digest = kDigestB;
  const std::string old_sha = "fedcba9876543210fedcba9876543210fedcba98";
  stale.provenance = {true,  "fail", kDigestB, "if-present", "", {{"config label", old_sha}},
                      false, {},     {},       {},           {}, {}};
  stale.findings = {{Severity::kError, "REVISION_MISMATCH", "mcp-deploy", "revision",
                     "the config label (org.opencontainers.image.revision) names revision '" +
                         old_sha + "', but this build is " + kSha}};
  e.images.push_back(stale);
  finish(e);
  return gate_input(std::move(e));
}

inline ReportInput failing_validate() {
  ReportInput in;
  in.command = "validate";
  in.findings.error("SCHEMA_VIOLATION", "", "/images/1/name",
                    "name 'Bad Name' does not match ^[a-z0-9]+(?:[._/-][a-z0-9]+)*$");
  in.findings.error("DOCKERFILE_MISSING", "mcp-deploy", "mcp-deploy/Dockerfile",
                    "the Dockerfile does not exist");
  in.findings.warning("REPOSITORY_UNUSED", "", "afu9/" + kHostileTag, kHostileMessage);
  in.verdict = "fail";
  return in;
}

}  // namespace imagegate::report::testing
