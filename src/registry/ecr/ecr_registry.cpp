// The ECR backend in three phases, each one batch of concurrent calls:
//  1. DescribeRepositories, 100 names a call. One missing name fails a whole call, so the name is
//     read from the error, dropped and the rest asked again; when the message cannot be read, the
//     rest is asked name by name.
//  2. BatchGetImage, one call per repository with every tag (100 ids a call).
//  3. DescribeImages for the distinct digests found (100 a call): imageStatus, since an ARCHIVED
//     image is still listed and answered but cannot be pulled.
//  4. For platforms of single-platform manifests: GetDownloadUrlForLayer for each distinct config
//     blob, then the blobs themselves over plain HTTP.
// Any answer that does not fit the model leaves the tag in kError: nothing is found by default.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "registry/ecr/answers.hpp"
#include "registry/ecr/content_fetch.hpp"
#include "registry/ecr/ecr.hpp"
#include "registry/ecr/scan_answers.hpp"
#include "util/text.hpp"

namespace imagegate::registry::ecr {
namespace {

using aws::JsonCall;
using detail::string_field;
using nlohmann::json;

constexpr std::size_t kMaxNamesPerCall = 100;  // DescribeRepositories: RepositoryNameList max
constexpr std::size_t kMaxIdsPerCall = 100;    // BatchGetImage: ImageIdentifierList max
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::string_view kTargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";
constexpr std::string_view kNotFound = "RepositoryNotFoundException";

struct RepoInfo {
  RepositoryStatus status = RepositoryStatus::kError;
  std::string uri;
  std::string mutability;
  Error error;
};

// One unique tag of one query, with what phase 3 needs.
struct TagState {
  TagResult result;
  std::string manifest;
};

bool valid_repository_name(const std::string& name) {
  static const std::regex pattern("(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*");
  return name.size() >= 2 && name.size() <= 256 && std::regex_match(name, pattern);
}

void set_error(TagResult& tag, std::string code, std::string message) {
  tag.status = TagStatus::kError;
  tag.digest.clear();
  tag.platforms.clear();
  tag.error = Error{std::move(code), std::move(message)};
}

class EcrRegistry : public Registry {
 public:
  explicit EcrRegistry(EcrOptions options) : options_(std::move(options)) {}

  std::string describe() const override {
    return EcrLocation{options_.session->region(), options_.registry_id}.to_string();
  }

  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override;

  std::vector<ContentResult> fetch(const std::vector<ContentRequest>& requests) override {
    return fetch_content(options_, requests);
  }

  bool has_scans() const override { return true; }
  std::vector<ScanResult> read_scans(const std::vector<ScanRequest>& requests) override;

 private:
  JsonCall make_call(std::string_view operation, json body) const {
    if (!options_.registry_id.empty()) body["registryId"] = options_.registry_id;
    return JsonCall{"ecr", std::string(kTargetPrefix) + std::string(operation), std::move(body)};
  }

  std::vector<aws::AwsResult<json>> call_all(const std::vector<JsonCall>& calls) {
    const std::size_t step =
        options_.concurrency > 0 ? static_cast<std::size_t>(options_.concurrency) : calls.size();
    std::vector<aws::AwsResult<json>> results;
    for (std::size_t i = 0; i < calls.size(); i += step) {
      const std::vector<JsonCall> part(
          calls.begin() + static_cast<std::ptrdiff_t>(i),
          calls.begin() + static_cast<std::ptrdiff_t>(std::min(calls.size(), i + step)));
      for (auto& result : options_.session->client().call_batch(part)) {
        results.push_back(std::move(result));
      }
    }
    return results;
  }

  std::map<std::string, RepoInfo> describe_repositories(const std::vector<std::string>& names);
  void read_repositories(const std::vector<std::string>& asked, const json& answer,
                         std::map<std::string, RepoInfo>& out);
  void read_images(const std::vector<std::string>& asked, const json& answer,
                   std::map<std::string, TagState>& tags);
  void resolve_platforms(const std::vector<TagQuery>& queries,
                         std::vector<std::map<std::string, TagState>>& tags);
  void resolve_status(const std::vector<TagQuery>& queries,
                      std::vector<std::map<std::string, TagState>>& tags);

