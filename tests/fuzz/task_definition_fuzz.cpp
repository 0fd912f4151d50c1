// ECS task definition files (`pin`'s input: register-task-definition input or
// describe-task-definition output): parse, list the containers, pin each image, and write the
// registration document; what `pin` writes must read back with the same containers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "deploy/task_definition.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)deploy::line_and_column(text, size / 2);
  auto parsed = deploy::parse_task_definition_text(text, "taskdef.json");
  if (!parsed) return 0;
  const std::string pinned =
      "127.0.0.1:5000/afu9/"
      "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const auto containers = parsed->containers();
  for (const auto& c : containers) {
    if (!parsed->set_image(c.name, pinned)) std::abort();
  }
  const std::string written = deploy::dump_document(deploy::registration_input(*parsed));
  const auto again = deploy::parse_task_definition_text(written, "pinned.json");
  if (!again || again->containers().size() != containers.size()) std::abort();
  return 0;
}
