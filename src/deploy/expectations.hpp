// What a deploy is expected to run, per container, and the rules pin and verify share: which
// containers the manifest manages, whether evidence belongs to this deploy, and whether a
// container's image reference names this deploy's image.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deploy/task_definition.hpp"
#include "evidence/evidence.hpp"
#include "findings/findings.hpp"
#include "manifest/manifest.hpp"
#include "reference/reference.hpp"

namespace imagegate::deploy {

struct ExpectedImage {
  std::string id;
  std::string name;       // manifest repository name, e.g. "afu9/control-center"
  std::string container;  // taskDefContainerName
  bool required = true;
  std::vector<std::string> tags;  // this deploy's tags (manifest::expected_tags)
  // From the evidence, when given:
  bool has_evidence = false;
  std::string evidence_status;  // "pass" | "fail" | "absent" | "" (image not in the evidence)
  std::string repository_uri;
  std::string digest;                    // set only when evidence_status == "pass"
  std::vector<std::string> platforms{};  // the platforms the gate found ("linux/amd64"), if any
};

// Resolves the digest an image's expected tags name (the registry seam used when no evidence is
// given). Errors carry a finding code (UNREACHABLE, AUTH_FAILED, TAG_MISSING...).
using DigestResolver = std::function<Result<std::string>(const ExpectedImage& image)>;

struct Expectations {
  std::vector<ExpectedImage> images;
  std::set<std::string, std::less<>> allowed_unmanaged;  // --allow-unmanaged
  bool has_evidence = false;
  // --keep-absent-optional: an optional image absent from the evidence may keep (pin) or run
  // (verify) an image nobody verified; a warning instead of an error.
  bool keep_absent_optional = false;

  const ExpectedImage* for_container(std::string_view container) const;
};

// One entry per manifest image; evidence fields filled when evidence is given.
Expectations build_expectations(const manifest::Manifest& manifest,
                                const std::vector<std::string>& tags,
                                const evidence::Evidence* evidence,
                                std::set<std::string, std::less<>> allowed_unmanaged);

// The evidence belongs to this deploy and passed: EVIDENCE_NOT_PASSED, EVIDENCE_MANIFEST_MISMATCH
// (manifest sha256), EVIDENCE_MISMATCH (env or sha, each checked only when non-empty), and
// EVIDENCE_INVALID for a passed image whose digest or repositoryUri is not usable.
void check_evidence(const evidence::Evidence& evidence, const manifest::Manifest& manifest,
                    const std::string& env, const std::string& sha, findings::Findings& findings);

// --allow-unmanaged may only name containers the manifest does not manage (UsageError otherwise).
void check_allowed_unmanaged(const Expectations& expectations);

// Which manifest image each container is, in container order (nullptr: unmanaged). Records
// UNMANAGED_CONTAINER (error, or info "kept as is" when allowed) and, with report_missing,
// check_containers_present over these containers.
std::vector<const ExpectedImage*> map_containers(const std::vector<ContainerImage>& containers,
                                                 const Expectations& expectations,
                                                 findings::Findings& findings,
                                                 bool report_missing = true);

// CONTAINER_MISSING for every image whose container is not in `present`: an error when the
// image is required, a warning when it is optional.
void check_containers_present(const Expectations& expectations,
                              const std::set<std::string, std::less<>>& present,
                              findings::Findings& findings);

// Verdict on one managed container's image reference.
struct ImageCheck {
  bool ok = false;
  std::optional<findings::Finding> finding;  // IMAGE_MISMATCH, DIGEST_UNVERIFIED, ...
};

// The rule of `verify`: the image must be the image's repository (the evidence repositoryUri's
// registry and repository; without evidence, any registry whose repository path is the manifest
// name or ends with "/<name>") with one of this deploy's tags or the expected digest. A digest
// in the reference (repo@d, repo:tag@d) must equal the evidence digest, else the resolver's
// digest; with neither it is DIGEST_UNVERIFIED (a failure, never a pass). An optional image
// absent from the evidence is OPTIONAL_IMAGE_ABSENT: a warning with keep_absent_optional, else
// an error.
ImageCheck check_container_image(const ContainerImage& container, const ExpectedImage& expected,
                                 const DigestResolver& resolver, bool keep_absent_optional = false);

// Acceptable references for messages: "uri@digest", "name:tag1", ... joined by " or ".
std::string describe_expected(const ExpectedImage& expected);

// One line of verify's report: a container and what was concluded about its image.
struct ContainerVerdict {
  enum class Mark { kOk, kWarning, kFailed, kUnmanaged };
  std::string container;
  std::string image;
  std::string image_id;  // empty for unmanaged containers
  Mark mark = Mark::kFailed;
};

// map_containers + check_container_image for every managed container of a task definition.
// report_missing = false when several task definitions together must hold every image.
std::vector<ContainerVerdict> check_task_definition(const TaskDefinition& task_definition,
                                                    const Expectations& expectations,
                                                    const DigestResolver& resolver,
                                                    findings::Findings& findings,
                                                    bool report_missing = true);

// `pin`: each managed container gets <repositoryUri>@<digest> from the evidence. Optional images
// absent from the evidence keep their image only with keep_absent_optional (a warning), else
// OPTIONAL_IMAGE_ABSENT; an image whose evidence did not pass is IMAGE_NOT_VERIFIED.
void pin_containers(TaskDefinition& task_definition, const Expectations& expectations,
                    bool keep_absent_optional, findings::Findings& findings);

}  // namespace imagegate::deploy
