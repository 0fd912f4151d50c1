// The docker config.json (auths with inline credentials, credHelpers, credsStore) as the
// credential store reads it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/auth.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = auth::parse_docker_config(text, "config.json");
  if (!config) return 0;
  for (const auto& [host, credential] : config->inline_credentials) {
    (void)auth::normalize_registry_key(host);
    (void)auth::basic_authorization(credential);
  }
  for (const auto& [host, helper] : config->helpers) {
    if (helper.empty()) std::abort();
  }
  return 0;
}
