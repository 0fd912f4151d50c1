#include "deploy/task_definition.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace imagegate::deploy {
namespace {

using nlohmann::json;

std::string error_of(std::string_view text) {
  auto td = parse_task_definition_text(text, "td.json");
  if (td) return "(parsed)";
  return td.error().code + ": " + td.error().message;
}

TEST(TaskDefinition, ReadsRegisterInputAndListsContainers) {
  auto td = parse_task_definition_text(
      R"({"family":"f","containerDefinitions":[{"name":"a","image":"x:1"},{"name":"b"}]})", "s");
  ASSERT_TRUE(td) << td.error().message;
  EXPECT_FALSE(td->was_wrapped);
  const auto containers = td->containers();
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].name, "a");
  EXPECT_EQ(containers[0].image, "x:1");
  EXPECT_EQ(containers[1].index, 1u);
  EXPECT_EQ(containers[1].image, "");
  EXPECT_TRUE(td->set_image("b", "y@sha256:" + std::string(64, 'a')));
  EXPECT_FALSE(td->set_image("c", "z"));
  EXPECT_EQ(td->containers()[1].image, "y@sha256:" + std::string(64, 'a'));
}

TEST(TaskDefinition, UnwrapsDescribeOutputAndDropsReadOnlyFields) {
  const json described = {
      {"taskDefinition",
       {{"taskDefinitionArn", "arn:aws:ecs:eu-central-1:123456789012:task-definition/f:3"},
        {"family", "f"},
        {"revision", 3},
        {"status", "ACTIVE"},
        {"requiresAttributes", json::array({{{"name", "com.amazonaws.ecs.capability.x"}}})},
        {"compatibilities", {"EC2", "FARGATE"}},
        {"registeredAt", "2026-11-27T10:00:00Z"},
        {"registeredBy", "arn:aws:iam::123456789012:user/ci"},
        {"deregisteredAt", "2026-11-27T11:00:00Z"},
        {"deleteRequestedAt", "2026-11-27T12:00:00Z"},
        {"requiresCompatibilities", {"FARGATE"}},
        {"cpu", "256"},
        {"containerDefinitions", json::array({{{"name", "a"}, {"image", "x:1"}}})}}},
      {"tags", json::array({{{"key", "team"}, {"value", "afu9"}}})}};
  auto td = parse_task_definition(described, "described.json");
  ASSERT_TRUE(td) << td.error().message;
  EXPECT_TRUE(td->was_wrapped);
  const auto input = registration_input(*td);
  EXPECT_EQ(input,
            (json{{"family", "f"},
                  {"requiresCompatibilities", {"FARGATE"}},
                  {"cpu", "256"},
                  {"tags", json::array({{{"key", "team"}, {"value", "afu9"}}})},
                  {"containerDefinitions", json::array({{{"name", "a"}, {"image", "x:1"}}})}}));
}

TEST(TaskDefinition, DumpIsSortedIndentedWithTrailingNewline) {
  const json doc = {{"zeta", 1}, {"alpha", {{"b", 2}, {"a", "é"}}}};
  EXPECT_EQ(dump_document(doc),
            "{\n  \"alpha\": {\n    \"a\": \"é\",\n    \"b\": 2\n  },\n  \"zeta\": 1\n}\n");
}

TEST(TaskDefinition, NotATaskDefinitionSaysWhy) {
  EXPECT_EQ(error_of("[]"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: expected a "
            "JSON object, got array");
  EXPECT_EQ(error_of(R"({"family":"f"})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions is missing");
  EXPECT_EQ(error_of(R"({"containerDefinitions":{}})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions is object, expected an array");
  EXPECT_EQ(error_of(R"({"containerDefinitions":[]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions is empty");
  EXPECT_EQ(error_of(R"({"containerDefinitions":["a"]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions[0] is string, expected an object");
  EXPECT_EQ(error_of(R"({"containerDefinitions":[{"name":"a"},{"image":"x"}]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions[1] has no name");
  EXPECT_EQ(error_of(R"({"containerDefinitions":[{"name":""}]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions[0] has no name");
  EXPECT_EQ(error_of(R"({"containerDefinitions":[{"name":"a"},{"name":"a"}]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions[1] repeats the container name 'a'");
  EXPECT_EQ(error_of(R"({"containerDefinitions":[{"name":"a","image":5}]})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions[0].image is number, expected a string");
  EXPECT_EQ(error_of(R"({"taskDefinition":"x"})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "\"taskDefinition\" is string, expected an object");
  // Found by fuzz.task_definition: the nested wrapper was written out and did not read back.
  EXPECT_EQ(error_of(R"({"taskDefinition":{"containerDefinitions":[{"name":"a"}],)"
                     R"("taskDefinition":5}})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "\"taskDefinition\" holds another \"taskDefinition\"");
  EXPECT_EQ(error_of(R"({"taskDefinition":{"family":"f"}})"),
            "TASKDEF_INVALID: task definition 'td.json' is not a task definition: "
            "containerDefinitions is missing");
}

TEST(TaskDefinition, InvalidJsonHasLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"family\": \"f\",\n  oops\n}"),
            "TASKDEF_INVALID_JSON: task definition 'td.json' is not valid JSON at line 3, "
            "column 3");
  EXPECT_EQ(error_of(""),
            "TASKDEF_INVALID_JSON: task definition 'td.json' is not valid JSON at line 1, "
            "column 1");
  EXPECT_EQ(error_of("{\"a\": 1,}"),
            "TASKDEF_INVALID_JSON: task definition 'td.json' is not valid JSON at line 1, "
            "column 9");
}

TEST(TaskDefinition, LoadReportsUnreadableFiles) {
  auto missing = load_task_definition("/nonexistent/td.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "TASKDEF_UNREADABLE");
  EXPECT_EQ(missing.error().message, "task definition '/nonexistent/td.json' cannot be read");
  auto dir = load_task_definition(std::filesystem::temp_directory_path());
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, "TASKDEF_UNREADABLE");

  // Per process: other builds of the suite may run at the same time on this machine.
  const auto path = std::filesystem::temp_directory_path() /
                    ("imagegate_td_too_large_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << std::string(kMaxTaskDefinitionBytes + 1, ' ');
  }
  auto large = load_task_definition(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().code, "TASKDEF_TOO_LARGE");
}

TEST(TaskDefinition, ExampleFileIsATaskDefinition) {
  auto td = load_task_definition(std::string(IMAGEGATE_SOURCE_DIR) +
                                 "/examples/afu9/task-definition.json");
  ASSERT_TRUE(td) << td.error().message;
  std::vector<std::string> names;
  for (const auto& c : td->containers()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"control-center", "mcp-github", "mcp-deploy",
                                             "mcp-observability", "log-router"}));
}

}  // namespace
}  // namespace imagegate::deploy
