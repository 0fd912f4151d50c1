#include "deploy/service_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>

#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

void record_aws_error(const std::string& subject, const std::string& operation,
                      const aws::AwsError& error, findings::Findings& findings) {
  findings.error(finding_code(error), "", subject,
                 fmt::format("{} failed: {}", operation, util::escape_display(error.message)));
}

// An answer that is not a JSON object was not understood; it is never read as "nothing found".
bool is_object_answer(const json& answer, const std::string& subject, const char* operation,
                      findings::Findings& findings) {
  if (answer.is_object()) return true;
  findings.error("BAD_RESPONSE", "", subject,
                 fmt::format("{} answer not understood: not a JSON object", operation));
  return false;
}

// DescribeServices for every name still in `pending`, in chunks of ten. Found services land in
// `found`; missing ones are findings and leave `pending`.
void describe(EcsApi& api, const std::string& cluster, std::vector<std::string>& pending,
              std::map<std::string, json>& found, findings::Findings& findings) {
  for (std::size_t start = 0; start < pending.size(); start += kMaxServicesPerDescribe) {
    const std::vector<std::string> chunk(
        pending.begin() + static_cast<std::ptrdiff_t>(start),
        pending.begin() +
            static_cast<std::ptrdiff_t>(std::min(pending.size(), start + kMaxServicesPerDescribe)));
    auto answer = api.describe_services(cluster, chunk);
    if (!answer) {
      for (const auto& name : chunk)
        record_aws_error(name, "DescribeServices", answer.error(), findings);
      continue;
    }
    if (!answer->is_object()) {
      for (const auto& name : chunk) is_object_answer(*answer, name, "DescribeServices", findings);
      continue;
    }
    const auto& services = answer->value("services", json::array());
    const auto& failures = answer->value("failures", json::array());
    for (const auto& name : chunk) {
      // A service may be named by name or by ARN (".../service/<cluster>/<name>").
      auto matches = [&](const json& s, const char* key) {
        const auto value = s.is_object() ? s.value(key, std::string()) : std::string();
        return !value.empty() && (value == name || value.ends_with("/" + name));
      };
      auto service = std::find_if(services.begin(), services.end(), [&](const json& s) {
        return matches(s, "serviceName") || matches(s, "serviceArn");
      });
      if (service != services.end()) {
        found[name] = *service;
        continue;
      }
      auto failure = std::find_if(failures.begin(), failures.end(),
                                  [&](const json& f) { return matches(f, "arn"); });
      const auto reason = failure != failures.end() && failure->is_object()
                              ? failure->value("reason", std::string())
                              : std::string();
      if (reason == "MISSING") {
        findings.error("SERVICE_MISSING", "", name,
                       fmt::format("service {} does not exist in cluster {}", util::quote(name),
                                   util::quote(cluster)));
      } else if (!reason.empty()) {
        findings.error("AWS_ERROR", "", name,
                       fmt::format("DescribeServices could not describe {}: {}", util::quote(name),
                                   util::quote(reason)));
      } else {
        findings.error("BAD_RESPONSE", "", name,
                       fmt::format("DescribeServices answered neither the service {} nor a failure "
                                   "for it",
                                   util::quote(name)));
      }
    }
  }
  pending.clear();
}

// Every task ARN of the service's RUNNING tasks (ListTasks, every page).
std::optional<std::vector<std::string>> list_all_tasks(EcsApi& api, const std::string& cluster,
                                                       const std::string& service,
                                                       findings::Findings& findings) {
  std::vector<std::string> arns;
  std::string token;
  for (int page = 0; page < 10000; ++page) {
    auto answer = api.list_tasks(cluster, service, token);
    if (!answer) {
      record_aws_error(service, "ListTasks", answer.error(), findings);
      return std::nullopt;
    }
    if (!is_object_answer(*answer, service, "ListTasks", findings)) return std::nullopt;
    const auto& list = answer->value("taskArns", json::array());
    for (const auto& arn : list) {
      if (arn.is_string()) arns.push_back(arn.get<std::string>());
    }
    token = answer->contains("nextToken") && (*answer)["nextToken"].is_string()
                ? (*answer)["nextToken"].get<std::string>()
                : "";
    if (token.empty()) return arns;
  }
  findings.error("BAD_RESPONSE", "", service, "ListTasks kept answering nextToken");
  return std::nullopt;
}

