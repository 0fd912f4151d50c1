#include "commands/verify.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "aws/credentials.hpp"
#include "aws/session.hpp"
#include "commands/gate.hpp"
#include "deploy/ecs.hpp"
#include "deploy/service_check.hpp"
#include "deploy/task_definition.hpp"
#include "evidence/evidence.hpp"
#include "gate/gate.hpp"
#include "http/http.hpp"
#include "manifest/tagging.hpp"
#include "registry/factory.hpp"
#include "report/verify_text.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace imagegate::commands {
namespace {

using deploy::ContainerVerdict;
using nlohmann::json;

template <typename T>
T input_or_throw(Result<T> result) {
  if (!result) {
    throw UsageError(fmt::format("{}: {}", result.error().code, result.error().message));
  }
  return std::move(*result);
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Resolving a digest may mean a registry round trip: once per image is enough.
deploy::DigestResolver caching(const deploy::DigestResolver& resolver) {
  if (!resolver) return {};
  auto cache = std::make_shared<std::map<std::string, Result<std::string>>>();
  return [resolver, cache](const deploy::ExpectedImage& image) {
    auto it = cache->find(image.id);
    if (it == cache->end()) it = cache->emplace(image.id, resolver(image)).first;
    return it->second;
  };
}

// Resolves every image's expected digest from the registry in one batch, on first use.
class RegistryResolver {
 public:
  RegistryResolver(const manifest::Manifest& manifest, const VerifyOptions& options,
                   manifest::DeployTarget target, std::vector<std::string> tags)
      : manifest_(manifest),
        options_(options),
        target_(std::move(target)),
        tags_(std::move(tags)) {}

  Result<std::string> operator()(const deploy::ExpectedImage& image) {
    if (!evidence_) resolve_all();
    for (const auto& e : evidence_->images) {
      if (e.id != image.id) continue;
      if (e.status == "pass") return e.digest;
      if (e.findings.empty()) return fail("IMAGE_NOT_VERIFIED", "the registry did not verify it");
      const auto& f = e.findings.front();
      return fail(f.code, fmt::format("registry {}: {}", evidence_->registry, f.message));
    }
    return fail("IMAGE_NOT_VERIFIED", "image is not in the manifest");
  }

 private:
  void resolve_all() {
    RegistryCliOptions cli;
    cli.registry = options_.registry;
    cli.ca_file = options_.ca_file;
    cli.region = options_.region;
    cli.endpoint_url = options_.endpoint_url;
    cli.registry_profile = options_.registry_profile;
    auto opened =
        registry::open_registry(registry_settings(cli, manifest_, options_.common.verbose));
    gate::GateInput input;
    input.manifest = &manifest_;
    input.env = target_.env;
    input.sha = target_.sha;
    input.registry = opened.get().describe();
    input.tags = tags_;
    input.results = registry::resolve_deep(opened.get(), gate::build_queries(manifest_, tags_));
    evidence_ = gate::evaluate(input);
  }

  const manifest::Manifest& manifest_;
  const VerifyOptions& options_;
  manifest::DeployTarget target_;
  std::vector<std::string> tags_;
  std::optional<evidence::Evidence> evidence_;
};

}  // namespace

CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options) {
  auto* cmd = app.add_subcommand(
      "verify", "Check that a task definition or ECS service runs exactly this deploy's images");
  cmd->footer(
      "Examples:\n  imagegate verify --env production --sha $SHA --evidence evidence.json "
      "--task-def pinned.json\n"
      "  imagegate verify --env production --sha $SHA --evidence evidence.json --cluster afu9 "
      "--service control-center --wait 10m\n"
      "A container image matches when it is the image's repository (the evidence's "
      "repositoryUri; without evidence, any registry whose repository path ends with the "
      "manifest name) with one of this deploy's tags or the verified digest.");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  add_env_sha_options(*cmd, options.env, options.sha);
  add_feature_version_options(*cmd, options.features, &options.version);
  cmd->add_option("--registry", options.registry,
                  "Without --evidence: resolve the expected digests from this registry (same "
                  "URLs as gate; default: the manifest's registry, else ecr)")
      ->envname("IMAGEGATE_REGISTRY");
  cmd->add_option("--ca-file", options.ca_file, "Extra CA certificates (PEM) for the registry");
  cmd->add_option("--registry-profile", options.registry_profile,
                  "Without --evidence: AWS profile for the ECR registry (default: AWS_PROFILE, "
                  "which ECS always uses)")
      ->envname("IMAGEGATE_REGISTRY_PROFILE");
  cmd->add_option("--cluster", options.clusters,
                  "ECS cluster (env ECS_CLUSTER); repeated, the Nth --cluster is the Nth "
                  "--service's");
  cmd->add_option("--service", options.services,
                  "ECS service (repeatable; env ECS_SERVICE, comma separated)");
  cmd->add_option("--task-def", options.task_def,
                  "Check this task definition file instead of ECS ('-' for stdin)");
  cmd->add_option("--evidence", options.evidence, "Evidence written by `imagegate gate`");
  cmd->add_option("--wait", options.wait,
                  "Wait up to DURATION for rollouts in progress (e.g. 10m)");
  cmd->add_option("--region", options.region, "AWS region (env AWS_REGION)");
  cmd->add_option("--endpoint-url", options.endpoint_url, "ECS endpoint URL (tests, proxies)");
  cmd->add_option("--allow-unmanaged", options.allow_unmanaged,
                  "A container no manifest image maps to, accepted as is (repeatable)");
  cmd->add_flag("--keep-absent-optional", options.keep_absent_optional,
                "Accept the current image of optional images absent from the evidence");
  return cmd;
}

