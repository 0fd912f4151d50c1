// A registry emulator for the OCI backend's tests: the Distribution API subset imagegate uses
// (/v2/ ping, manifests by tag and digest, tag lists, blobs, a token endpoint) as one function
// from Request to Response. Tests call it through CannedClient (no network) or serve it on
// 127.0.0.1 with cpp-httplib (serve_fake_registry) to go through the real libcurl client.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/http.hpp"

namespace imagegate::testing {

struct FakeImage {
  std::string manifest;  // bytes of the manifest (or index)
  std::string media_type;
  std::string digest;  // sha256 of manifest
};

// Helpers that build content with real digests.
std::string config_blob(const std::string& os, const std::string& arch,
                        const std::string& variant = "");
std::string image_manifest(const std::string& config_digest, std::size_t config_size);
std::string image_index(const std::vector<std::pair<std::string, std::string>>& digest_platforms);

enum class FakeAuth { kNone, kBasic, kBearer };

class FakeRegistry {
 public:
  // Adds a single-platform image (config blob + manifest) under `tags`; returns its digest.
  std::string add_image(const std::string& repository, const std::vector<std::string>& tags,
                        const std::string& os = "linux", const std::string& arch = "amd64",
                        const std::string& variant = "");
  // Adds an index over per-platform images (each "os/arch[/variant]"); returns the index digest.
  std::string add_index(const std::string& repository, const std::vector<std::string>& tags,
                        const std::vector<std::string>& platforms);
  void add_blob(const std::string& repository, const std::string& bytes);
  void add_repository(const std::string& repository);  // exists, no tags

  http::Response handle(const http::Request& request);

  // Behaviour switches.
  FakeAuth auth = FakeAuth::kNone;
  std::string username = "user";
  std::string password = "s3cret-pass";
  std::string realm;  // token endpoint URL for Bearer (e.g. base + "/token")
  std::string service = "fake-registry";
  bool anonymous_pull = false;      // Bearer: token endpoint hands out tokens without creds
  bool digest_header = true;        // send Docker-Content-Digest
  bool corrupt_get_body = false;    // GET manifest bodies do not match their digest
  bool require_accept = true;       // like docker-registry: OCI content needs the Accept types
  bool name_unknown_on_get = true;  // 404 bodies carry error codes (HEAD never has a body)
  long fail_status = 0;             // when set, every /v2/<name>/ request answers this

  // Everything received, in order ("METHOD path"), and the Authorization headers seen.
  std::vector<std::string> log;
  std::vector<std::string> authorizations;

 private:
  struct Repo {
    std::map<std::string, FakeImage> manifests;  // digest -> image
    std::map<std::string, std::string> tags;     // tag -> digest
    std::map<std::string, std::string> blobs;    // digest -> bytes
  };
  bool authorized(const http::Request& request, const std::string& repository,
                  http::Response& challenge);
  std::map<std::string, Repo> repos_;
  std::mutex mutex_;
};

// An http::Client that answers every request with a handler and records what was asked.
class CannedClient : public http::Client {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;
  explicit CannedClient(Handler handler) : handler_(std::move(handler)) {}
  std::vector<http::Response> run(const std::vector<http::Request>& requests) override;

  std::vector<http::Request> requests;
  std::vector<std::size_t> batches;  // size of each run() batch

  // "METHOD url" of each request, for assertions.
  std::vector<std::string> lines() const;

 private:
  Handler handler_;
};

// Serves `registry` on the (not yet started) server: every route goes to FakeRegistry::handle.
void serve_fake_registry(httplib::Server& server, FakeRegistry& registry);

}  // namespace imagegate::testing
