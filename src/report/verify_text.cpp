#include "report/verify_text.hpp"

#include <fmt/format.h>

#include "util/text.hpp"

namespace imagegate::report {
namespace {

using deploy::ContainerVerdict;
using nlohmann::json;

std::string_view mark_name(ContainerVerdict::Mark mark) {
  switch (mark) {
    case ContainerVerdict::Mark::kOk:
      return "ok";
    case ContainerVerdict::Mark::kWarning:
      return "warning";
    case ContainerVerdict::Mark::kUnmanaged:
      return "unmanaged";
    case ContainerVerdict::Mark::kFailed:
      return "failed";
  }
  return "failed";
}

std::string_view rollout_name(deploy::Rollout::State state) {
  switch (state) {
    case deploy::Rollout::State::kCompleted:
      return "COMPLETED";
    case deploy::Rollout::State::kInProgress:
      return "IN_PROGRESS";
    case deploy::Rollout::State::kFailed:
      return "FAILED";
    case deploy::Rollout::State::kInactive:
      return "INACTIVE";
    case deploy::Rollout::State::kInvalid:
      return "INVALID";
  }
  return "INVALID";
}

}  // namespace

std::string render_verify_containers(const std::vector<ContainerVerdict>& containers,
                                     const Style& style) {
  std::string out;
  for (const auto& c : containers) {
    std::string mark;
    switch (c.mark) {
      case ContainerVerdict::Mark::kOk:
        mark = style.green("✓");
        break;
      case ContainerVerdict::Mark::kWarning:
        mark = style.yellow("!");
        break;
      case ContainerVerdict::Mark::kUnmanaged:
        mark = style.dim("-");
        break;
      case ContainerVerdict::Mark::kFailed:
        mark = style.red("✗");
        break;
    }
    out += fmt::format(
        "  {} {} {}{}\n", mark, util::escape_display(c.container), util::escape_display(c.image),
        c.mark == ContainerVerdict::Mark::kUnmanaged ? " (unmanaged, kept as is)" : "");
  }
  return out;
}

json verify_containers_json(const std::vector<ContainerVerdict>& containers) {
  json out = json::array();
  for (const auto& c : containers) {
    out.push_back({{"container", c.container},
                   {"image", c.image},
                   {"imageId", c.image_id},
                   {"status", mark_name(c.mark)}});
  }
  return out;
}

std::string render_verify_service(const std::string& cluster, const deploy::ServiceReport& r,
                                  const Style& style) {
  std::string out = "service " + util::quote(cluster + "/" + r.name) + ": ";
  if (!r.found) return out + "not checked\n";
  out += fmt::format("rollout {}, task definition {}\n", rollout_name(r.rollout.state),
                     util::escape_display(r.rollout.primary_task_definition));
  if (r.deployment.judged) {
    out += fmt::format("  deployment {} {}, revision {}\n", util::escape_display(r.deployment.arn),
                       util::escape_display(r.deployment.status),
                       util::escape_display(r.deployment.target_revision));
  }
  out += render_verify_containers(r.containers, style);
  out += fmt::format("  {} running task{} checked\n", r.tasks_checked,
                     r.tasks_checked == 1 ? "" : "s");
  return out;
}

json verify_service_json(const std::string& cluster, const deploy::ServiceReport& r) {
  json out = {{"cluster", cluster},
              {"service", r.name},
              {"found", r.found},
              {"rollout", r.found ? json(rollout_name(r.rollout.state)) : json(nullptr)},
              {"taskDefinition", r.rollout.primary_task_definition},
              {"containers", verify_containers_json(r.containers)},
              {"tasksChecked", r.tasks_checked}};
  if (r.deployment.judged) {
    out["deployment"] = {{"arn", r.deployment.arn},
                         {"status", r.deployment.status},
                         {"targetRevision", r.deployment.target_revision},
                         {"taskDefinition", r.deployment.task_definition}};
  } else {
    out["deployment"] = nullptr;
  }
  return out;
}

}  // namespace imagegate::report
