// ECR operations of the fake AWS (AmazonEC2ContainerRegistry_V20150921): repositories, PutImage
// with AWS's tag semantics (ImageAlreadyExists, tag moves on MUTABLE, refusal on IMMUTABLE),
// BatchGetImage with per-id failures, DescribeImages, GetAuthorizationToken.
#pragma once

#include <fmt/ranges.h>

#include <algorithm>
#include <regex>
#include <string>

#include "aws/sigv4.hpp"
#include "params.hpp"
#include "state.hpp"

namespace imagegate::fake_aws::ecr {

inline const std::regex kRepositoryName(
    "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*");
inline const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,299}");
inline const std::regex kDigest("sha256:[a-f0-9]{64}");

inline Json repository_json(const State& s, const std::string& name, const Repository& r) {
  return {
      {"repositoryArn", fmt::format("arn:aws:ecr:{}:{}:repository/{}", s.region, s.account, name)},
      {"registryId", s.account},
      {"repositoryName", name},
      {"repositoryUri", fmt::format("{}.dkr.ecr.{}.amazonaws.com/{}", s.account, s.region, name)},
      {"createdAt", r.created_at},
      {"imageTagMutability", r.mutability},
      {"imageScanningConfiguration", {{"scanOnPush", false}}},
      {"encryptionConfiguration", {{"encryptionType", "AES256"}}}};
}

inline AwsError repository_not_found(const std::string& name, const std::string& registry) {
  return {400, "RepositoryNotFoundException",
          fmt::format("The repository with name '{}' does not exist in the registry with id '{}'",
                      name, registry)};
}

inline std::string registry_id(const State& s, const Json& body) {
  std::string id = str(body, "registryId");
  return id.empty() ? s.account : id;
}

// The repository named in the request, in the registry it names (only ours exists).
inline Repository& repository(State& s, const Json& body) {
  std::string name = str(body, "repositoryName", true);
  std::string registry = registry_id(s, body);
  auto it = s.repositories.find(name);
  if (registry != s.account || it == s.repositories.end()) {
    throw repository_not_found(name, registry);
  }
  return it->second;
}

inline Image* by_digest(Repository& r, const std::string& digest) {
  for (auto& img : r.images) {
    if (img.digest == digest) return &img;
  }
  return nullptr;
}

inline Image* by_tag(Repository& r, const std::string& tag) {
  for (auto& img : r.images) {
    if (std::find(img.tags.begin(), img.tags.end(), tag) != img.tags.end()) return &img;
  }
  return nullptr;
}

