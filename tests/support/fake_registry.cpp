#include "support/fake_registry.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "auth/auth.hpp"
#include "registry/content.hpp"

namespace imagegate::testing {

namespace {

using registry::sha256_digest;

std::string path_of(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string request_header(const http::Request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return value;
    }
  }
  return "";
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> form_values(std::string_view text) {
  std::map<std::string, std::string> values;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos) {
      values[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return values;
}

http::Response json_response(long status, const std::string& body) {
  http::Response response;
  response.status = status;
  response.attempts = 1;
  response.body = body;
  response.headers.emplace_back("content-type", "application/json");
  return response;
}

http::Response error_response(long status, const std::string& code) {
  return json_response(status,
                       nlohmann::json{{"errors", {{{"code", code}, {"message", code}}}}}.dump());
}

}  // namespace

std::string config_blob(const std::string& os, const std::string& arch,
                        const std::string& variant) {
  nlohmann::json config = {{"os", os}, {"architecture", arch}, {"rootfs", {{"type", "layers"}}}};
  if (!variant.empty()) config["variant"] = variant;
  return config.dump();
}

std::string image_manifest(const std::string& config_digest, std::size_t config_size) {
  return nlohmann::json{{"schemaVersion", 2},
                        {"mediaType", registry::kOciManifest},
                        {"config",
                         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", config_digest},
                          {"size", config_size}}},
                        {"layers", nlohmann::json::array()}}
      .dump();
}

std::string image_index(const std::vector<std::pair<std::string, std::string>>& digest_platforms) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& [digest, platform] : digest_platforms) {
    auto parsed = registry::Platform::parse(platform).value();
    nlohmann::json p = {{"os", parsed.os}, {"architecture", parsed.architecture}};
    if (!parsed.variant.empty()) p["variant"] = parsed.variant;
    manifests.push_back({{"mediaType", registry::kOciManifest},
                         {"digest", digest},
                         {"size", 100},
                         {"platform", p}});
  }
  return nlohmann::json{
      {"schemaVersion", 2}, {"mediaType", registry::kOciIndex}, {"manifests", manifests}}
      .dump();
}

void FakeRegistry::add_repository(const std::string& repository) {
  std::lock_guard lock(mutex_);
  repos_[repository];
}

void FakeRegistry::add_blob(const std::string& repository, const std::string& bytes) {
  std::lock_guard lock(mutex_);
  repos_[repository].blobs[sha256_digest(bytes)] = bytes;
}

std::string FakeRegistry::add_image(const std::string& repository,
                                    const std::vector<std::string>& tags, const std::string& os,
                                    const std::string& arch, const std::string& variant) {
  const std::string config = config_blob(os, arch, variant);
  add_blob(repository, config);
  const std::string manifest = image_manifest(sha256_digest(config), config.size());
  const std::string digest = sha256_digest(manifest);
  std::lock_guard lock(mutex_);
  auto& repo = repos_[repository];
  repo.manifests[digest] = FakeImage{manifest, std::string(registry::kOciManifest), digest};
  for (const auto& tag : tags) repo.tags[tag] = digest;
  return digest;
}

std::string FakeRegistry::add_index(const std::string& repository,
                                    const std::vector<std::string>& tags,
                                    const std::vector<std::string>& platforms) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& platform : platforms) {
    auto p = registry::Platform::parse(platform).value();
    entries.emplace_back(add_image(repository, {}, p.os, p.architecture, p.variant), platform);
  }
  const std::string index = image_index(entries);
  const std::string digest = sha256_digest(index);
  std::lock_guard lock(mutex_);
  auto& repo = repos_[repository];
  repo.manifests[digest] = FakeImage{index, std::string(registry::kOciIndex), digest};
  for (const auto& tag : tags) repo.tags[tag] = digest;
  return digest;
}

bool FakeRegistry::authorized(const http::Request& request, const std::string& repository,
                              http::Response& challenge) {
  const std::string given = request_header(request, "Authorization");
  if (!given.empty()) authorizations.push_back(given);
  switch (auth) {
    case FakeAuth::kNone:
      return true;
    case FakeAuth::kBasic:
      if (given == auth::basic_authorization({username, password, ""})) return true;
      challenge = error_response(401, "UNAUTHORIZED");
      challenge.headers.emplace_back("www-authenticate", "Basic realm=\"fake\"");
      return false;
    case FakeAuth::kBearer:
      if (!repository.empty() && given == "Bearer tok:" + repository) return true;
      if (repository.empty() && given.starts_with("Bearer tok:")) return true;
      challenge = error_response(401, "UNAUTHORIZED");
      challenge.headers.emplace_back(
          "www-authenticate",
          repository.empty()
              ? fmt::format("Bearer realm=\"{}\",service=\"{}\"", realm, service)
              : fmt::format("Bearer realm=\"{}\",service=\"{}\",scope=\"repository:{}:pull\"",
                            realm, service, repository));
      return false;
  }
  return false;
}

