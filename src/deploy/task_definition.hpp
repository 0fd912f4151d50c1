// ECS task definition documents as files: reading either the register-task-definition input or
// `aws ecs describe-task-definition` output, listing containers, and writing a document that
// register-task-definition accepts (read-only fields dropped, stable key order).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace imagegate::deploy {

// Largest task definition file read; AWS's own limit for a task definition is 64 KiB.
inline constexpr std::size_t kMaxTaskDefinitionBytes = 4 * 1024 * 1024;

// Fields DescribeTaskDefinition returns that RegisterTaskDefinition rejects.
inline constexpr std::string_view kReadOnlyFields[] = {
    "taskDefinitionArn", "revision",     "status",         "requiresAttributes", "compatibilities",
    "registeredAt",      "registeredBy", "deregisteredAt", "deleteRequestedAt"};

struct ContainerImage {
  std::size_t index = 0;  // position in containerDefinitions
  std::string name;
  std::string image;  // empty when the container has none
};

struct TaskDefinition {
  // The task definition object itself, {"taskDefinition": ...} already unwrapped.
  nlohmann::json document;
  bool was_wrapped = false;  // read from describe-task-definition output

  std::vector<ContainerImage> containers() const;
  // Sets containerDefinitions[i].image of the container named `name`; false when there is none.
  bool set_image(std::string_view name, const std::string& image);
};

// Checks the shape: an object with containerDefinitions, an array of objects that each have a
// non-empty string name (unique) and, when present, a string image. {"taskDefinition": {...}}
// is unwrapped (once: a second "taskDefinition" inside is an error); its "tags" move inside when
// the task definition has none. Errors:
// TASKDEF_INVALID naming `source` and what is missing.
Result<TaskDefinition> parse_task_definition(nlohmann::json document, std::string_view source);

// parse_task_definition over text; TASKDEF_INVALID_JSON with line and column.
Result<TaskDefinition> parse_task_definition_text(std::string_view text, std::string_view source);

// Reads the file ("-" is stdin); TASKDEF_UNREADABLE, TASKDEF_TOO_LARGE, then as above.
Result<TaskDefinition> load_task_definition(const std::filesystem::path& path);

// The document for register-task-definition: every field kept except kReadOnlyFields.
nlohmann::json registration_input(const TaskDefinition& task_definition);

// Sorted keys, 2-space indent, trailing newline; non-ASCII kept as UTF-8.
std::string dump_document(const nlohmann::json& document);

// 1-based line and column of byte offset `byte` (as nlohmann's parse_error reports it: the
// offending character is byte - 1) in text.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t byte);

}  // namespace imagegate::deploy