inline Json create_repository(State& s, const Json& body) {
  std::string name = str(body, "repositoryName", true);
  if (name.size() < 2 || name.size() > 256 || !std::regex_match(name, kRepositoryName)) {
    throw invalid_parameter(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy "
        "regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
  }
  std::string mutability = str(body, "imageTagMutability");
  if (mutability.empty()) mutability = "MUTABLE";
  if (mutability != "MUTABLE" && mutability != "IMMUTABLE") {
    throw validation("'" + mutability + "'", "imageTagMutability",
                     "Member must satisfy enum value set: [IMMUTABLE, MUTABLE]");
  }
  if (s.repositories.contains(name)) {
    throw AwsError{400, "RepositoryAlreadyExistsException",
                   fmt::format("The repository with name '{}' already exists in the registry "
                               "with id '{}'",
                               name, s.account)};
  }
  Repository r;
  r.mutability = mutability;
  r.created_at = now_epoch();
  s.repositories[name] = r;
  return {{"repository", repository_json(s, name, r)}};
}

inline std::string infer_media_type(const Json& manifest) {
  if (manifest.contains("mediaType") && manifest["mediaType"].is_string()) {
    return manifest["mediaType"];
  }
  if (manifest.value("schemaVersion", 0) == 1) {
    return "application/vnd.docker.distribution.manifest.v1+json";
  }
  if (manifest.contains("manifests")) return "application/vnd.oci.image.index.v1+json";
  return "application/vnd.oci.image.manifest.v1+json";
}

inline Json put_image(State& s, const Json& body) {
  Repository& repo = repository(s, body);
  std::string name = str(body, "repositoryName");
  std::string manifest = str(body, "imageManifest", true);
  if (manifest.empty() || manifest.size() > 4194304) {
    throw validation("'...'", "imageManifest", "Member must have length between 1 and 4194304");
  }
  std::string digest = "sha256:" + aws::sha256_hex(manifest);
  std::string given_digest = str(body, "imageDigest");
  if (!given_digest.empty() && given_digest != digest) {
    throw AwsError{400, "ImageDigestDoesNotMatchException",
                   fmt::format("Invalid parameter at 'imageDigest' failed to satisfy constraint: "
                               "'The provided digest '{}' does not match the digest of the "
                               "manifest '{}''",
                               given_digest, digest)};
  }
  Json parsed;
  try {
    parsed = Json::parse(manifest);
  } catch (const Json::exception&) {
    throw invalid_parameter(
        "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON "
        "syntax'");
  }
  std::string media_type = str(body, "imageManifestMediaType");
  if (media_type.empty()) media_type = infer_media_type(parsed);
  if (parsed.contains("mediaType") && parsed["mediaType"] != media_type) {
    throw invalid_parameter(fmt::format(
        "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'Manifest "
        "media type '{}' does not match the mediaType in the manifest'",
        media_type));
  }
  // Like ECR, an index or manifest list can only be pushed after the manifests it references.
  std::vector<std::string> missing;
  if (parsed.contains("manifests") && parsed["manifests"].is_array()) {
    for (const auto& ref : parsed["manifests"]) {
      std::string child = ref.is_object() ? ref.value("digest", "") : "";
      if (!by_digest(repo, child)) missing.push_back(child);
    }
  }
  if (!missing.empty()) {
    throw AwsError{400, "ReferencedImagesNotFoundException",
                   fmt::format("The manifest list references images that do not exist in the "
                               "repository '{}': {}",
                               name, fmt::join(missing, ", "))};
  }
  std::string tag = str(body, "imageTag");
  if (body.contains("imageTag") && !std::regex_match(tag, kTag)) {
    throw invalid_parameter(
        fmt::format("Invalid parameter at 'imageTag' failed to satisfy constraint: 'Invalid "
                    "image tag '{}''",
                    tag));
  }
  Image* existing = by_digest(repo, digest);
  Image* tagged = tag.empty() ? nullptr : by_tag(repo, tag);
  if (existing && (tag.empty() || tagged == existing)) {
    throw AwsError{
        400, "ImageAlreadyExistsException",
        tag.empty()
            ? fmt::format("Image with digest '{}' already exists in the repository with name "
                          "'{}' in registry with id '{}'",
                          digest, name, s.account)
            : fmt::format("Image with digest '{}' and tag '{}' already exists in the repository "
                          "with name '{}' in registry with id '{}'",
                          digest, tag, name, s.account)};
  }
  if (tagged) {
    if (repo.mutability == "IMMUTABLE") {
      throw AwsError{400, "ImageTagAlreadyExistsException",
                     fmt::format("The image tag '{}' already exists in the '{}' repository and "
                                 "cannot be overwritten because the repository is immutable.",
                                 tag, name)};
    }
    std::erase(tagged->tags, tag);  // a tag names one image: pushing it elsewhere moves it
  }
  if (existing) {
    existing->tags.push_back(tag);
  } else {
    Image img{digest, manifest, media_type, {}, now_epoch()};
    if (!tag.empty()) img.tags.push_back(tag);
    repo.images.push_back(std::move(img));
  }
  Json image_id = {{"imageDigest", digest}};
  if (!tag.empty()) image_id["imageTag"] = tag;
  return {{"image",
           {{"registryId", s.account},
            {"repositoryName", name},
            {"imageId", image_id},
            {"imageManifest", manifest},
            {"imageManifestMediaType", media_type}}}};
}

inline Json describe_repositories(State& s, const Json& body) {
  Json names = list(body, "repositoryNames", 1, 100);
  std::string registry = registry_id(s, body);
  auto max_results = integer(body, "maxResults");
  std::string token = str(body, "nextToken");
  Json repos = Json::array();
  if (!names.empty()) {
    if (max_results || !token.empty()) {
      throw invalid_parameter(
          "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and "
          "nextToken cannot be used with repositoryNames'");
    }
    for (const auto& n : names) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      auto it = s.repositories.find(name);
      if (registry != s.account || it == s.repositories.end()) {
        throw repository_not_found(name, registry);
      }
      repos.push_back(repository_json(s, name, it->second));
    }
    return {{"repositories", repos}};
  }
  if (max_results && (*max_results < 1 || *max_results > 1000)) {
    throw validation(std::to_string(*max_results), "maxResults",
                     "Member must have value between 1 and 1000");
  }
  std::vector<std::string> all;
  if (registry == s.account) {
    for (const auto& [name, r] : s.repositories) all.push_back(name);
  }
  Page page = paginate(all.size(), token, max_results.value_or(100));
  for (std::size_t i = page.begin; i < page.end; ++i) {
    repos.push_back(repository_json(s, all[i], s.repositories.at(all[i])));
  }
  Json out = {{"repositories", repos}};
  if (!page.next_token.empty()) out["nextToken"] = page.next_token;
  return out;
}

