// The images manifest as `validate`, `gate`, `pin` and `verify` read it: parse (UTF-8, JSON with
// positions, the model), every check (keys, schema, semantics without the build tree), the tag
// templates of every environment and conditionalOn.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "manifest/manifest.hpp"
#include "manifest/tagging.hpp"
#include "util/error.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = manifest::parse(text, "images-manifest.json");
  if (!parsed) return 0;
  manifest::Manifest& m = *parsed;
  for (const bool strict : {false, true}) {
    (void)manifest::validate(m, "/nonexistent-imagegate-fuzz", {strict, false});
  }
  const std::string sha = "0123456789abcdef0123456789abcdef01234567";
  for (const auto& [env, prefix] : m.tagging.prefixes) {
    try {
      (void)manifest::canonical_environment(m.tagging, env);
      (void)manifest::expected_tags(m.tagging, manifest::resolve_target(m.tagging, env, sha));
      (void)manifest::expected_tags(m.tagging,
                                    manifest::resolve_target(m.tagging, env, sha, "v1.2.3-rc.1"));
    } catch (const UsageError&) {
      // What the command line would be told (exit 2).
    }
    manifest::Manifest selected = m;
    manifest::select_images(selected, env, {"feature"});
  }
  return 0;
}
