#include "registry/ecr/content_fetch.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "registry/ecr/answers.hpp"
#include "util/text.hpp"

namespace imagegate::registry::ecr {
namespace {

using detail::string_field;
using nlohmann::json;

constexpr std::size_t kMaxIdsPerCall = 100;
constexpr std::size_t kMaxBlobBytes = 4 * 1024 * 1024;
constexpr std::string_view kTargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";

ContentResult error_result(std::string code, std::string message) {
  ContentResult r;
  r.status = ContentStatus::kError;
  r.error = Error{std::move(code), std::move(message)};
  return r;
}

aws::JsonCall make_call(const EcrOptions& options, std::string_view operation, json body) {
  if (!options.registry_id.empty()) body["registryId"] = options.registry_id;
  return aws::JsonCall{"ecr", std::string(kTargetPrefix) + std::string(operation), std::move(body)};
}

json image_id(const std::string& reference) {
  return is_sha256_digest(reference) ? json{{"imageDigest", reference}}
                                     : json{{"imageTag", reference}};
}

// The answer of one BatchGetImage for one of its ids.
ContentResult read_image(const json& answer, const ContentRequest& r) {
  const std::string what = fmt::format("{}@{}", r.repository, r.reference);
  const bool by_digest = is_sha256_digest(r.reference);
  const char* key = by_digest ? "imageDigest" : "imageTag";
  const auto list = [&answer](const char* name) {
    return answer.contains(name) && answer[name].is_array() ? answer[name] : json::array();
  };
  for (const auto& image : list("images")) {
    const json id = image.is_object() && image.contains("imageId") ? image["imageId"] : json();
    if (string_field(id, key) != r.reference) continue;
    const std::string manifest = string_field(image, "imageManifest");
    const std::string digest = string_field(id, "imageDigest");
    if (auto checked = detail::check_manifest_digest(manifest, digest); !checked) {
      return error_result(checked.error().code, what + ": " + checked.error().message);
    }
    if (by_digest && digest != r.reference) {
      return error_result("BAD_RESPONSE", what + ": BatchGetImage answered another digest");
    }
    ContentResult result;
    result.status = ContentStatus::kFound;
    result.body = manifest;
    result.digest = digest;
    result.media_type = string_field(image, "imageManifestMediaType");
    return result;
  }
  for (const auto& failure : list("failures")) {
    const json id =
        failure.is_object() && failure.contains("imageId") ? failure["imageId"] : json();
    if (string_field(id, key) != r.reference) continue;
    const TagResult tag = detail::image_failure(r.reference, string_field(failure, "failureCode"),
                                                string_field(failure, "failureReason"));
    if (tag.status == TagStatus::kMissing)
      return ContentResult{ContentStatus::kMissing, "", "", "", {}};
    return error_result(tag.error.code, what + ": " + tag.error.message);
  }
  return error_result("BAD_RESPONSE", what + ": BatchGetImage gave no answer for it");
}

void fetch_manifests(const EcrOptions& options, const std::vector<ContentRequest>& requests,
                     const std::vector<std::size_t>& wanted, std::vector<ContentResult>& results) {
  // repository -> request indices, in chunks of 100 ids.
  std::map<std::string, std::vector<std::size_t>> by_repository;
  for (const std::size_t i : wanted) by_repository[requests[i].repository].push_back(i);
  std::vector<aws::JsonCall> calls;
  std::vector<std::vector<std::size_t>> asked;
  for (const auto& [repository, indices] : by_repository) {
    for (std::size_t start = 0; start < indices.size(); start += kMaxIdsPerCall) {
      std::vector<std::size_t> part(indices.begin() + static_cast<std::ptrdiff_t>(start),
                                    indices.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                          indices.size(), start + kMaxIdsPerCall)));
      json ids = json::array();
      for (const std::size_t i : part) ids.push_back(image_id(requests[i].reference));
      calls.push_back(make_call(options, "BatchGetImage",
                                json{{"repositoryName", repository},
                                     {"imageIds", std::move(ids)},
                                     {"acceptedMediaTypes",
                                      {detail::kOciIndex, detail::kOciManifest, detail::kDockerList,
                                       detail::kDockerManifest}}}));
      asked.push_back(std::move(part));
    }
  }
  if (calls.empty()) return;
  auto answers = options.session->client().call_batch(calls);
  for (std::size_t k = 0; k < calls.size(); ++k) {
    for (const std::size_t i : asked[k]) {
      if (k >= answers.size()) {
        results[i] = error_result("BAD_RESPONSE", "BatchGetImage gave no answer");
      } else if (!answers[k]) {
        const Error error = answers[k].error().to_error();
        results[i] = error_result(error.code, error.message);
      } else {
        results[i] = read_image(*answers[k], requests[i]);
      }
    }
  }
}