inline Json image_id_json(const Json& id) {
  Json out = Json::object();
  if (id.contains("imageDigest")) out["imageDigest"] = id["imageDigest"];
  if (id.contains("imageTag")) out["imageTag"] = id["imageTag"];
  return out;
}

inline Json batch_get_image(State& s, const Json& body) {
  Repository& repo = repository(s, body);
  std::string name = str(body, "repositoryName");
  Json ids = list(body, "imageIds", 1, 100, true);
  Json accepted = list(body, "acceptedMediaTypes", 1, 100);
  Json images = Json::array();
  Json failures = Json::array();
  std::vector<Json> seen;
  for (const auto& id : ids) {
    if (!id.is_object())
      throw AwsError{400, "SerializationException", "imageIds: expected objects"};
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;  // ECR dedups ids
    seen.push_back(id);
    auto fail = [&](const char* code, const std::string& reason) {
      failures.push_back(
          {{"imageId", image_id_json(id)}, {"failureCode", code}, {"failureReason", reason}});
    };
    std::string tag = str(id, "imageTag");
    std::string digest = str(id, "imageDigest");
    bool has_tag = id.contains("imageTag"), has_digest = id.contains("imageDigest");
    if (!has_tag && !has_digest) {
      fail("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null");
      continue;
    }
    if (has_digest && !std::regex_match(digest, kDigest)) {
      fail("InvalidImageDigest", "Invalid image digest");
      continue;
    }
    if (has_tag && !std::regex_match(tag, kTag)) {
      fail("InvalidImageTag", "Invalid image tag");
      continue;
    }
    Image* img = has_tag ? by_tag(repo, tag) : by_digest(repo, digest);
    if (!img) {
      fail("ImageNotFound", "Requested image not found");
      continue;
    }
    if (has_tag && has_digest && img->digest != digest) {
      fail("ImageTagDoesNotMatchDigest",
           "Invalid request parameters: image tag does not match "
           "digest");
      continue;
    }
    if (!accepted.empty() &&
        std::find(accepted.begin(), accepted.end(), Json(img->media_type)) == accepted.end()) {
      fail("UnsupportedImageType",
           fmt::format("The image manifest media type '{}' is not one of the accepted media "
                       "types",
                       img->media_type));
      continue;
    }
    Json image_id = {{"imageDigest", img->digest}};
    if (has_tag) image_id["imageTag"] = tag;
    images.push_back({{"registryId", s.account},
                      {"repositoryName", name},
                      {"imageId", image_id},
                      {"imageManifest", img->manifest},
                      {"imageManifestMediaType", img->media_type}});
  }
  return {{"images", images}, {"failures", failures}};
}

// Layers plus config, as ECR reports imageSizeInBytes; the manifest's size when it has none.
inline long long image_size(const Image& img) {
  long long size = 0;
  try {
    Json m = Json::parse(img.manifest);
    for (const auto& layer : m.value("layers", Json::array())) size += layer.value("size", 0LL);
    if (m.contains("config")) size += m["config"].value("size", 0LL);
  } catch (const Json::exception&) {
  }
  return size > 0 ? size : static_cast<long long>(img.manifest.size());
}

inline Json image_detail(const State& s, const std::string& name, const Image& img) {
  Json d = {{"registryId", s.account}, {"repositoryName", name}, {"imageDigest", img.digest}};
  if (!img.tags.empty()) d["imageTags"] = img.tags;
  d["imageSizeInBytes"] = image_size(img);
  d["imagePushedAt"] = img.pushed_at;
  d["imageManifestMediaType"] = img.media_type;
  d["imageStatus"] = img.status;
  try {
    Json m = Json::parse(img.manifest);
    if (m.contains("config") && m["config"].contains("mediaType")) {
      d["artifactMediaType"] = m["config"]["mediaType"];
    }
  } catch (const Json::exception&) {
  }
  return d;
}