  EcrOptions options_;
};

std::map<std::string, RepoInfo> EcrRegistry::describe_repositories(
    const std::vector<std::string>& names) {
  std::map<std::string, RepoInfo> out;
  std::vector<std::vector<std::string>> pending;
  for (std::size_t i = 0; i < names.size(); i += kMaxNamesPerCall) {
    pending.emplace_back(
        names.begin() + static_cast<std::ptrdiff_t>(i),
        names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), i + kMaxNamesPerCall)));
  }
  std::vector<std::string> one_by_one;
  auto describe_call = [this](const std::vector<std::string>& batch) {
    return make_call("DescribeRepositories", json{{"repositoryNames", batch}});
  };

  while (!pending.empty()) {
    std::vector<JsonCall> calls;
    for (const auto& batch : pending) calls.push_back(describe_call(batch));
    auto results = call_all(calls);
    std::vector<std::vector<std::string>> again;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      auto& batch = pending[k];
      if (results[k]) {
        read_repositories(batch, *results[k], out);
        continue;
      }
      const aws::AwsError& error = results[k].error();
      if (error.aws_code != kNotFound) {
        for (const auto& name : batch)
          out[name] = RepoInfo{RepositoryStatus::kError, "", "", error.to_error()};
        continue;
      }
      const auto missing = detail::missing_repository_name(error.message);
      const auto it = missing ? std::ranges::find(batch, *missing) : batch.end();
      if (it == batch.end()) {
        one_by_one.insert(one_by_one.end(), batch.begin(), batch.end());
        continue;
      }
      out[*it] = RepoInfo{RepositoryStatus::kMissing, "", "", {}};
      batch.erase(it);
      if (!batch.empty()) again.push_back(std::move(batch));
    }
    pending = std::move(again);
  }

  if (!one_by_one.empty()) {
    std::vector<JsonCall> calls;
    for (const auto& name : one_by_one) calls.push_back(describe_call({name}));
    auto results = call_all(calls);
    for (std::size_t k = 0; k < one_by_one.size(); ++k) {
      const std::string& name = one_by_one[k];
      if (results[k]) {
        read_repositories({name}, *results[k], out);
      } else if (results[k].error().aws_code == kNotFound) {
        out[name] = RepoInfo{RepositoryStatus::kMissing, "", "", {}};
      } else {
        out[name] = RepoInfo{RepositoryStatus::kError, "", "", results[k].error().to_error()};
      }
    }
  }
  return out;
}

void EcrRegistry::read_repositories(const std::vector<std::string>& asked, const json& answer,
                                    std::map<std::string, RepoInfo>& out) {
  std::set<std::string> seen;
  if (answer.contains("repositories") && answer["repositories"].is_array()) {
    for (const auto& repo : answer["repositories"]) {
      const std::string name = string_field(repo, "repositoryName");
      if (std::ranges::find(asked, name) == asked.end()) continue;
      seen.insert(name);
      out[name] = RepoInfo{RepositoryStatus::kExists,
                           string_field(repo, "repositoryUri"),
                           string_field(repo, "imageTagMutability"),
                           {}};
    }
  }
  for (const auto& name : asked) {
    if (!seen.contains(name)) {
      out[name] = RepoInfo{
          RepositoryStatus::kError, "", "",
          Error{"BAD_RESPONSE", fmt::format("DescribeRepositories answered without repository {}",
                                            util::quote(name))}};
    }
  }
}

void EcrRegistry::read_images(const std::vector<std::string>& asked, const json& answer,
                              std::map<std::string, TagState>& tags) {
  std::map<std::string, std::vector<TagState>> answers;
  const auto list = [&answer](const char* key) {
    return answer.contains(key) && answer[key].is_array() ? answer[key] : json::array();
  };
  const bool shape_ok = (!answer.contains("images") || answer["images"].is_array()) &&
                        (!answer.contains("failures") || answer["failures"].is_array());
  for (const auto& image : list("images")) {
    const json id = image.is_object() && image.contains("imageId") ? image["imageId"] : json();
    const std::string tag = string_field(id, "imageTag");
    if (std::ranges::find(asked, tag) == asked.end()) continue;
    TagState state;
    state.result.tag = tag;
    state.manifest = string_field(image, "imageManifest");
    const std::string digest = string_field(id, "imageDigest");
    if (auto checked = detail::check_manifest_digest(state.manifest, digest); !checked) {
      set_error(state.result, checked.error().code, checked.error().message);
    } else {
      state.result.status = TagStatus::kFound;
      state.result.digest = digest;
      state.result.media_type = string_field(image, "imageManifestMediaType");
      if (state.result.media_type.empty()) {
        state.result.media_type =
            string_field(json::parse(state.manifest, nullptr, false), "mediaType");
      }
    }
    answers[tag].push_back(std::move(state));
  }
  for (const auto& failure : list("failures")) {
    const json id =
        failure.is_object() && failure.contains("imageId") ? failure["imageId"] : json();
    const std::string tag = string_field(id, "imageTag");
    if (std::ranges::find(asked, tag) == asked.end()) continue;
    TagState state;
    state.result = detail::image_failure(tag, string_field(failure, "failureCode"),
                                         string_field(failure, "failureReason"));
    answers[tag].push_back(std::move(state));
  }

  for (const auto& tag : asked) {
    TagState& state = tags[tag];
    state.result.tag = tag;
    auto found = answers.find(tag);
    if (!shape_ok) {
      set_error(state.result, "BAD_RESPONSE", "BatchGetImage answer does not fit the ECR model");
    } else if (found == answers.end()) {
      set_error(state.result, "BAD_RESPONSE", "BatchGetImage gave no answer for tag");
    } else if (found->second.size() > 1) {
      set_error(state.result, "BAD_RESPONSE",
                fmt::format("BatchGetImage answered {} times for tag", found->second.size()));
    } else {
      state = std::move(found->second.front());
    }
  }
}