http::Response FakeRegistry::handle(const http::Request& request) {
  std::lock_guard lock(mutex_);
  const std::string full_path = path_of(request.url);
  log.push_back(request.method + " " + full_path);
  const std::size_t q = full_path.find('?');
  const std::string path = full_path.substr(0, q);
  const std::string query = q == std::string::npos ? "" : full_path.substr(q + 1);

  if (path == "/token") {
    const auto values = form_values(request.method == "POST" ? request.body : query);
    const std::string scope = values.contains("scope") ? values.at("scope") : "";
    const std::string given = request_header(request, "Authorization");
    if (!given.empty()) authorizations.push_back(given);
    bool ok = anonymous_pull || given == auth::basic_authorization({username, password, ""});
    if (request.method == "POST") {
      ok = values.contains("refresh_token") && values.at("refresh_token") == "id-token-xyz";
    }
    if (!ok || values.count("service") == 0 || values.at("service") != service) {
      return error_response(401, "DENIED");
    }
    // scope "repository:<name>:pull" -> token "tok:<name>".
    std::string name = scope;
    if (name.starts_with("repository:")) name = name.substr(11);
    name = name.substr(0, name.rfind(':'));
    return json_response(
        200, nlohmann::json{{request.method == "POST" ? "access_token" : "token", "tok:" + name}}
                 .dump());
  }
  http::Response challenge;
  if (path == "/v2/" || path == "/v2") {
    if (!authorized(request, "", challenge)) return challenge;
    return json_response(200, "{}");
  }
  if (!path.starts_with("/v2/")) return error_response(404, "NOT_FOUND");
  std::string kind;
  std::size_t cut = std::string::npos;
  for (const char* k : {"/manifests/", "/blobs/", "/tags/list"}) {
    const std::size_t at = path.rfind(k);
    if (at != std::string::npos && (cut == std::string::npos || at > cut)) {
      cut = at;
      kind = k;
    }
  }
  if (cut == std::string::npos) return error_response(404, "NOT_FOUND");
  const std::string repository = path.substr(4, cut - 4);
  const std::string reference = path.substr(cut + kind.size());
  if (!authorized(request, repository, challenge)) return challenge;
  if (fail_status != 0) return error_response(fail_status, "UNAVAILABLE");

  const bool head = request.method == "HEAD";
  auto strip = [&](http::Response response) {
    if (head) response.body.clear();
    return response;
  };
  const auto repo = repos_.find(repository);
  if (repo == repos_.end()) return strip(error_response(404, "NAME_UNKNOWN"));
  if (kind == "/tags/list") {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& [tag, digest] : repo->second.tags) tags.push_back(tag);
    return json_response(200, nlohmann::json{{"name", repository}, {"tags", tags}}.dump());
  }
  if (kind == "/blobs/") {
    const auto blob = repo->second.blobs.find(reference);
    if (blob == repo->second.blobs.end()) return strip(error_response(404, "BLOB_UNKNOWN"));
    http::Response response = json_response(200, head ? "" : blob->second);
    response.headers.emplace_back("docker-content-digest", reference);
    return response;
  }
  std::string digest = reference;
  if (!reference.starts_with("sha256:")) {
    const auto tag = repo->second.tags.find(reference);
    if (tag == repo->second.tags.end()) return strip(error_response(404, "MANIFEST_UNKNOWN"));
    digest = tag->second;
  }
  const auto image = repo->second.manifests.find(digest);
  if (image == repo->second.manifests.end()) {
    return strip(error_response(404, "MANIFEST_UNKNOWN"));
  }
  if (require_accept &&
      request_header(request, "Accept").find(image->second.media_type) == std::string::npos) {
    return strip(error_response(404, "MANIFEST_UNKNOWN"));
  }
  http::Response response;
  response.status = 200;
  response.attempts = 1;
  response.headers.emplace_back("content-type", image->second.media_type);
  if (digest_header) response.headers.emplace_back("docker-content-digest", digest);
  if (!head) response.body = image->second.manifest + (corrupt_get_body ? " " : "");
  return response;
}

std::vector<http::Response> CannedClient::run(const std::vector<http::Request>& batch) {
  batches.push_back(batch.size());
  std::vector<http::Response> responses;
  for (const auto& request : batch) {
    requests.push_back(request);
    responses.push_back(handler_(request));
  }
  return responses;
}

std::vector<std::string> CannedClient::lines() const {
  std::vector<std::string> out;
  for (const auto& r : requests) out.push_back(r.method + " " + r.url);
  return out;
}

void serve_fake_registry(httplib::Server& server, FakeRegistry& registry) {
  const auto handler = [&registry](const httplib::Request& req, httplib::Response& res) {
    http::Request request;
    request.method = req.method;
    request.url = "http://127.0.0.1" + req.target;
    request.body = req.body;
    for (const auto& [name, value] : req.headers) request.headers.emplace_back(name, value);
    const http::Response response = registry.handle(request);
    res.status = static_cast<int>(response.status);
    std::string content_type = "application/octet-stream";
    for (const auto& [name, value] : response.headers) {
      if (name == "content-type") {
        content_type = value;
      } else {
        res.set_header(name, value);
      }
    }
    res.set_content(response.body, content_type);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
}

}  // namespace imagegate::testing
