// DescribeImageScanFindings of the fake AWS: the image's "scan" object from the state
// (imageScanStatus, imageScanFindings in the basic or the enhanced shape, as the service model
// has them) is answered as is, with the ids; an image without one was never scanned
// (ScanNotFoundException).
#pragma once

#include <string>

#include "ecr.hpp"
#include "params.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::ecr {

inline Json describe_image_scan_findings(State& s, const Json& body) {
  Repository& repo = repository(s, body);
  const std::string name = str(body, "repositoryName");
  if (!body.contains("imageId") || !body["imageId"].is_object()) {
    throw invalid_parameter("imageId is required");
  }
  const std::string tag = str(body["imageId"], "imageTag");
  const std::string digest = str(body["imageId"], "imageDigest");
  Image* img = !digest.empty() ? by_digest(repo, digest) : by_tag(repo, tag);
  const auto describe = [&] {
    return fmt::format("{{imageDigest:'{}', imageTag:'{}'}}", digest.empty() ? "null" : digest,
                       tag.empty() ? "null" : tag);
  };
  if (img == nullptr) {
    throw AwsError{400, "ImageNotFoundException",
                   fmt::format("The image with imageId {} does not exist within the repository "
                               "with name '{}' in the registry with id '{}'",
                               describe(), name, s.account)};
  }
  if (img->scan.is_null()) {
    throw AwsError{400, "ScanNotFoundException",
                   fmt::format("Image scan does not exist for the image with '{}' in the "
                               "repository with name '{}' in the registry with id '{}'",
                               describe(), name, s.account)};
  }
  Json image_id = {{"imageDigest", img->digest}};
  if (!tag.empty()) image_id["imageTag"] = tag;
  Json out = {{"registryId", s.account}, {"repositoryName", name}, {"imageId", image_id}};
  for (const auto& [key, value] : img->scan.items()) out[key] = value;
  return out;
}

}  // namespace imagegate::fake_aws::ecr