int run_verify(const VerifyOptions& options, const deploy::DigestResolver& resolver) {
  auto loaded = load_manifest(options.common);
  const auto target =
      manifest::resolve_target(loaded.manifest.tagging, options.env, options.sha, options.version);
  const auto tags = manifest::expected_tags(loaded.manifest.tagging, target);

  // ECS_CLUSTER/ECS_SERVICE are often exported for a whole pipeline: they apply only when no
  // --task-def asks for an offline check.
  std::vector<std::string> clusters = options.clusters;
  std::vector<std::string> services;
  for (const auto& s : options.services) {
    for (auto& item : split_commas(s)) services.push_back(std::move(item));
  }
  const bool offline = !options.task_def.empty();
  if (offline && (!clusters.empty() || !services.empty())) {
    throw UsageError("--task-def checks a file; it cannot be combined with --cluster/--service");
  }
  if (offline && !options.wait.empty()) {
    throw UsageError("--wait applies to ECS services, not to --task-def");
  }
  // (cluster, its services) in the order given: one --cluster for every service, or one each.
  std::vector<std::pair<std::string, std::vector<std::string>>> targets;
  if (!offline) {
    if (clusters.empty() && !env_or_empty("ECS_CLUSTER").empty()) {
      clusters.push_back(env_or_empty("ECS_CLUSTER"));
    }
    if (services.empty()) services = split_commas(env_or_empty("ECS_SERVICE"));
    if (clusters.empty() || services.empty()) {
      throw UsageError(
          "give --task-def FILE, or --cluster (or ECS_CLUSTER) and --service (or ECS_SERVICE)");
    }
    if (clusters.size() == 1) {
      targets.emplace_back(clusters.front(), services);
    } else if (clusters.size() == services.size()) {
      for (std::size_t i = 0; i < services.size(); ++i) {
        if (targets.empty() || targets.back().first != clusters[i]) {
          targets.emplace_back(clusters[i], std::vector<std::string>{});
        }
        targets.back().second.push_back(services[i]);
      }
    } else {
      throw UsageError(fmt::format(
          "{} --cluster for {} --service: give one cluster for all services, or one per service",
          clusters.size(), services.size()));
    }
  }
  deploy::WaitPolicy wait;
  if (!options.wait.empty()) wait.deadline = util::parse_duration(options.wait, "--wait");

  std::optional<evidence::Evidence> evidence;
  if (!options.evidence.empty()) evidence = input_or_throw(evidence::load(options.evidence));
  auto features = enabled_features(options.features);
  if (features.empty() && evidence) features = evidence->features;
  manifest::select_images(loaded.manifest, target.env, features);
  auto expectations =
      deploy::build_expectations(loaded.manifest, tags, evidence ? &*evidence : nullptr,
                                 {options.allow_unmanaged.begin(), options.allow_unmanaged.end()});
  expectations.keep_absent_optional = options.keep_absent_optional;
  deploy::check_allowed_unmanaged(expectations);
  std::optional<deploy::TaskDefinition> task_definition;
  if (offline) task_definition = input_or_throw(deploy::load_task_definition(options.task_def));

  findings::Findings findings = loaded.findings;
  if (evidence) {
    deploy::check_evidence(*evidence, loaded.manifest, target.env, target.sha, findings);
  }
  // Without evidence, the digests this deploy's tags name are resolved through the gate's own
  // registry code and rules (every tag on one digest), once for all images.
  deploy::DigestResolver effective = resolver;
  std::optional<RegistryResolver> registry_resolver;
  if (!effective && !evidence) {
    registry_resolver.emplace(loaded.manifest, options, target, tags);
    effective = [&](const deploy::ExpectedImage& image) { return (*registry_resolver)(image); };
  }
  const auto resolve = caching(effective);
  std::vector<ContainerVerdict> file_containers;
  std::vector<std::pair<std::string, deploy::ServiceReport>> reports;  // cluster, report
  if (offline) {
    file_containers =
        deploy::check_task_definition(*task_definition, expectations, resolve, findings);
  } else {
    aws::SessionOptions session_options;
    if (!options.region.empty()) session_options.region = options.region;
    if (!options.endpoint_url.empty()) session_options.endpoint_url = options.endpoint_url;
    if (options.common.verbose > 0) session_options.on_credentials = aws_credentials_logger("ECS");
    http::ClientOptions client_options;
    if (options.common.verbose > 0) {
      // The HTTP layer hands over the URL without credentials, never headers or bodies.
      client_options.on_attempt = [](const std::string& method, const std::string& url, long status,
                                     double seconds, int attempt) {
        std::cerr << fmt::format("{} {} -> {} ({:.3f}s, attempt {})\n", method,
                                 util::escape_display(url), status, seconds, attempt);
      };
    }
    auto http = http::make_curl_client(client_options);
    auto metadata_http = http::make_curl_client(aws::metadata_client_options());
    session_options.http = http.get();
    session_options.metadata_http = metadata_http.get();
    aws::Session session(session_options, aws::Environment::system());
    deploy::JsonEcsApi api(session.client());
    for (const auto& [cluster, names] : targets) {
      for (auto& r :
           deploy::verify_services(api, cluster, names, expectations, resolve, wait, findings)) {
        reports.emplace_back(cluster, std::move(r));
      }
    }
  }

  const bool ok = !findings.has_errors();
  const auto summary = ok ? fmt::format("verified: {} runs exactly this deploy's images",
                                        offline ? "the task definition" : "every service")
                          : fmt::format("verify failed ({})", report::summary_counts(findings));
  if (options.common.output == "json") {
    json doc = {{"verdict", ok ? "pass" : "fail"},
                {"env", target.env},
                {"sha", target.sha},
                {"evidence", options.evidence.empty() ? json(nullptr) : json(options.evidence)},
                {"summary", summary},
                {"findings", report::findings_json(findings)}};
    if (offline) {
      doc["taskDefinition"] = {{"source", options.task_def},
                               {"containers", report::verify_containers_json(file_containers)}};
    } else {
      json list = json::array();
      for (const auto& [cluster, r] : reports) {
        list.push_back(report::verify_service_json(cluster, r));
      }
      doc["services"] = list;
    }
    std::cout << doc.dump(2) << "\n";
    emit_reports(options.common, {"verify", findings, std::nullopt, ok ? "pass" : "fail", doc},
                 true);
    return ok ? kExitOk : kExitFailed;
  }
  const auto style = stdout_style(options.common);
  if (offline) {
    std::cout << "task definition " << util::quote(options.task_def) << ":\n"
              << report::render_verify_containers(file_containers, style);
  }
  for (const auto& [cluster, r] : reports) {
    std::cout << report::render_verify_service(cluster, r, style);
  }
  std::cout << report::render_findings(findings, style);
  std::cout << (ok ? style.green(summary) : style.red(summary)) << "\n";
  emit_reports(options.common,
               {"verify", findings, std::nullopt, ok ? "pass" : "fail", std::nullopt}, false);
  return ok ? kExitOk : kExitFailed;
}

}  // namespace imagegate::commands
