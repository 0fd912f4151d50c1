// A small OCI registry with the distribution-spec 1.1 referrers API, for the tests of the
// referrers discovery path (Debian's docker-registry 2.8 has no referrers API). In memory, on
// 127.0.0.1; enough of the spec for skopeo to push to it and for imagegate to read from it:
//
//   oci_referrers [--port N]
//
//   GET  /v2/                                       200 {}
//   HEAD|GET /v2/<name>/blobs/<digest>              200 | 404 BLOB_UNKNOWN
//   POST /v2/<name>/blobs/uploads/[?digest=D]       202 Location (or 201: monolithic)
//   PATCH /v2/<name>/blobs/uploads/<id>             202 (chunk appended)
//   PUT  /v2/<name>/blobs/uploads/<id>?digest=D     201 (digest checked: 400 DIGEST_INVALID)
//   HEAD|GET /v2/<name>/manifests/<tag|digest>      200 | 404 MANIFEST_UNKNOWN / NAME_UNKNOWN
//   PUT  /v2/<name>/manifests/<tag|digest>          201; a manifest with "subject" becomes a
//                                                   referrer of it (OCI-Subject header)
//   GET  /v2/<name>/referrers/<digest>[?artifactType=T]
//                                                   200 image index of the referrers (filtered:
//                                                   OCI-Filters-Applied: artifactType)
//   GET  /v2/<name>/tags/list                       200 | 404 NAME_UNKNOWN
//   POST /_fake/faults {"referrersStatus": N}       the referrers endpoint answers N (0: normal)
//   GET  /_fake/log                                 ["GET /v2/... 200", ...]: every request
//
// The first line on stdout is the port. Stop it with SIGTERM.
#include <httplib.h>
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "registry/content.hpp"
#include "util/text.hpp"

