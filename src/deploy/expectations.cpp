#include "deploy/expectations.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "deploy/runtime_platform.hpp"
#include "util/text.hpp"

namespace imagegate::deploy {
namespace {

using findings::Finding;
using findings::Severity;

Finding error(std::string code, const ExpectedImage& image, std::string subject,
              std::string message) {
  return {Severity::kError, std::move(code), image.id, std::move(subject), std::move(message)};
}

bool repository_matches(const reference::ImageReference& ref, const ExpectedImage& expected) {
  if (expected.has_evidence) {
    auto uri = reference::parse_reference(expected.repository_uri);
    return uri && reference::same_repository(ref, *uri);
  }
  // Without evidence the registry is unknown here: any registry will do, as long as the
  // repository path is the manifest name, whole components only ("x/afu9/app", not "xafu9/app").
  return ref.repository == expected.name || ref.repository.ends_with("/" + expected.name);
}

}  // namespace

const ExpectedImage* Expectations::for_container(std::string_view container) const {
  for (const auto& image : images) {
    if (image.container == container) return &image;
  }
  return nullptr;
}

Expectations build_expectations(const manifest::Manifest& manifest,
                                const std::vector<std::string>& tags,
                                const evidence::Evidence* evidence,
                                std::set<std::string, std::less<>> allowed_unmanaged) {
  Expectations out;
  out.allowed_unmanaged = std::move(allowed_unmanaged);
  out.has_evidence = evidence != nullptr;
  for (const auto& image : manifest.images) {
    ExpectedImage e{image.id, image.name, image.container, image.required, tags, false, "", "", ""};
    if (evidence != nullptr) {
      e.has_evidence = true;
      if (const auto* found = evidence->find_image(image.id); found != nullptr) {
        e.evidence_status = found->status;
        e.repository_uri = found->repository_uri;
        if (found->status == "pass") e.digest = found->digest;
        e.platforms = found->platforms;
      }
    }
    out.images.push_back(std::move(e));
  }
  return out;
}

void check_evidence(const evidence::Evidence& evidence, const manifest::Manifest& manifest,
                    const std::string& env, const std::string& sha, findings::Findings& findings) {
  if (evidence.verdict == "skipped") {
    findings.error("EVIDENCE_NOT_PASSED", "", "verdict",
                   "the evidence's verdict is 'skipped': the gate was skipped "
                   "(SKIP_IMAGE_GATE=true) and verified nothing, so nothing can be pinned");
  } else if (evidence.verdict != "pass") {
    findings.error("EVIDENCE_NOT_PASSED", "", "verdict",
                   fmt::format("the evidence's verdict is {}, not \"pass\": the gate did not "
                               "verify this deploy's images",
                               util::quote(evidence.verdict)));
  }
  if (evidence.manifest_sha256 != manifest.sha256) {
    findings.error(
        "EVIDENCE_MANIFEST_MISMATCH", "", "manifest.sha256",
        fmt::format("the evidence is for manifest {} with sha256 {}, but {} has "
                    "sha256 {}",
                    util::quote(evidence.manifest_path), util::quote(evidence.manifest_sha256),
                    util::quote(manifest.path.string()), manifest.sha256));
  }
  if (!env.empty() && evidence.env != env) {
    findings.error("EVIDENCE_MISMATCH", "", "env",
                   fmt::format("the evidence is for environment {}, this deploy is {}",
                               util::quote(evidence.env), util::quote(env)));
  }
  if (!sha.empty() && evidence.sha != sha) {
    findings.error("EVIDENCE_MISMATCH", "", "sha",
                   fmt::format("the evidence is for commit {}, this deploy is {}",
                               util::quote(evidence.sha), util::quote(sha)));
  }
  for (const auto& image : evidence.images) {
    // A digest that exists but is not this pipeline's build is never deployed.
    if (image.provenance.checked && image.provenance.status != "pass") {
      findings.error("PROVENANCE_FAILED", image.id, "provenance",
                     fmt::format("the evidence's provenance policy failed for {}: its digest is "
                                 "not proven to be this commit's build",
                                 util::quote(image.id)));
    }
    if (image.status != "pass") continue;
    if (!reference::is_valid_digest(image.digest)) {
      findings.error(
          "EVIDENCE_INVALID", image.id, "digest",
          fmt::format("the evidence's digest {} is not a valid digest", util::quote(image.digest)));
    }
    auto uri = reference::parse_reference(image.repository_uri);
    if (!uri || !uri->tag.empty() || !uri->digest.empty()) {
      findings.error("EVIDENCE_INVALID", image.id, "repositoryUri",
                     fmt::format("the evidence's repositoryUri {} is not a repository ({})",
                                 util::quote(image.repository_uri),
                                 uri ? "it has a tag or digest" : uri.error().message));
    }
  }
}

void check_allowed_unmanaged(const Expectations& expectations) {
  for (const auto& name : expectations.allowed_unmanaged) {
    if (const auto* image = expectations.for_container(name); image != nullptr) {
      throw UsageError(fmt::format(
          "--allow-unmanaged {} names the container of manifest image {}; only containers the "
          "manifest does not manage can be allowed",
          util::quote(name), util::quote(image->id)));
    }
  }
}

std::vector<const ExpectedImage*> map_containers(const std::vector<ContainerImage>& containers,
                                                 const Expectations& expectations,
                                                 findings::Findings& findings,
                                                 bool report_missing) {
  std::vector<const ExpectedImage*> out;
  std::set<std::string, std::less<>> present;
  for (const auto& c : containers) {
    present.insert(c.name);
    const auto* image = expectations.for_container(c.name);
    out.push_back(image);
    if (image != nullptr) continue;
    if (expectations.allowed_unmanaged.contains(c.name)) {
      findings.add({Severity::kInfo, "UNMANAGED_CONTAINER", "", c.name,
                    fmt::format("not an image of the manifest; image {} kept as is "
                                "(--allow-unmanaged)",
                                util::quote(c.image))});
    } else {
      findings.error("UNMANAGED_CONTAINER", "", c.name,
                     fmt::format("container {} (image {}) is not the taskDefContainerName of any "
                                 "manifest image; add it to the manifest or pass "
                                 "--allow-unmanaged {}",
                                 util::quote(c.name), util::quote(c.image), util::quote(c.name)));
    }
  }
  if (report_missing) check_containers_present(expectations, present, findings);
  return out;
}

void check_containers_present(const Expectations& expectations,
                              const std::set<std::string, std::less<>>& present,
                              findings::Findings& findings) {
  for (const auto& image : expectations.images) {
    if (present.contains(image.container)) continue;
    const auto message = fmt::format(
        "the task definition has no container {} for {} image {}", util::quote(image.container),
        image.required ? "required" : "optional", util::quote(image.id));
    if (image.required) {
      findings.error("CONTAINER_MISSING", image.id, image.container, message);
    } else {
      findings.warning("CONTAINER_MISSING", image.id, image.container, message);
    }
  }
}

std::string describe_expected(const ExpectedImage& expected) {
  std::vector<std::string> refs;
  if (expected.has_evidence) {
    if (!expected.digest.empty()) refs.push_back(expected.repository_uri + "@" + expected.digest);
    for (const auto& tag : expected.tags) refs.push_back(expected.repository_uri + ":" + tag);
  } else {
    for (const auto& tag : expected.tags) refs.push_back("[REGISTRY/]" + expected.name + ":" + tag);
  }
  return util::join(refs, " or ");
}

ImageCheck check_container_image(const ContainerImage& container, const ExpectedImage& expected,
                                 const DigestResolver& resolver, bool keep_absent_optional) {
  const auto subject = container.name;
  auto failed = [&](std::string code, std::string message) {
    return ImageCheck{false, error(std::move(code), expected, subject, std::move(message))};
  };
  if (expected.has_evidence && expected.evidence_status != "pass") {
    if (expected.evidence_status == "absent" && !expected.required) {
      if (!keep_absent_optional) {
        return failed("OPTIONAL_IMAGE_ABSENT",
                      fmt::format("optional image is absent from the evidence, so image {} is "
                                  "not verified; pass --keep-absent-optional to accept it",
                                  util::quote(container.image)));
      }
      return ImageCheck{true,
                        Finding{Severity::kWarning, "OPTIONAL_IMAGE_ABSENT", expected.id, subject,
                                fmt::format("optional image is absent from the evidence; "
                                            "image {} accepted unverified "
                                            "(--keep-absent-optional)",
                                            util::quote(container.image))}};
    }
    if (expected.evidence_status.empty()) {
      return failed("EVIDENCE_IMAGE_MISSING", fmt::format("the evidence has no entry for image {}",
                                                          util::quote(expected.id)));
    }
    return failed("IMAGE_NOT_VERIFIED",
                  fmt::format("the evidence's status for this image is {}, not \"pass\"",
                              util::quote(expected.evidence_status)));
  }
  const auto expected_text = describe_expected(expected);
  if (container.image.empty()) {
    return failed("IMAGE_MISMATCH", fmt::format("container {} has no image; expected {}",
                                                util::quote(container.name), expected_text));
  }
  auto ref = reference::parse_reference(container.image);
  if (!ref) {
    return failed("IMAGE_MISMATCH",
                  fmt::format("container {}: {}; expected {}", util::quote(container.name),
                              ref.error().message, expected_text));
  }
  auto mismatch = [&](std::string why) {
    return failed("IMAGE_MISMATCH",
                  fmt::format("container {} runs {}: {}; expected {}", util::quote(container.name),
                              util::quote(container.image), why, expected_text));
  };
  if (!repository_matches(*ref, expected)) return mismatch("another repository");
  if (!ref->digest.empty()) {
    std::string want = expected.digest;
    if (want.empty() && !expected.has_evidence && resolver) {
      auto resolved = resolver(expected);
      if (!resolved) return failed(resolved.error().code, resolved.error().message);
      want = *resolved;
    }
    if (want.empty()) {
      return failed("DIGEST_UNVERIFIED",
                    fmt::format("container {} names digest {}, which cannot be verified without "
                                "--evidence",
                                util::quote(container.name), ref->digest));
    }
    if (ref->digest != want) return mismatch(fmt::format("digest is not {}", want));
    return ImageCheck{true, std::nullopt};
  }
  if (ref->tag.empty()) return mismatch("no tag or digest (that means :latest)");
  if (std::find(expected.tags.begin(), expected.tags.end(), ref->tag) == expected.tags.end()) {
    return mismatch(fmt::format("tag {} is not one of this deploy's", util::quote(ref->tag)));
  }
  return ImageCheck{true, std::nullopt};
}

std::vector<ContainerVerdict> check_task_definition(const TaskDefinition& task_definition,
                                                    const Expectations& expectations,
                                                    const DigestResolver& resolver,
                                                    findings::Findings& findings,
                                                    bool report_missing) {
  using Mark = ContainerVerdict::Mark;
  const auto containers = task_definition.containers();
  const auto mapped = map_containers(containers, expectations, findings, report_missing);
  check_runtime_platform(task_definition, containers, mapped, findings);
  std::vector<ContainerVerdict> out;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    if (mapped[i] == nullptr) {
      const bool allowed = expectations.allowed_unmanaged.contains(c.name);
      out.push_back({c.name, c.image, "", allowed ? Mark::kUnmanaged : Mark::kFailed});
      continue;
    }
    auto check = check_container_image(c, *mapped[i], resolver, expectations.keep_absent_optional);
    Mark mark = Mark::kOk;
    if (!check.ok) {
      mark = Mark::kFailed;
    } else if (check.finding) {
      mark = Mark::kWarning;
    }
    if (check.finding) findings.add(std::move(*check.finding));
    out.push_back({c.name, c.image, mapped[i]->id, mark});
  }
  return out;
}