void EcrRegistry::resolve_platforms(const std::vector<TagQuery>& queries,
                                    std::vector<std::map<std::string, TagState>>& tags) {
  // Tags sharing one config blob in one repository share its download.
  std::map<std::pair<std::string, std::string>, std::vector<TagResult*>> blobs;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (!queries[q].want_platforms) continue;
    for (auto& [tag, state] : tags[q]) {
      if (state.result.status != TagStatus::kFound) continue;
      auto info = detail::read_manifest(state.manifest, state.result.media_type);
      if (!info) {
        set_error(state.result, info.error().code, info.error().message);
      } else if (info->is_index) {
        state.result.platforms = std::move(info->platforms);
        state.result.entries = std::move(info->entries);
      } else {
        blobs[{queries[q].repository, info->config_digest}].push_back(&state.result);
      }
    }
  }
  if (blobs.empty()) return;

  std::vector<JsonCall> calls;
  for (const auto& [key, unused] : blobs) {
    calls.push_back(make_call("GetDownloadUrlForLayer",
                              json{{"repositoryName", key.first}, {"layerDigest", key.second}}));
  }
  auto urls = call_all(calls);
  std::vector<http::Request> downloads;
  std::vector<std::vector<TagResult*>*> waiting;
  std::vector<std::string> digests;
  std::size_t k = 0;
  for (auto& [key, results] : blobs) {
    auto& url = urls[k++];
    const std::string what =
        fmt::format("config blob {} of {}", key.second, util::quote(key.first));
    std::optional<Error> error;
    if (!url) {
      error = url.error().to_error();
    } else if (string_field(*url, "downloadUrl").empty()) {
      error = Error{"BAD_RESPONSE", "GetDownloadUrlForLayer answered without a downloadUrl"};
    } else if (options_.http == nullptr) {
      error = Error{"BAD_RESPONSE", "no HTTP client to download config blobs with"};
    }
    if (error) {
      for (TagResult* tag : results) set_error(*tag, error->code, what + ": " + error->message);
      continue;
    }
    http::Request request;
    request.url = string_field(*url, "downloadUrl");
    request.max_body_bytes = kMaxConfigBytes;
    downloads.push_back(std::move(request));
    waiting.push_back(&results);
    digests.push_back(key.second);
  }
  if (downloads.empty()) return;
  const auto responses = options_.http->run(downloads);
  for (std::size_t i = 0; i < downloads.size(); ++i) {
    const std::string what = fmt::format("config blob {}", digests[i]);
    Result<Platform> platform = fail("BAD_RESPONSE", "no response");
    if (i < responses.size()) {
      const http::Response& response = responses[i];
      // The presigned URL carries a signature: it is never put into a message.
      if (!response.error_code.empty()) {
        platform = fail(response.error_code,
                        fmt::format("download failed: {}", util::escape_display(response.error)));
      } else if (response.status == 401 || response.status == 403) {
        platform = fail("AUTH_FAILED", fmt::format("download refused: HTTP {}", response.status));
      } else if (!response.ok()) {
        platform = fail("BAD_RESPONSE", fmt::format("download failed: HTTP {}", response.status));
      } else {
        platform = detail::read_config_platform(response.body, digests[i]);
      }
    }
    for (TagResult* tag : *waiting[i]) {
      if (platform) {
        tag->platforms = {*platform};
      } else {
        set_error(*tag, platform.error().code, what + ": " + platform.error().message);
      }
    }
  }
}

