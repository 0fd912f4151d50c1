// Registry::fetch for the ECR backend: manifests by tag or digest through BatchGetImage (one call
// per repository and 100 ids), blobs through GetDownloadUrlForLayer and the presigned download,
// each phase one concurrent batch. ECR's API has no referrers operation: kUnsupported, and the
// caller reads the tag schema. Internal to the ECR backend.
#pragma once

#include <vector>

#include "registry/ecr/ecr.hpp"
#include "registry/registry.hpp"

namespace imagegate::registry::ecr {

std::vector<ContentResult> fetch_content(const EcrOptions& options,
                                         const std::vector<ContentRequest>& requests);

}  // namespace imagegate::registry::ecr