namespace {

using nlohmann::json;

struct Manifest {
  std::string body;
  std::string media_type;
};

struct Repository {
  std::map<std::string, std::string> blobs;                // digest -> bytes
  std::map<std::string, Manifest> manifests;               // digest -> manifest
  std::map<std::string, std::string> tags;                 // tag -> digest
  std::map<std::string, std::set<std::string>> referrers;  // subject digest -> manifests
};

class Registry {
 public:
  void serve(httplib::Server& server) {
    server.Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    server.Get(R"(/v2/(.+)/blobs/(sha256:[0-9a-f]{64}))",
               [this](const httplib::Request& req, httplib::Response& res) { blob(req, res); });
    server.Post(R"(/v2/(.+)/blobs/uploads/)",
                [this](const httplib::Request& req, httplib::Response& res) { start(req, res); });
    server.Patch(R"(/v2/(.+)/blobs/uploads/([0-9a-f]+))",
                 [this](const httplib::Request& req, httplib::Response& res) { chunk(req, res); });
    server.Put(R"(/v2/(.+)/blobs/uploads/([0-9a-f]+))",
               [this](const httplib::Request& req, httplib::Response& res) { finish(req, res); });
    server.Get(R"(/v2/(.+)/manifests/([A-Za-z0-9_:.-]+))",
               [this](const httplib::Request& req, httplib::Response& res) { manifest(req, res); });
    server.Put(R"(/v2/(.+)/manifests/([A-Za-z0-9_:.-]+))",
               [this](const httplib::Request& req, httplib::Response& res) { put(req, res); });
    server.Get(
        R"(/v2/(.+)/referrers/(sha256:[0-9a-f]{64}))",
        [this](const httplib::Request& req, httplib::Response& res) { referrers(req, res); });
    server.Get(R"(/v2/(.+)/tags/list)",
               [this](const httplib::Request& req, httplib::Response& res) { tags(req, res); });
    server.Post("/_fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
      const auto doc = json::parse(req.body, nullptr, false);
      if (!doc.is_object()) {
        res.status = 400;
        return;
      }
      std::lock_guard lock(mutex_);
      referrers_status_ = doc.value("referrersStatus", 0);
      res.set_content("{}", "application/json");
    });
    server.Get("/_fake/log", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      res.set_content(json(log_).dump(), "application/json");
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (req.path.starts_with("/_fake/")) return;
      std::lock_guard lock(mutex_);
      log_.push_back(req.method + " " + req.target + " " + std::to_string(res.status));
      std::cerr << log_.back() << "\n";
    });
  }

 private:
  static void error(httplib::Response& res, int status, const std::string& code) {
    res.status = status;
    res.set_content(json{{"errors", {{{"code", code}, {"message", code}}}}}.dump(),
                    "application/json");
  }

  void blob(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto repo = repos_.find(req.matches[1]);
    if (repo == repos_.end()) return error(res, 404, "NAME_UNKNOWN");
    const auto it = repo->second.blobs.find(req.matches[2]);
    if (it == repo->second.blobs.end()) return error(res, 404, "BLOB_UNKNOWN");
    res.set_header("Docker-Content-Digest", it->first);
    res.set_content(it->second, "application/octet-stream");
  }

  void start(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const std::string name = req.matches[1];
    if (req.has_param("digest")) {
      const std::string digest = req.get_param_value("digest");
      if (imagegate::registry::sha256_digest(req.body) != digest) {
        return error(res, 400, "DIGEST_INVALID");
      }
      repos_[name].blobs[digest] = req.body;
      res.status = 201;
      res.set_header("Location", "/v2/" + name + "/blobs/" + digest);
      return;
    }
    const std::string id = imagegate::util::random_hex(16);
    uploads_[id] = "";
    res.status = 202;
    res.set_header("Location", "/v2/" + name + "/blobs/uploads/" + id);
    res.set_header("Range", "0-0");
  }

  void chunk(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto it = uploads_.find(req.matches[2]);
    if (it == uploads_.end()) return error(res, 404, "BLOB_UPLOAD_UNKNOWN");
    it->second += req.body;
    res.status = 202;
    res.set_header("Location", req.path);
    res.set_header("Range", "0-" + std::to_string(it->second.empty() ? 0 : it->second.size() - 1));
  }

  void finish(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto it = uploads_.find(req.matches[2]);
    if (it == uploads_.end()) return error(res, 404, "BLOB_UPLOAD_UNKNOWN");
    const std::string bytes = it->second + req.body;
    const std::string digest = req.get_param_value("digest");
    if (imagegate::registry::sha256_digest(bytes) != digest) {
      return error(res, 400, "DIGEST_INVALID");
    }
    uploads_.erase(it);
    repos_[req.matches[1]].blobs[digest] = bytes;
    res.status = 201;
    res.set_header("Location", "/v2/" + std::string(req.matches[1]) + "/blobs/" + digest);
    res.set_header("Docker-Content-Digest", digest);
  }

  void manifest(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto repo = repos_.find(req.matches[1]);
    if (repo == repos_.end()) return error(res, 404, "NAME_UNKNOWN");
    std::string reference = req.matches[2];
    if (const auto tag = repo->second.tags.find(reference); tag != repo->second.tags.end()) {
      reference = tag->second;
    }
    const auto it = repo->second.manifests.find(reference);
    if (it == repo->second.manifests.end()) return error(res, 404, "MANIFEST_UNKNOWN");
    res.set_header("Docker-Content-Digest", it->first);
    res.set_content(it->second.body, it->second.media_type);
  }

  void put(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const std::string name = req.matches[1];
    const std::string reference = req.matches[2];
    const std::string digest = imagegate::registry::sha256_digest(req.body);
    if (imagegate::registry::is_sha256_digest(reference) && reference != digest) {
      return error(res, 400, "DIGEST_INVALID");
    }
    const auto doc = json::parse(req.body, nullptr, false);
    if (!doc.is_object()) return error(res, 400, "MANIFEST_INVALID");
    std::string media_type = req.get_header_value("Content-Type");
    if (media_type.empty()) media_type = doc.value("mediaType", "");
    Repository& repo = repos_[name];
    repo.manifests[digest] = {req.body, media_type};
    if (!imagegate::registry::is_sha256_digest(reference)) repo.tags[reference] = digest;
    if (doc.contains("subject") && doc["subject"].is_object()) {
      const std::string subject = doc["subject"].value("digest", "");
      repo.referrers[subject].insert(digest);
      res.set_header("OCI-Subject", subject);
    }
    res.status = 201;
    res.set_header("Location", "/v2/" + name + "/manifests/" + digest);
    res.set_header("Docker-Content-Digest", digest);
  }

  void referrers(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    if (referrers_status_ != 0) return error(res, referrers_status_, "UNAVAILABLE");
    json manifests = json::array();
    const std::string filter =
        req.has_param("artifactType") ? req.get_param_value("artifactType") : "";
    const auto repo = repos_.find(req.matches[1]);
    if (repo != repos_.end()) {
      const auto it = repo->second.referrers.find(req.matches[2]);
      for (const auto& digest :
           it == repo->second.referrers.end() ? std::set<std::string>{} : it->second) {
        const Manifest& m = repo->second.manifests.at(digest);
        const auto doc = json::parse(m.body);
        std::string type = doc.value("artifactType", "");
        if (type.empty() && doc.contains("config")) type = doc["config"].value("mediaType", "");
        if (!filter.empty() && type != filter) continue;
        json d = {{"mediaType", m.media_type},
                  {"digest", digest},
                  {"size", m.body.size()},
                  {"artifactType", type}};
        if (doc.contains("annotations")) d["annotations"] = doc["annotations"];
        manifests.push_back(std::move(d));
      }
    }
    if (!filter.empty()) res.set_header("OCI-Filters-Applied", "artifactType");
    res.set_content(json{{"schemaVersion", 2},
                         {"mediaType", "application/vnd.oci.image.index.v1+json"},
                         {"manifests", manifests}}
                        .dump(),
                    "application/vnd.oci.image.index.v1+json");
  }

  void tags(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto repo = repos_.find(req.matches[1]);
    if (repo == repos_.end()) return error(res, 404, "NAME_UNKNOWN");
    json list = json::array();
    for (const auto& [tag, unused] : repo->second.tags) list.push_back(tag);
    res.set_content(json{{"name", repo->first}, {"tags", list}}.dump(), "application/json");
  }

  std::mutex mutex_;
  std::map<std::string, Repository> repos_;
  std::map<std::string, std::string> uploads_;
  std::vector<std::string> log_;
  int referrers_status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("OCI registry with the referrers API, for tests");
  int port = 0;
  app.add_option("--port", port, "Port on 127.0.0.1 (0: pick a free one)");
  CLI11_PARSE(app, argc, argv);
  httplib::Server server;
  Registry registry;
  registry.serve(server);
  server.set_payload_max_length(64 * 1024 * 1024);
  const int bound = port == 0 ? server.bind_to_any_port("127.0.0.1") : port;
  if (port != 0 && !server.bind_to_port("127.0.0.1", port)) {
    std::cerr << "cannot listen on 127.0.0.1:" << port << "\n";
    return 1;
  }
  if (bound <= 0) {
    std::cerr << "cannot listen on 127.0.0.1\n";
    return 1;
  }
  std::cout << bound << std::endl;
  server.listen_after_bind();
  return 0;
}
