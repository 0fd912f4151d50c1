// Evidence documents as `pin` and `verify` read them (--evidence): parse, check against the
// manifest, and what holds for every document that reads: written again, it reads again to the
// same document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "deploy/expectations.hpp"
#include "evidence/evidence.hpp"
#include "findings/findings.hpp"
#include "manifest/manifest.hpp"

using namespace imagegate;

namespace {

constexpr std::string_view kManifest = R"({
  "version": "1.0.0",
  "images": [
    {"id": "control-center", "name": "afu9/control-center", "dockerfile": "Dockerfile",
     "context": ".", "required": true, "taskDefContainerName": "control-center"},
    {"id": "mcp-github", "name": "afu9/mcp-github", "dockerfile": "Dockerfile",
     "context": ".", "required": false, "taskDefContainerName": "mcp-github"}
  ],
  "tagging": {"strategy": "git-sha", "prefixes": {"production": "prod"},
              "alwaysTag": ["{prefix}-{full_sha}", "{prefix}-latest"]}
})";

const manifest::Manifest& the_manifest() {
  static const manifest::Manifest* m = [] {
    auto parsed = manifest::parse(kManifest, "images-manifest.json");
    if (!parsed) std::abort();
    return new manifest::Manifest(std::move(*parsed));
  }();
  return *m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = evidence::parse(text, "evidence.json");
  if (!parsed) return 0;
  const auto written = evidence::to_json(*parsed);
  const auto again = evidence::from_json(written);
  if (!again || evidence::to_json(*again) != written) std::abort();

  findings::Findings findings;
  deploy::check_evidence(*parsed, the_manifest(), "production",
                         "0123456789abcdef0123456789abcdef01234567", findings);
  (void)deploy::build_expectations(the_manifest(), {"prod-latest"}, &*parsed, {});
  evidence::recompute_verdict(*parsed);
  return 0;
}