void EcrRegistry::resolve_status(const std::vector<TagQuery>& queries,
                                 std::vector<std::map<std::string, TagState>>& tags) {
  // repository -> digest -> the tags found on it (tags of several queries may share one).
  std::map<std::string, std::map<std::string, std::vector<TagResult*>>> found;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    for (auto& [tag, state] : tags[q]) {
      if (state.result.status == TagStatus::kFound) {
        found[queries[q].repository][state.result.digest].push_back(&state.result);
      }
    }
  }
  std::vector<JsonCall> calls;
  std::vector<std::vector<std::vector<TagResult*>>> asked;  // per call, per id: its tags
  for (const auto& [repository, digests] : found) {
    std::vector<std::pair<std::string, std::vector<TagResult*>>> list(digests.begin(),
                                                                      digests.end());
    for (std::size_t i = 0; i < list.size(); i += kMaxIdsPerCall) {
      json ids = json::array();
      std::vector<std::vector<TagResult*>> part;
      for (std::size_t k = i; k < std::min(list.size(), i + kMaxIdsPerCall); ++k) {
        ids.push_back({{"imageDigest", list[k].first}});
        part.push_back(list[k].second);
      }
      calls.push_back(make_call(
          "DescribeImages", json{{"repositoryName", repository}, {"imageIds", std::move(ids)}}));
      asked.push_back(std::move(part));
    }
  }
  if (calls.empty()) return;
  auto answers = call_all(calls);
  for (std::size_t k = 0; k < calls.size(); ++k) {
    const std::string repository = calls[k].body.value("repositoryName", "");
    if (!answers[k]) {
      const aws::AwsError& error = answers[k].error();
      for (const auto& tag_list : asked[k]) {
        for (TagResult* tag : tag_list) {
          if (error.aws_code == "ImageNotFoundException") {
            // BatchGetImage found it; DescribeImages does not list it: not an ACTIVE image.
            tag->image_status = "NOT_LISTED";
          } else {
            set_error(*tag, error.code, "DescribeImages: " + error.message);
          }
        }
      }
      continue;
    }
    const json details = answers[k]->is_object() && answers[k]->contains("imageDetails") &&
                                 (*answers[k])["imageDetails"].is_array()
                             ? (*answers[k])["imageDetails"]
                             : json::array();
    const json& ids = calls[k].body["imageIds"];
    for (std::size_t i = 0; i < asked[k].size(); ++i) {
      const std::string digest = ids[i].value("imageDigest", "");
      const auto detail = std::find_if(details.begin(), details.end(), [&](const json& d) {
        return string_field(d, "imageDigest") == digest;
      });
      for (TagResult* tag : asked[k][i]) {
        if (detail == details.end()) {
          set_error(*tag, "BAD_RESPONSE",
                    fmt::format("DescribeImages gave no imageDetails for {} in {}", digest,
                                util::quote(repository)));
          continue;
        }
        // Regions and partitions without archival answer no imageStatus: such an image has
        // only ever been ACTIVE.
        const std::string status = string_field(*detail, "imageStatus");
        tag->image_status = status.empty() ? "ACTIVE" : status;
      }
    }
  }
}

