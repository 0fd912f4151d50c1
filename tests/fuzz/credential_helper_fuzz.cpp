// What a docker-credential-<name> helper prints for `get`, as the credential store reads it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/auth.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto credential = auth::parse_credential_helper_output(text, "docker-credential-fuzz",
                                                                   "registry.example")) {
    (void)auth::basic_authorization(*credential);
  }
  return 0;
}
