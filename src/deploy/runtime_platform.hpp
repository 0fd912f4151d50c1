// The platform a task definition's tasks start on, compared with the platforms the gate found in
// the registry: a task definition whose runtimePlatform the image does not have registers fine
// and fails only when a task starts, so pin and verify catch it first.
#pragma once

#include <string>
#include <vector>

#include "deploy/expectations.hpp"
#include "deploy/task_definition.hpp"
#include "findings/findings.hpp"

namespace imagegate::deploy {

struct RuntimePlatform {
  std::string platform{};  // "linux/amd64", "linux/arm64", "windows/amd64"
  std::string source{};    // for messages: "runtimePlatform LINUX/ARM64" or "no runtimePlatform"
};

// operatingSystemFamily LINUX -> linux, WINDOWS_* -> windows; cpuArchitecture X86_64 -> amd64,
// ARM64 -> arm64; other values lower-cased as given (they match no image platform). Absent (or
// either field absent) means Fargate's default, linux and amd64.
RuntimePlatform runtime_platform(const TaskDefinition& task_definition);

// PLATFORM_MISMATCH for every managed container whose image's evidence recorded platforms that
// do not include the task definition's runtime platform. Images whose evidence recorded no
// platforms (the manifest requires none) are not judged here.
void check_runtime_platform(const TaskDefinition& task_definition,
                            const std::vector<ContainerImage>& containers,
                            const std::vector<const ExpectedImage*>& mapped,
                            findings::Findings& findings);

}  // namespace imagegate::deploy