std::vector<RepositoryResult> EcrRegistry::resolve(const std::vector<TagQuery>& queries) {
  std::vector<std::string> names;
  std::map<std::string, RepoInfo> repos;
  for (const auto& query : queries) {
    if (!valid_repository_name(query.repository)) {
      repos[query.repository] = RepoInfo{
          RepositoryStatus::kError, "", "",
          Error{"REPOSITORY_NAME_INVALID", fmt::format("{} is not a valid ECR repository name",
                                                       util::quote(query.repository))}};
    } else if (std::ranges::find(names, query.repository) == names.end()) {
      names.push_back(query.repository);
    }
  }
  repos.merge(describe_repositories(names));

  std::vector<RepositoryResult> results(queries.size());
  std::vector<std::map<std::string, TagState>> tags(queries.size());
  std::vector<JsonCall> calls;
  std::vector<std::pair<std::size_t, std::vector<std::string>>> asked;  // query, tags of a call
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const TagQuery& query = queries[q];
    const RepoInfo& repo = repos[query.repository];
    RepositoryResult& result = results[q];
    result.repository = query.repository;
    result.status = repo.status;
    result.uri = repo.uri;
    result.error = repo.error;
    if (repo.status != RepositoryStatus::kExists) continue;
    std::vector<std::string> unique;
    for (const auto& tag : query.tags) {
      if (std::ranges::find(unique, tag) == unique.end()) unique.push_back(tag);
    }
    for (const auto& tag : unique) {
      if (repo.mutability != "IMMUTABLE" && detail::is_moving_tag(tag)) {
        result.warnings.push_back(Error{
            "TAG_MUTABLE",
            fmt::format("repository {} is {}: tag {} can be moved after the gate; pin digests "
                        "(imagegate pin) or make the repository IMMUTABLE",
                        util::quote(query.repository),
                        repo.mutability.empty() ? "not IMMUTABLE" : repo.mutability,
                        util::quote(tag))});
      }
    }
    for (std::size_t i = 0; i < unique.size(); i += kMaxIdsPerCall) {
      std::vector<std::string> part(unique.begin() + static_cast<std::ptrdiff_t>(i),
                                    unique.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                         unique.size(), i + kMaxIdsPerCall)));
      json ids = json::array();
      for (const auto& tag : part) ids.push_back({{"imageTag", tag}});
      calls.push_back(
          make_call("BatchGetImage", json{{"repositoryName", query.repository},
                                          {"imageIds", std::move(ids)},
                                          {"acceptedMediaTypes",
                                           {detail::kOciIndex, detail::kOciManifest,
                                            detail::kDockerList, detail::kDockerManifest}}}));
      asked.emplace_back(q, std::move(part));
    }
  }

  auto answers = call_all(calls);
  for (std::size_t k = 0; k < calls.size(); ++k) {
    const auto& [q, part] = asked[k];
    if (answers[k]) {
      read_images(part, *answers[k], tags[q]);
      continue;
    }
    const aws::AwsError& error = answers[k].error();
    if (error.aws_code == kNotFound) {
      // Deleted since DescribeRepositories answered.
      results[q].status = RepositoryStatus::kMissing;
      results[q].warnings.clear();
      continue;
    }
    for (const auto& tag : part) {
      tags[q][tag].result.tag = tag;
      set_error(tags[q][tag].result, error.code, error.message);
    }
  }

  resolve_status(queries, tags);
  resolve_platforms(queries, tags);

  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (results[q].status != RepositoryStatus::kExists) continue;
    for (const auto& tag : queries[q].tags) {
      TagState& state = tags[q][tag];
      // BatchGetImage carried the bytes already: the provenance step need not ask again.
      if (queries[q].want_manifest && state.result.status == TagStatus::kFound) {
        state.result.manifest = state.manifest;
      }
      results[q].tags.push_back(state.result);
    }
  }
  return results;
}

// DescribeImageScanFindings per distinct digest, all digests' first pages in one concurrent
// batch, then the next pages of those that have more (maxResults 1000, the model's maximum).
std::vector<ScanResult> EcrRegistry::read_scans(const std::vector<ScanRequest>& requests) {
  std::vector<ScanResult> out(requests.size());
  std::map<std::pair<std::string, std::string>, std::size_t> first;  // (repository, digest)
  struct Page {
    std::size_t index;
    std::string token;
  };
  std::vector<Page> pending;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (first.emplace(std::make_pair(requests[i].repository, requests[i].digest), i).second) {
      pending.push_back({i, ""});
    }
  }
  std::vector<std::set<std::string>> tokens(requests.size());
  while (!pending.empty()) {
    std::vector<JsonCall> calls;
    for (const auto& page : pending) {
      json body = {{"repositoryName", requests[page.index].repository},
                   {"imageId", {{"imageDigest", requests[page.index].digest}}},
                   {"maxResults", 1000}};
      if (!page.token.empty()) body["nextToken"] = page.token;
      calls.push_back(make_call("DescribeImageScanFindings", std::move(body)));
    }
    auto results = call_all(calls);
    std::vector<Page> next;
    for (std::size_t k = 0; k < pending.size() && k < results.size(); ++k) {
      ScanResult& scan = out[pending[k].index];
      if (!results[k]) {
        detail::scan_call_failed(scan, results[k].error().aws_code, results[k].error().message);
        continue;
      }
      std::string token = detail::read_scan_page(*results[k], scan);
      if (token.empty()) continue;
      if (!tokens[pending[k].index].insert(token).second) {
        scan.state = ScanState::kFailed;
        scan.error = Error{"SCAN_FAILED",
                           "DescribeImageScanFindings answered a nextToken it had "
                           "answered before; the findings were not judged"};
        continue;
      }
      next.push_back({pending[k].index, std::move(token)});
    }
    pending = std::move(next);
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::size_t source = first.at({requests[i].repository, requests[i].digest});
    if (source == i) {
      detail::finish_scan(out[i]);
    } else {
      out[i] = out[source];
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Registry> make_ecr_registry(const EcrOptions& options) {
  if (options.session == nullptr) throw UsageError("the ECR registry needs an AWS session");
  return std::make_unique<EcrRegistry>(options);
}

}  // namespace imagegate::registry::ecr
