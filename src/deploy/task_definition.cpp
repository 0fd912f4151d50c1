#include "deploy/task_definition.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

using nlohmann::json;

std::string type_name(const json& j) {
  return j.type_name();
}

}  // namespace

std::vector<ContainerImage> TaskDefinition::containers() const {
  std::vector<ContainerImage> out;
  const auto& list = document.at("containerDefinitions");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& c = list[i];
    out.push_back({i, c.at("name").get<std::string>(), c.value("image", std::string())});
  }
  return out;
}

bool TaskDefinition::set_image(std::string_view name, const std::string& image) {
  for (auto& c : document.at("containerDefinitions")) {
    if (c.at("name").get<std::string>() == name) {
      c["image"] = image;
      return true;
    }
  }
  return false;
}

Result<TaskDefinition> parse_task_definition(json document, std::string_view source) {
  auto invalid = [&](std::string what) {
    return fail("TASKDEF_INVALID", fmt::format("task definition {} is not a task definition: {}",
                                               util::quote(source), what));
  };
  if (!document.is_object()) {
    return invalid(fmt::format("expected a JSON object, got {}", type_name(document)));
  }
  TaskDefinition out;
  if (document.contains("taskDefinition")) {
    json inner = document["taskDefinition"];
    if (!inner.is_object()) {
      return invalid(fmt::format("\"taskDefinition\" is {}, expected an object", type_name(inner)));
    }
    // describe-task-definition --include TAGS puts the tags beside the task definition.
    if (document.contains("tags") && !inner.contains("tags")) inner["tags"] = document["tags"];
    document = std::move(inner);
    out.was_wrapped = true;
    // RegisterTaskDefinition has no such field: a second wrapper would be written out as it is,
    // and the pinned file would not read back as the task definition that was pinned.
    if (document.contains("taskDefinition")) {
      return invalid("\"taskDefinition\" holds another \"taskDefinition\"");
    }
  }
  if (!document.contains("containerDefinitions")) return invalid("containerDefinitions is missing");
  const auto& list = document["containerDefinitions"];
  if (!list.is_array()) {
    return invalid(fmt::format("containerDefinitions is {}, expected an array", type_name(list)));
  }
  if (list.empty()) return invalid("containerDefinitions is empty");
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& c = list[i];
    const auto at = fmt::format("containerDefinitions[{}]", i);
    if (!c.is_object()) {
      return invalid(fmt::format("{} is {}, expected an object", at, type_name(c)));
    }
    if (!c.contains("name") || !c["name"].is_string() || c["name"].get<std::string>().empty()) {
      return invalid(fmt::format("{} has no name", at));
    }
    const auto name = c["name"].get<std::string>();
    if (!names.insert(name).second) {
      return invalid(fmt::format("{} repeats the container name {}", at, util::quote(name)));
    }
    if (c.contains("image") && !c["image"].is_string()) {
      return invalid(fmt::format("{}.image is {}, expected a string", at, type_name(c["image"])));
    }
  }
  out.document = std::move(document);
  return out;
}

std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line, column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Result<TaskDefinition> parse_task_definition_text(std::string_view text, std::string_view source) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& ex) {
    // Position only: the parser's own message quotes the text around the error, and task
    // definitions hold environment values that may be secrets.
    const auto [line, column] = line_and_column(text, ex.byte);
    return fail("TASKDEF_INVALID_JSON",
                fmt::format("task definition {} is not valid JSON at line {}, column {}",
                            util::quote(source), line, column));
  } catch (const json::out_of_range&) {
    // A number past what a double holds (1e400); the message would quote it.
    return fail("TASKDEF_INVALID_JSON",
                fmt::format("task definition {} is not valid JSON: a number is out of range",
                            util::quote(source)));
  }
  return parse_task_definition(std::move(document), source);
}

Result<TaskDefinition> load_task_definition(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::string text;
  if (source == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return fail("TASKDEF_UNREADABLE",
                  fmt::format("task definition {} is a directory", util::quote(source)));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return fail("TASKDEF_UNREADABLE",
                  fmt::format("task definition {} cannot be read", util::quote(source)));
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  if (text.size() > kMaxTaskDefinitionBytes) {
    return fail("TASKDEF_TOO_LARGE", fmt::format("task definition {} is larger than {} bytes",
                                                 util::quote(source), kMaxTaskDefinitionBytes));
  }
  return parse_task_definition_text(text, source);
}

json registration_input(const TaskDefinition& task_definition) {
  json out = task_definition.document;
  for (const auto field : kReadOnlyFields) out.erase(std::string(field));
  return out;
}

std::string dump_document(const json& document) {
  // nlohmann's object type is a std::map: keys come out sorted, so the output is stable.
  return document.dump(2, ' ', false, json::error_handler_t::strict) + "\n";
}

}  // namespace imagegate::deploy