void pin_containers(TaskDefinition& task_definition, const Expectations& expectations,
                    bool keep_absent_optional, findings::Findings& findings) {
  const auto containers = task_definition.containers();
  const auto mapped = map_containers(containers, expectations, findings);
  check_runtime_platform(task_definition, containers, mapped, findings);
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const auto* image = mapped[i];
    if (image == nullptr) continue;
    const auto& c = containers[i];
    if (image->evidence_status == "pass") {
      task_definition.set_image(c.name, image->repository_uri + "@" + image->digest);
    } else if (image->evidence_status == "absent" && !image->required) {
      if (keep_absent_optional) {
        findings.warning("OPTIONAL_IMAGE_ABSENT", image->id, c.name,
                         fmt::format("optional image is absent from the evidence; image {} kept "
                                     "as is (--keep-absent-optional)",
                                     util::quote(c.image)));
      } else {
        findings.error("OPTIONAL_IMAGE_ABSENT", image->id, c.name,
                       fmt::format("optional image is absent from the evidence, so container {} "
                                   "cannot be pinned; pass --keep-absent-optional to keep {}",
                                   util::quote(c.name), util::quote(c.image)));
      }
    } else if (image->evidence_status.empty()) {
      findings.error("EVIDENCE_IMAGE_MISSING", image->id, c.name,
                     fmt::format("the evidence has no entry for image {}", util::quote(image->id)));
    } else {
      findings.error("IMAGE_NOT_VERIFIED", image->id, c.name,
                     fmt::format("the evidence's status for this image is {}, not \"pass\"; "
                                 "container {} cannot be pinned",
                                 util::quote(image->evidence_status), util::quote(c.name)));
    }
  }
}

}  // namespace imagegate::deploy
