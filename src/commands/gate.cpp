#include "commands/gate.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "commands/progress.hpp"
#include "evidence/evidence.hpp"
#include "evidence/timing.hpp"
#include "gate/gate.hpp"
#include "http/http.hpp"
#include "manifest/tagging.hpp"
#include "provenance/provenance.hpp"
#include "registry/factory.hpp"
#include "report/gate_text.hpp"
#include "report/github_output.hpp"
#include "scan/scan.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

namespace imagegate::commands {
namespace {

// SKIP_IMAGE_GATE=true: every image is "skipped", verdict "skipped", one warning.
evidence::Evidence skipped_evidence(const gate::GateInput& input) {
  gate::GateInput none = input;
  none.results.clear();
  auto e = gate::evaluate(none);  // the common fields; the per-image judgement is replaced
  e.findings.clear();
  for (auto& image : e.images) {
    image.status = "skipped";
    image.repository_uri = image.repository;
    image.findings.clear();
    image.tags.clear();
  }
  e.findings.push_back({findings::Severity::kWarning, "GATE_SKIPPED", "", "SKIP_IMAGE_GATE",
                        "SKIP_IMAGE_GATE=true: the gate was skipped (break-glass); no image was "
                        "checked, and pin refuses this evidence"});
  e.verdict = "skipped";
  return e;
}

}  // namespace

registry::RegistrySettings registry_settings(const RegistryCliOptions& o,
                                             const manifest::Manifest& manifest, int verbose) {
  registry::RegistrySettings s;
  const auto url = !o.registry.empty()
                       ? std::optional<std::string>(o.registry)
                       : registry::default_registry_url(manifest.registry,
                                                        manifest.ecr_repositories.has_value());
  if (!url) {
    throw UsageError(
        "no registry: give --registry (ecr, https://HOST, oci-layout:DIR) or set \"registry\" in "
        "the manifest");
  }
  s.url = *url;
  s.base_dir = manifest.path.parent_path();
  if (o.concurrency) {
    if (*o.concurrency < 1 || *o.concurrency > 256) {
      throw UsageError(
          fmt::format("--concurrency {} is out of range; expected 1 to 256", *o.concurrency));
    }
    // The user's bound holds for HTTP/1.1 connections and HTTP/2 streams alike.
    s.http.concurrency = *o.concurrency;
  } else {
    s.http.concurrency = 0;  // the defaults: 16 on HTTP/1.1, 100 streams on HTTP/2 (stats.hpp)
  }
  s.http.overall_timeout = util::parse_duration(o.timeout, "--timeout");
  s.http.connect_timeout = util::parse_duration(o.connect_timeout, "--connect-timeout");
  s.http.ca_file = o.ca_file;
  if (!o.region.empty()) s.region = o.region;
  if (!o.endpoint_url.empty()) s.endpoint_url = o.endpoint_url;
  if (!o.registry_profile.empty()) s.profile = o.registry_profile;
  if (verbose > 0) {
    s.on_credentials = aws_credentials_logger("registry");
    s.http.on_attempt = [](const std::string& method, const std::string& target, long status,
                           double seconds, int attempt) {
      std::cerr << fmt::format("{} {} -> {} ({:.1f} ms, attempt {})\n", method,
                               util::escape_display(target), status, seconds * 1000, attempt);
    };
  }
  return s;
}

namespace {

// What later steps of a workflow need: the verdict, and per verified image its digest and the
// pinned reference to deploy.
report::Outputs gate_outputs(const evidence::Evidence& e, const std::string& evidence_out) {
  report::Outputs outputs{{"verdict", e.verdict}};
  if (!evidence_out.empty()) outputs.emplace_back("evidence", evidence_out);
  for (const auto& image : e.images) {
    if (image.status != "pass" || image.digest.empty()) continue;
    outputs.emplace_back("digest-" + image.id, image.digest);
    outputs.emplace_back("image-" + image.id, image.pinned_reference());
  }
  return outputs;
}

std::size_t count_tags(const std::vector<registry::TagQuery>& queries) {
  std::size_t n = 0;
  for (const auto& q : queries) n += q.tags.size();
  return n;
}

}  // namespace

void add_registry_options(CLI::App& app, RegistryCliOptions& o) {
  app.add_option("--registry", o.registry,
                 "Registry: ecr | ecr://REGION | ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com | "
                 "https://HOST[:PORT] | http://HOST[:PORT] | oci-layout:DIR "
                 "(default: the manifest's \"registry\", else ecr when it lists ecrRepositories)")
      ->envname("IMAGEGATE_REGISTRY");
  app.add_option("--concurrency", o.concurrency,
                 "Requests in flight at once (default: 16 to an HTTP/1.1 registry, 100 as "
                 "streams of one connection to an HTTP/2 registry)");
  app.add_option("--timeout", o.timeout, "Overall deadline, e.g. 60s, 2m")->capture_default_str();
  app.add_option("--connect-timeout", o.connect_timeout, "Connect timeout per connection")
      ->capture_default_str();
  app.add_option("--ca-file", o.ca_file, "Extra CA certificates (PEM) for a private registry");
  app.add_option("--region", o.region, "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)");
  app.add_option("--endpoint-url", o.endpoint_url, "AWS API endpoint (ECR/ECS), e.g. for tests");
  app.add_option("--registry-profile", o.registry_profile,
                 "AWS profile for the ECR registry (default: AWS_PROFILE), e.g. the tooling "
                 "account's")
      ->envname("IMAGEGATE_REGISTRY_PROFILE");
}

CLI::App* add_gate_command(CLI::App& app, GateOptions& options) {
  auto* cmd = app.add_subcommand(
      "gate", "Prove every required image has every expected tag on one digest; write evidence");
  cmd->footer(
      "Examples:\n  imagegate gate --env production --sha $(git rev-parse HEAD) --registry ecr \\\n"
      "    --evidence-out evidence.json\n"
      "  imagegate gate --env staging --sha \"$GITHUB_SHA\" --registry https://ghcr.io \\\n"
      "    --evidence-out evidence.json --github-output \\\n"
      "    --report markdown=\"$GITHUB_STEP_SUMMARY\" --report junit=gate-junit.xml\n"
      "  imagegate gate --env production --sha \"$GITHUB_SHA\" --registry ecr --max-severity "
      "HIGH\n\n"
      "Exit codes: 0 every required image verified, 1 a check failed or could not be completed,\n"
      "2 usage or input error.\n"
      "Break-glass: SKIP_IMAGE_GATE=true (exactly) checks nothing and exits 0 with verdict\n"
      "\"skipped\"; pin refuses that evidence.");
  add_common_options(*cmd, options.common);
  add_report_options(*cmd, options.common);
  add_env_sha_options(*cmd, options.env, options.sha);
  add_feature_version_options(*cmd, options.features, &options.version);
  add_registry_options(*cmd, options.registry);
  cmd->add_option("--evidence-out", options.evidence_out, "Write the evidence (JSON) to this file");
  cmd->add_option("--key", options.provenance.keys,
                  "PEM public key (ECDSA P-256, RSA, Ed25519) whose cosign signature every "
                  "checked digest must carry (repeatable; adds to the manifest's keys)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--require-attestation", options.provenance.attestations,
                  "Predicate type every checked digest must have an attestation of, e.g. "
                  "https://slsa.dev/provenance/v1 (repeatable)");
  cmd->add_option("--revision", options.provenance.revision,
                  "Revision binding: required | if-present | off (default: the manifest's "
                  "provenance.revision, else if-present)");
  cmd->add_option("--certificate-identity", options.provenance.certificate_identity,
                  "Keyless: the certificate subject (SAN) a Sigstore bundle of every checked "
                  "digest must carry, e.g. "
                  "https://github.com/ORG/REPO/.github/workflows/build.yml@refs/heads/main "
                  "(with --certificate-oidc-issuer and --trusted-root)");
  cmd->add_option("--certificate-identity-regexp", options.provenance.certificate_identity_regexp,
                  "Keyless: a regular expression searched in the certificate subject instead "
                  "(anchor it with ^ and $)");
  cmd->add_option("--certificate-oidc-issuer", options.provenance.certificate_oidc_issuer,
                  "Keyless: the OIDC issuer the certificate must name, e.g. "
                  "https://token.actions.githubusercontent.com");
  cmd->add_option("--trusted-root", options.provenance.trusted_root,
                  "Sigstore trusted_root.json (Fulcio CAs, Rekor keys) the bundles are verified "
                  "against, offline; required with identities");
  cmd->add_option("--max-severity", options.max_severity,
                  "Scan gate (ECR): fail on scan findings at or above INFORMATIONAL | LOW | "
                  "MEDIUM | HIGH | CRITICAL (overrides the manifest's scan.maxSeverity; off "
                  "when neither is given)");
  cmd->add_flag("--github-output", options.github_output,
                "Append verdict, evidence, digest-<id> and image-<id> (REPOSITORY_URI@DIGEST) to "
                "$GITHUB_OUTPUT");
  return cmd;
}

int run_gate(const GateOptions& options) {
  // libcurl's and OpenSSL's set-up now, while the schema compiles on another core (main.cpp).
  http::initialise();
  evidence::PhaseClock clock;
  evidence::Timing timing;
  auto loaded = load_manifest(options.common);
  const auto features = enabled_features(options.features);
  const auto target = select_target(loaded, options.env, options.sha, options.version, features);
  const auto tags = manifest::expected_tags(loaded.manifest.tagging, target);
  // Before the manifest's findings: a misspelt severity is an input error (exit 2), not a
  // check that quietly does not run.
  const auto scan_policy = scan::effective_policy(loaded.manifest.scan, options.max_severity);
  if (loaded.findings.has_errors()) {
    std::cerr << report::render_findings(loaded.findings,
                                         report::detect_style(stderr, options.common.no_color));
    std::cerr << "manifest is invalid (" << report::summary_counts(loaded.findings)
              << "); nothing was checked\n";
    return kExitFailed;
  }
  provenance::check_keys(loaded.manifest, options.provenance);
  auto settings = registry_settings(options.registry, loaded.manifest, options.common.verbose);
  // The parsed document has served its checks and the model holds what the gate reads; at 1000
  // images it is a megabyte that would otherwise stay through the registry phase.
  loaded.manifest.document = nlohmann::json();
  const char* skip = std::getenv("SKIP_IMAGE_GATE");
  const bool skipped = skip != nullptr && std::string_view(skip) == "true";

  clock.lap(timing, "manifest", 0);

  gate::GateInput input;
  input.manifest = &loaded.manifest;
  input.env = target.env;
  input.sha = target.sha;
  input.tags = tags;
  evidence::Evidence evidence;
  if (skipped) {
    // Break-glass: nothing is contacted; the evidence says so and pin refuses it.
    input.registry = settings.url;
    evidence = skipped_evidence(input);
  } else {
    auto opened = registry::open_registry(settings);
    input.registry = opened.get().describe();
    auto queries = gate::build_queries(loaded.manifest, tags);
    provenance::want_manifests(loaded.manifest, options.provenance, target.sha, queries);
    {
      const ProgressLine progress(
          fmt::format(" checking {} tags in {} repositories…", count_tags(queries), queries.size()),
          options.common.verbose == 0 && ProgressLine::stderr_is_terminal());
      input.results = registry::resolve_deep(opened.get(), queries);
    }
    clock.lap(timing, "registry", opened.http_stats().requests);
    evidence = gate::evaluate(input);
    clock.lap(timing, "evidence", opened.http_stats().requests);
    {
      const ProgressLine progress(" checking provenance…", options.common.verbose == 0 &&
                                                               ProgressLine::stderr_is_terminal());
      provenance::check(opened.get(), loaded.manifest, options.provenance, input.results, evidence);
    }
    clock.lap(timing, "provenance", opened.http_stats().requests);
    if (scan_policy.active) {
      const ProgressLine progress(
          " reading scan findings…",
          options.common.verbose == 0 && ProgressLine::stderr_is_terminal());
      scan::check(opened.get(), scan_policy, evidence);
      clock.lap(timing, "registry", opened.http_stats().requests);
    }
    timing.http = opened.http_stats();
    // Every step that reads the registry's answers has run: they go before the reports are
    // made, so the largest gate's peak memory holds one of the two, not both.
    std::vector<registry::RepositoryResult>().swap(input.results);
    if (skip != nullptr && *skip != '\0') {
      evidence.findings.push_back(
          {findings::Severity::kWarning, "SKIP_IMAGE_GATE_IGNORED", "", "SKIP_IMAGE_GATE",
           fmt::format("SKIP_IMAGE_GATE is {}, not \"true\": ignored, the gate ran",
                       util::quote(skip))});
    }
  }
  if (target.version) evidence.version = target.version->text;
  evidence.features = features;
  clock.lap(timing, "evidence", timing.http.requests);

  // The JSON document is a third of a large gate's CPU: only made when someone reads it. The
  // reports read the timing from it.
  const bool want_json = options.common.output == "json";
  std::optional<nlohmann::json> json_document;
  if (want_json || !options.evidence_out.empty() || !options.common.reports.empty()) {
    json_document = evidence::to_json(evidence);
    (*json_document)["timing"] = evidence::timing_to_json(timing);
  }
  if (want_json || !options.evidence_out.empty()) {
    const auto document = json_document->dump(2) + "\n";
    if (!options.evidence_out.empty() &&
        !util::write_file_atomically(options.evidence_out, document)) {
      throw UsageError(
          fmt::format("--evidence-out {} cannot be written", util::quote(options.evidence_out)));
    }
    if (want_json) std::cout << document;
  }
  if (!want_json) std::cout << report::render_gate_text(evidence, stdout_style(options.common));
  // The reports take the evidence and its JSON document over rather than a copy of each (a copy
  // of a 1000-image evidence was the largest single item at the peak of such a gate).
  report::ReportInput reported{
      "gate", {}, std::nullopt, evidence.verdict, std::move(json_document)};
  for (const auto& f : evidence.findings) reported.findings.add(f);
  reported.evidence = std::move(evidence);
  emit_reports(options.common, reported, options.common.output == "json");
  if (options.github_output) {
    report::append_github_outputs(gate_outputs(*reported.evidence, options.evidence_out));
  }
  return reported.verdict == "pass" || reported.verdict == "skipped" ? kExitOk : kExitFailed;
}

}  // namespace imagegate::commands