void fetch_blobs(const EcrOptions& options, const std::vector<ContentRequest>& requests,
                 const std::vector<std::size_t>& wanted, std::vector<ContentResult>& results) {
  if (wanted.empty()) return;
  std::vector<aws::JsonCall> calls;
  for (const std::size_t i : wanted) {
    calls.push_back(make_call(
        options, "GetDownloadUrlForLayer",
        json{{"repositoryName", requests[i].repository}, {"layerDigest", requests[i].reference}}));
  }
  auto urls = options.session->client().call_batch(calls);
  std::vector<http::Request> downloads;
  std::vector<std::size_t> waiting;
  for (std::size_t k = 0; k < wanted.size(); ++k) {
    const std::size_t i = wanted[k];
    const std::string what =
        fmt::format("blob {} of {}", requests[i].reference, util::quote(requests[i].repository));
    if (k >= urls.size() || !urls[k]) {
      if (k < urls.size() && urls[k].error().aws_code == "LayersNotFoundException") {
        results[i] = ContentResult{ContentStatus::kMissing, "", "", "", {}};
        continue;
      }
      const Error error =
          k < urls.size() ? urls[k].error().to_error() : Error{"BAD_RESPONSE", "no answer"};
      results[i] = error_result(error.code, what + ": " + error.message);
      continue;
    }
    const std::string url = string_field(*urls[k], "downloadUrl");
    if (url.empty() || options.http == nullptr) {
      results[i] = error_result("BAD_RESPONSE", what + ": no downloadUrl to read it from");
      continue;
    }
    http::Request request;
    request.url = url;
    request.max_body_bytes = kMaxBlobBytes;
    downloads.push_back(std::move(request));
    waiting.push_back(i);
  }
  if (downloads.empty()) return;
  const auto responses = options.http->run(downloads);
  for (std::size_t k = 0; k < waiting.size(); ++k) {
    const std::size_t i = waiting[k];
    const std::string what = fmt::format("blob {}", requests[i].reference);
    // The presigned URL carries a signature: it is never put into a message.
    if (k >= responses.size()) {
      results[i] = error_result("BAD_RESPONSE", what + ": no response");
    } else if (!responses[k].error_code.empty()) {
      results[i] = error_result(responses[k].error_code, what + ": download failed");
    } else if (!responses[k].ok()) {
      results[i] =
          error_result(responses[k].status == 403 ? "AUTH_FAILED" : "BAD_RESPONSE",
                       fmt::format("{}: download failed: HTTP {}", what, responses[k].status));
    } else if (sha256_digest(responses[k].body) != requests[i].reference) {
      results[i] = error_result("BAD_RESPONSE", what + ": the download does not hash to it");
    } else {
      results[i].status = ContentStatus::kFound;
      results[i].body = responses[k].body;
      results[i].digest = requests[i].reference;
    }
  }
}

}  // namespace

std::vector<ContentResult> fetch_content(const EcrOptions& options,
                                         const std::vector<ContentRequest>& requests) {
  std::vector<ContentResult> results(requests.size());
  std::vector<std::size_t> manifests;
  std::vector<std::size_t> blobs;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const bool digest_ref = is_sha256_digest(r.reference);
    if (!is_valid_repository_name(r.repository) ||
        !(digest_ref || (r.kind == ContentKind::kManifest && is_valid_tag(r.reference)))) {
      results[i] = error_result(
          "INVALID_REFERENCE",
          fmt::format("{}@{}: not a valid repository and reference",
                      util::escape_display(r.repository), util::escape_display(r.reference)));
    } else if (r.kind == ContentKind::kReferrers) {
      results[i].status = ContentStatus::kUnsupported;
    } else if (r.kind == ContentKind::kManifest) {
      manifests.push_back(i);
    } else {
      blobs.push_back(i);
    }
  }
  fetch_manifests(options, requests, manifests, results);
  fetch_blobs(options, requests, blobs, results);
  return results;
}

}  // namespace imagegate::registry::ecr