std::optional<json> describe_all_tasks(EcsApi& api, const std::string& cluster,
                                       const std::string& service,
                                       const std::vector<std::string>& arns,
                                       findings::Findings& findings) {
  json tasks = json::array();
  for (std::size_t start = 0; start < arns.size(); start += kMaxTasksPerDescribe) {
    const std::vector<std::string> chunk(
        arns.begin() + static_cast<std::ptrdiff_t>(start),
        arns.begin() +
            static_cast<std::ptrdiff_t>(std::min(arns.size(), start + kMaxTasksPerDescribe)));
    auto answer = api.describe_tasks(cluster, chunk);
    if (!answer) {
      record_aws_error(service, "DescribeTasks", answer.error(), findings);
      return std::nullopt;
    }
    if (!is_object_answer(*answer, service, "DescribeTasks", findings)) return std::nullopt;
    for (const auto& t : answer->value("tasks", json::array())) tasks.push_back(t);
    for (const auto& f : answer->value("failures", json::array())) {
      // A task that stopped between ListTasks and DescribeTasks no longer runs anything.
      findings.warning("TASK_GONE", "", f.is_object() ? f.value("arn", service) : service,
                       fmt::format("DescribeTasks: {}",
                                   util::quote(f.is_object() ? f.value("reason", "") : "")));
    }
  }
  return tasks;
}

void check_primary_task_definition(EcsApi& api, ServiceReport& report,
                                   const Expectations& expectations, const DigestResolver& resolver,
                                   findings::Findings& findings) {
  auto answer = api.describe_task_definition(report.rollout.primary_task_definition);
  if (!answer) {
    record_aws_error(report.name, "DescribeTaskDefinition", answer.error(), findings);
    return;
  }
  auto task_definition =
      parse_task_definition(std::move(*answer), report.rollout.primary_task_definition);
  if (!task_definition) {
    findings.error(
        "BAD_RESPONSE", "", report.name,
        "DescribeTaskDefinition answer not understood: " + task_definition.error().message);
    return;
  }
  report.containers =
      check_task_definition(*task_definition, expectations, resolver, findings, false);
  report.task_definition_checked = true;
}

// Several services in one run: every finding says which service it is about.
void name_service(const findings::Findings& own, const std::string& cluster,
                  const std::string& service, findings::Findings& findings) {
  for (auto f : own.items()) {
    if (f.subject != service) {
      f.message += fmt::format(" (service {})", util::quote(cluster + "/" + service));
    }
    findings.add(std::move(f));
  }
}

}  // namespace

milliseconds next_delay(const WaitPolicy& policy, milliseconds previous, milliseconds left) {
  milliseconds delay = previous.count() == 0
                           ? policy.first_delay
                           : milliseconds(static_cast<long long>(
                                 static_cast<double>(previous.count()) * policy.factor));
  delay = std::min(delay, policy.max_delay);
  return std::max(milliseconds(0), std::min(delay, left));
}