inline Json describe_images(State& s, const Json& body) {
  Repository& repo = repository(s, body);
  std::string name = str(body, "repositoryName");
  Json ids = list(body, "imageIds", 1, 100);
  auto max_results = integer(body, "maxResults");
  std::string token = str(body, "nextToken");
  std::string tag_status = "ANY";
  if (body.contains("filter")) tag_status = str(body["filter"], "tagStatus");
  if (tag_status.empty()) tag_status = "ANY";
  Json details = Json::array();
  if (!ids.empty()) {
    if (max_results || !token.empty()) {
      throw invalid_parameter(
          "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and "
          "nextToken cannot be used with imageIds'");
    }
    for (const auto& id : ids) {
      std::string tag = str(id, "imageTag"), digest = str(id, "imageDigest");
      Image* img = !tag.empty() ? by_tag(repo, tag) : by_digest(repo, digest);
      if (!img || (!tag.empty() && !digest.empty() && img->digest != digest)) {
        throw AwsError{400, "ImageNotFoundException",
                       fmt::format("The image with imageId {{imageDigest:'{}', imageTag:'{}'}} "
                                   "does not exist within the repository with name '{}' in the "
                                   "registry with id '{}'",
                                   digest.empty() ? "null" : digest, tag.empty() ? "null" : tag,
                                   name, s.account)};
      }
      details.push_back(image_detail(s, name, *img));
    }
    return {{"imageDetails", details}};
  }
  if (max_results && (*max_results < 1 || *max_results > 1000)) {
    throw validation(std::to_string(*max_results), "maxResults",
                     "Member must have value between 1 and 1000");
  }
  // Listing shows only ACTIVE images unless the filter asks for others (imageIds show any).
  std::string image_status = "ACTIVE";
  if (body.contains("filter") && !str(body["filter"], "imageStatus").empty()) {
    image_status = str(body["filter"], "imageStatus");
  }
  std::vector<const Image*> matching;
  for (const auto& img : repo.images) {
    bool tagged = !img.tags.empty();
    if (image_status != "ANY" && img.status != image_status) continue;
    if (tag_status == "ANY" || (tag_status == "TAGGED") == tagged) matching.push_back(&img);
  }
  Page page = paginate(matching.size(), token, max_results.value_or(100));
  for (std::size_t i = page.begin; i < page.end; ++i) {
    details.push_back(image_detail(s, name, *matching[i]));
  }
  Json out = {{"imageDetails", details}};
  if (!page.next_token.empty()) out["nextToken"] = page.next_token;
  return out;
}

// The URL is a path ("/_fake/blobs/REPO/DIGEST?..."): the server makes it absolute with the
// request's Host, since only it knows where it listens. Like S3's presigned URLs it carries its
// signature in the query.
inline Json get_download_url_for_layer(State& s, const Json& body) {
  Repository& repo = repository(s, body);
  std::string name = str(body, "repositoryName");
  std::string digest = str(body, "layerDigest", true);
  if (!std::regex_match(digest, kDigest)) {
    throw invalid_parameter(
        fmt::format("Invalid parameter at 'layerDigest' failed to satisfy constraint: 'Invalid "
                    "layer digest '{}''",
                    digest));
  }
  bool present = false;
  for (const auto& blob : repo.blobs)
    present = present || "sha256:" + aws::sha256_hex(blob) == digest;
  if (!present) {
    throw AwsError{400, "LayersNotFoundException",
                   fmt::format("The layer with digest '{}' does not exist in the repository with "
                               "name '{}' in the registry with id '{}'",
                               digest, name, registry_id(s, body))};
  }
  return {{"downloadUrl",
           fmt::format("/_fake/blobs/{}/{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600"
                       "&X-Amz-Signature={}",
                       name, digest, random_string(64, "0123456789abcdef"))},
          {"layerDigest", digest}};
}

// The blob a presigned URL names, or nullptr.
inline const std::string* find_blob(const State& s, const std::string& name,
                                    const std::string& digest) {
  auto it = s.repositories.find(name);
  if (it == s.repositories.end()) return nullptr;
  for (const auto& blob : it->second.blobs) {
    if ("sha256:" + aws::sha256_hex(blob) == digest) return &blob;
  }
  return nullptr;
}

inline Json get_authorization_token(State& s, const Json& body) {
  Json ids = list(body, "registryIds", 1, 10);
  Json data = Json::array();
  std::vector<std::string> registries;
  for (const auto& id : ids) registries.push_back(id.is_string() ? id.get<std::string>() : "");
  if (registries.empty()) registries.push_back(s.account);
  for (const auto& registry : registries) {
    data.push_back({{"authorizationToken", base64("AWS:" + s.ecr_password)},
                    {"expiresAt", now_epoch() + 12 * 3600},
                    {"proxyEndpoint",
                     fmt::format("https://{}.dkr.ecr.{}.amazonaws.com", registry, s.region)}});
  }
  return {{"authorizationData", data}};
}

}  // namespace imagegate::fake_aws::ecr
