// DescribeImageScanFindings of the fake AWS: the image's "scan" object from the state
// (imageScanStatus, imageScanFindings in the basic or the enhanced shape, as the service model
// has them) is answered with the ids; an image without one was never scanned
// (ScanNotFoundException). The findings lists (imageScanFindings.findings and .enhancedFindings)
// are paginated: at most min(maxResults (default 100, 1 to 1000), scanFindingsPageSize) per
// answer, then a nextToken; findingSeverityCounts, the totals, come with every page, as ECR
// sends them.
#pragma once

#include <algorithm>
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
  const auto max_results = integer(body, "maxResults");
  if (max_results && (*max_results < 1 || *max_results > 1000)) {
    throw validation(std::to_string(*max_results), "maxResults",
                     "Member must have value between 1 and 1000");
  }
  const std::string token = str(body, "nextToken");
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
  if (!out.contains("imageScanFindings") || !out["imageScanFindings"].is_object()) {
    if (!token.empty()) page_offset(token, 0);  // a token for a scan without findings
    return out;
  }
  Json& findings = out["imageScanFindings"];
  std::size_t total = 0;
  for (const char* list : {"findings", "enhancedFindings"}) {
    if (findings.contains(list)) total = std::max(total, findings[list].size());
  }
  const std::size_t size =
      std::min<std::size_t>(static_cast<std::size_t>(max_results.value_or(100)),
                            static_cast<std::size_t>(s.scan_findings_page_size));
  const Page page = paginate(total, token, size);
  for (const char* list : {"findings", "enhancedFindings"}) {
    if (!findings.contains(list)) continue;
    const Json& all = findings[list];
    Json part = Json::array();
    for (std::size_t i = page.begin; i < page.end && i < all.size(); ++i) part.push_back(all[i]);
    findings[list] = std::move(part);
  }
  if (!page.next_token.empty()) out["nextToken"] = page.next_token;
  return out;
}

}  // namespace imagegate::fake_aws::ecr