std::vector<ServiceReport> verify_services(EcsApi& api, const std::string& cluster,
                                           const std::vector<std::string>& services,
                                           const Expectations& expectations,
                                           const DigestResolver& resolver, const WaitPolicy& wait,
                                           findings::Findings& findings) {
  std::function<std::chrono::steady_clock::time_point()> now = wait.now;
  if (!now) now = [] { return std::chrono::steady_clock::now(); };
  std::function<void(milliseconds)> sleep = wait.sleep;
  if (!sleep) sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  const auto deadline = now() + wait.deadline;

  std::map<std::string, json> found;
  std::vector<std::string> pending = services;
  describe(api, cluster, pending, found, findings);

  std::map<std::string, Rollout> rollouts;
  for (const auto& [name, service] : found) rollouts[name] = assess_rollout(service);
  milliseconds delay{0};
  while (wait.deadline.count() > 0) {
    for (const auto& [name, rollout] : rollouts) {
      if (rollout.state == Rollout::State::kInProgress) pending.push_back(name);
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now());
    if (pending.empty() || left.count() <= 0) break;
    delay = next_delay(wait, delay, left);
    sleep(delay);
    findings::Findings poll;
    describe(api, cluster, pending, found, poll);
    // A failed poll is not the end of waiting for the others, but it is never forgotten.
    if (poll.has_errors()) {
      findings.append(poll);
      for (const auto& f : poll.items()) rollouts.erase(f.subject), found.erase(f.subject);
    }
    for (auto& [name, rollout] : rollouts) rollout = assess_rollout(found[name]);
  }
  pending.clear();

  // With --wait, one more look after a pause, until the deadline.
  milliseconds poll_delay{0};
  std::function<bool()> wait_more;
  if (wait.deadline.count() > 0) {
    wait_more = [&]() {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - now());
      if (left.count() <= 0) return false;
      poll_delay = next_delay(wait, poll_delay, left);
      sleep(poll_delay);
      return true;
    };
  }

  std::vector<ServiceReport> reports;
  const auto digests = expected_digests(expectations, resolver);
  for (const auto& name : services) {
    ServiceReport report{name, false, {}, {}, false, 0, {}};
    const auto rollout = rollouts.find(name);
    if (rollout == rollouts.end()) {
      reports.push_back(std::move(report));
      continue;
    }
    findings::Findings own;
    report.found = true;
    report.rollout = rollout->second;
    record_rollout(name, report.rollout, wait.deadline.count() > 0, own);
    if (!report.rollout.primary_task_definition.empty() &&
        report.rollout.state != Rollout::State::kInvalid &&
        report.rollout.state != Rollout::State::kInactive) {
      check_primary_task_definition(api, report, expectations, resolver, own);
    }
    // The deployment record first: while it runs, tasks are still being replaced. A rollout
    // still in progress is a finding already; a settled or failed one may have been rolled back.
    if (report.rollout.state == Rollout::State::kCompleted ||
        report.rollout.state == Rollout::State::kFailed) {
      poll_delay = milliseconds(0);
      report.deployment =
          check_deployments(api, cluster, name, expectations, digests, wait_more, own);
    }
    // Tasks are judged only once the rollout has settled: mid-rollout, old tasks are expected.
    if (report.rollout.state == Rollout::State::kCompleted) {
      poll_delay = milliseconds(0);
      while (true) {
        findings::Findings looked;
        auto arns = list_all_tasks(api, cluster, name, looked);
        auto tasks = arns ? describe_all_tasks(api, cluster, name, *arns, looked) : std::nullopt;
        // A task still starting is waited for (--wait), not judged too early.
        const bool starting = tasks && std::any_of(tasks->begin(), tasks->end(), [](const json& t) {
                                return is_pending_task(t);
                              });
        if (starting && !looked.has_errors() && wait_more && wait_more()) continue;
        own.append(looked);
        if (tasks) {
          report.tasks_checked = tasks->size();
          check_tasks(name, *tasks, report.rollout.primary_task_definition, expectations, digests,
                      own);
        }
        break;
      }
    }
    name_service(own, cluster, name, findings);
    reports.push_back(std::move(report));
  }
  // Several services may split the manifest's containers between them: an image is missing when
  // none of them runs it. Judged only when every service's task definition could be read, so an
  // unreadable service does not add a list of missing containers to its own error.
  const bool all_checked = std::all_of(reports.begin(), reports.end(),
                                       [](const auto& r) { return r.task_definition_checked; });
  if (all_checked) {
    std::set<std::string, std::less<>> present;
    for (const auto& r : reports) {
      for (const auto& c : r.containers) present.insert(c.container);
    }
    check_containers_present(expectations, present, findings);
  }
  return reports;
}

}  // namespace imagegate::deploy
