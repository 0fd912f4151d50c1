// The gate's judgement: from the registry's answers to the evidence and its findings. Pure (no
// I/O), so every rule is unit-tested without a registry.
#pragma once

#include <string>
#include <vector>

#include "evidence/evidence.hpp"
#include "manifest/manifest.hpp"
#include "registry/registry.hpp"

namespace imagegate::gate {

// One query per image, in manifest order (want_platforms when the image requires platforms).
std::vector<registry::TagQuery> build_queries(const manifest::Manifest& manifest,
                                              const std::vector<std::string>& tags);

struct GateInput {
  const manifest::Manifest* manifest = nullptr;
  std::string env;
  std::string sha;
  std::string registry;  // as given, without credentials
  std::vector<std::string> tags;
  std::vector<registry::RepositoryResult> results;  // one per image, in manifest order
};

// Rules: a required image passes only when its repository exists, every tag is found, all tags
// name one digest and every required platform is there. An optional image with no tag at all is
// "absent" (warnings); partly present, it must be consistent like a required one. Anything that
// could not be checked is an error finding; the verdict is "pass" only without error findings.
evidence::Evidence evaluate(const GateInput& input);

}  // namespace imagegate::gate
