// AWS ECR backend: answers the gate's batch of (repository, tags) queries through the ECR API with
// as few calls as it allows (DescribeRepositories for up to 100 names, one BatchGetImage per
// repository for up to 100 tags, GetDownloadUrlForLayer for config blobs), all concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "aws/session.hpp"
#include "http/http.hpp"
#include "registry/registry.hpp"
#include "util/error.hpp"

namespace imagegate::registry::ecr {

// What an ECR registry URL names; empty fields are left to the session (region) or to AWS (the
// caller's own registry).
struct EcrLocation {
  std::string region;       // e.g. "eu-central-1"
  std::string registry_id;  // 12-digit account id
  // The registry as a URL again: "ecr", "ecr://REGION" or
  // "ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com".
  std::string to_string() const;
};

// Accepts "ecr", "ecr://REGION" and "ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com" (also
// ".amazonaws.com.cn" and "dkr.ecr-fips"); anything else is REGISTRY_URL_INVALID naming the
// accepted forms.
Result<EcrLocation> parse_ecr_url(std::string_view url);

struct EcrOptions {
  aws::Session* session = nullptr;  // required: region, credentials and the JSON client
  std::string registry_id;          // account of the registry; empty: the caller's default
  // Calls handed to the JSON client at once (it runs them concurrently, bounded by its http
  // client); <= 0: all of them.
  int concurrency = 16;
  // Downloads config blobs from the presigned URLs GetDownloadUrlForLayer gives (no AWS
  // signature is attached: the URL carries it). Without it, platforms of single-platform
  // manifests cannot be read and are reported as errors.
  http::Client* http = nullptr;
};

std::unique_ptr<Registry> make_ecr_registry(const EcrOptions& options);

}  // namespace imagegate::registry::ecr
