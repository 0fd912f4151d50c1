#include "deploy/runtime_platform.hpp"

#include <fmt/format.h>

#include "registry/registry.hpp"
#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

std::string lower(std::string text) {
  for (auto& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

RuntimePlatform runtime_platform(const TaskDefinition& task_definition) {
  const auto& doc = task_definition.document;
  const auto it = doc.find("runtimePlatform");
  std::string family;
  std::string architecture;
  if (it != doc.end() && it->is_object()) {
    family = string_field(*it, "operatingSystemFamily");
    architecture = string_field(*it, "cpuArchitecture");
  }
  RuntimePlatform out;
  const std::string os = family.empty()                   ? "linux"
                         : family == "LINUX"              ? "linux"
                         : family.starts_with("WINDOWS_") ? "windows"
                                                          : lower(family);
  const std::string arch = architecture.empty()       ? "amd64"
                           : architecture == "X86_64" ? "amd64"
                           : architecture == "ARM64"  ? "arm64"
                                                      : lower(architecture);
  out.platform = os + "/" + arch;
  if (family.empty() && architecture.empty()) {
    out.source = "no runtimePlatform (Fargate's default linux/amd64)";
  } else {
    out.source = fmt::format("runtimePlatform {}/{}", family.empty() ? "(LINUX)" : family,
                             architecture.empty() ? "(X86_64)" : architecture);
  }
  return out;
}

void check_runtime_platform(const TaskDefinition& task_definition,
                            const std::vector<ContainerImage>& containers,
                            const std::vector<const ExpectedImage*>& mapped,
                            findings::Findings& findings) {
  const RuntimePlatform runtime = runtime_platform(task_definition);
  const auto wanted = registry::Platform::parse(runtime.platform);
  for (std::size_t i = 0; i < containers.size() && i < mapped.size(); ++i) {
    const ExpectedImage* image = mapped[i];
    if (image == nullptr || image->platforms.empty()) continue;
    bool ok = false;
    for (const auto& text : image->platforms) {
      const auto found = registry::Platform::parse(text);
      ok = ok || (wanted && found && found->satisfies(*wanted));
    }
    if (ok) continue;
    findings.error(
        "PLATFORM_MISMATCH", image->id, containers[i].name,
        fmt::format("container {} would start on {} ({}), a platform image {} does not have; "
                    "the evidence recorded: {}",
                    util::quote(containers[i].name), runtime.platform, runtime.source,
                    util::quote(image->name), util::join(image->platforms, ", ")));
  }
}

}  // namespace imagegate::deploy
