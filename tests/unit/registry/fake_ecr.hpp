// An in-memory ECR behind a scripted http::Client: answers DescribeRepositories, BatchGetImage,
// DescribeImages and GetDownloadUrlForLayer the way the service does, counts calls per operation,
// and lets a test replace any answer.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../aws/fake_http_client.hpp"
#include "util/text.hpp"

namespace imagegate::registry::ecr::testing {

using nlohmann::json;

inline std::string digest_of(std::string_view bytes) {
  return "sha256:" + util::sha256_hex(bytes);
}

// A single-platform OCI manifest whose config blob is `config`.
inline std::string oci_manifest(const std::string& config) {
  return json{{"schemaVersion", 2},
              {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"config",
               {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                {"digest", digest_of(config)},
                {"size", config.size()}}},
              {"layers", json::array()}}
      .dump();
}

inline std::string config_blob(const std::string& os, const std::string& arch,
                               const std::string& variant = "") {
  json config{{"os", os}, {"architecture", arch}, {"rootfs", {{"type", "layers"}}}};
  if (!variant.empty()) config["variant"] = variant;
  return config.dump();
}

struct FakeImage {
  std::string manifest;
  std::string media_type;  // stored media type; empty: left out of the answer
};

struct FakeRepository {
  std::string mutability = "IMMUTABLE";
  std::map<std::string, FakeImage> tags;
};

class FakeEcr {
 public:
  static constexpr const char* kAccount = "123456789012";

  std::map<std::string, FakeRepository> repositories;
  std::map<std::string, std::string> blobs;            // digest -> bytes, served at kBlobBase
  std::map<std::string, int> calls;                    // operation -> count
  std::map<std::string, std::string> image_status;     // digest -> imageStatus (default ACTIVE)
  std::vector<std::pair<std::string, json>> requests;  // operation, body
  // Replaces the answer to any call when it returns a response.
  std::function<std::optional<http::Response>(const std::string& operation, const json& body)>
      override_answer;
  static constexpr const char* kBlobBase = "http://127.0.0.1:9/blobs/";

  aws::testing::FakeHttpClient api{[this](const http::Request& r) { return answer(r); }};
  // The fake's own answer, for a test handler that changes only some of them.
  http::Response api_answer(const http::Request& request) { return answer(request); }
  aws::testing::FakeHttpClient blob_http{[this](const http::Request& r) { return download(r); }};

  std::vector<json> bodies(const std::string& operation) const {
    std::vector<json> out;
    for (const auto& [op, body] : requests) {
      if (op == operation) out.push_back(body);
    }
    return out;
  }

  static http::Response error(long status, const std::string& type, const std::string& message) {
    return aws::testing::respond(status, json{{"__type", type}, {"message", message}}.dump(),
                                 {{"x-amzn-requestid", "req-" + type}});
  }

 private:
  http::Response answer(const http::Request& request) {
    const std::string target = aws::testing::header_value(request, "X-Amz-Target");
    const std::string operation = target.substr(target.rfind('.') + 1);
    const json body = json::parse(request.body);
    ++calls[operation];
    requests.emplace_back(operation, body);
    if (override_answer) {
      if (auto response = override_answer(operation, body)) return *response;
    }
    if (operation == "DescribeRepositories") return describe(body);
    if (operation == "BatchGetImage") return batch_get_image(body);
    if (operation == "GetDownloadUrlForLayer") return download_url(body);
    if (operation == "DescribeImages") return describe_images(body);
    return error(400, "UnknownOperationException", operation);
  }

  static http::Response not_found(const std::string& name) {
    return error(400, "RepositoryNotFoundException",
                 fmt::format("The repository with name '{}' does not exist in the registry with "
                             "id '{}'",
                             name, kAccount));
  }

  http::Response describe(const json& body) {
    json repos = json::array();
    for (const auto& name : body["repositoryNames"]) {
      auto it = repositories.find(name.get<std::string>());
      if (it == repositories.end()) return not_found(name);
      repos.push_back({{"repositoryName", it->first},
                       {"repositoryUri", fmt::format("{}.dkr.ecr.eu-central-1.amazonaws.com/{}",
                                                     kAccount, it->first)},
                       {"imageTagMutability", it->second.mutability}});
    }
    return aws::testing::respond(200, json{{"repositories", repos}}.dump());
  }

  http::Response batch_get_image(const json& body) {
    auto it = repositories.find(body["repositoryName"].get<std::string>());
    if (it == repositories.end()) return not_found(body["repositoryName"]);
    json images = json::array();
    json failures = json::array();
    for (const auto& id : body["imageIds"]) {
      const std::string tag = id["imageTag"];
      auto image = it->second.tags.find(tag);
      if (image == it->second.tags.end()) {
        failures.push_back({{"imageId", {{"imageTag", tag}}},
                            {"failureCode", "ImageNotFound"},
                            {"failureReason", "Requested image not found"}});
        continue;
      }
      json entry{
          {"registryId", kAccount},
          {"repositoryName", it->first},
          {"imageId", {{"imageTag", tag}, {"imageDigest", digest_of(image->second.manifest)}}},
          {"imageManifest", image->second.manifest}};
      if (!image->second.media_type.empty()) {
        entry["imageManifestMediaType"] = image->second.media_type;
      }
      images.push_back(entry);
    }
    return aws::testing::respond(200, json{{"images", images}, {"failures", failures}}.dump());
  }

  // DescribeImages by digest: every id must be an image of the repository (else, as ECR does,
  // the whole call fails with ImageNotFoundException).
  http::Response describe_images(const json& body) {
    auto it = repositories.find(body["repositoryName"].get<std::string>());
    if (it == repositories.end()) return not_found(body["repositoryName"]);
    json details = json::array();
    for (const auto& id : body["imageIds"]) {
      const std::string digest = id.value("imageDigest", "");
      bool known = false;
      for (const auto& [tag, image] : it->second.tags) known |= digest_of(image.manifest) == digest;
      if (!known) return error(400, "ImageNotFoundException", "The image does not exist");
      const auto status = image_status.find(digest);
      details.push_back(
          {{"repositoryName", it->first},
           {"imageDigest", digest},
           {"imageStatus", status == image_status.end() ? "ACTIVE" : status->second}});
    }
    return aws::testing::respond(200, json{{"imageDetails", details}}.dump());
  }

  http::Response download_url(const json& body) {
    const std::string digest = body["layerDigest"];
    if (!blobs.contains(digest)) {
      return error(400, "LayersNotFoundException", "The specified layer does not exist");
    }
    return aws::testing::respond(
        200, json{{"downloadUrl", std::string(kBlobBase) + digest + "?X-Amz-Signature=s3cr3tsig"},
                  {"layerDigest", digest}}
                 .dump());
  }

  http::Response download(const http::Request& request) {
    const std::string path = request.url.substr(std::string(kBlobBase).size());
    const std::string digest = path.substr(0, path.find('?'));
    auto it = blobs.find(digest);
    if (it == blobs.end()) return aws::testing::respond(404, "not found");
    return aws::testing::respond(200, it->second);
  }
};

}  // namespace imagegate::registry::ecr::testing
