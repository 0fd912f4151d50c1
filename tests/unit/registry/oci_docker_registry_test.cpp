// The OCI backend against a real registry: Debian's docker-registry (the CNCF distribution
// registry) on 127.0.0.1, images made by umoci and pushed by skopeo, plain and with htpasswd
// Basic auth. These tools are installed by scripts/bootstrap; their absence is a failure.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "registry/content.hpp"
#include "registry/oci/oci.hpp"
#include "support/local_server.hpp"
#include "support/scratch_dir.hpp"

extern char** environ;

namespace imagegate::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;

int sh(const std::string& script) {
  return std::system(("bash -c '" + script + "' >/dev/null 2>&1").c_str());
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// docker-registry serving a scratch directory on a free loopback port; stopped on destruction.
class DockerRegistry {
 public:
  DockerRegistry(const ScratchDir& dir, bool htpasswd)
      : port_(testing::LocalServer::closed_port()) {
    std::string config =
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        "    rootdirectory: " +
        (dir.path() / "data").string() + "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) +
        "\n";
    if (htpasswd) {
      EXPECT_EQ(sh("htpasswd -Bbn user s3cret-pass > " + (dir.path() / "htpasswd").string()), 0);
      config +=
          "auth:\n  htpasswd:\n    realm: test\n    path: " + (dir.path() / "htpasswd").string() +
          "\n";
    }
    const auto config_file = dir.write("registry.yml", config);
    const std::string log = (dir.path() / "registry.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT, 0644);
    std::string program = "docker-registry";
    std::string serve = "serve";
    std::string config_path = config_file.string();
    char* argv[] = {program.data(), serve.data(), config_path.data(), nullptr};
    started_ = posix_spawnp(&pid_, "docker-registry", &actions, nullptr, argv, environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
    // Ready when /v2/ answers at all (200, or 401 with auth).
    auto client = http::make_curl_client({});
    for (int i = 0; started_ && i < 100 && !ready_; ++i) {
      http::Request ping;
      ping.url = url() + "/v2/";
      ping.retry = false;
      ready_ = client->run_one(ping).status != 0;
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~DockerRegistry() {
    if (started_) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool ready() const { return ready_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + host(); }

 private:
  int port_;
  pid_t pid_ = -1;
  bool started_ = false;
  bool ready_ = false;
};

// Builds images with umoci in `layout` and pushes a tag of it with skopeo.
class Images {
 public:
  Images(const ScratchDir& dir) : layout_((dir.path() / "layout").string()) {
    EXPECT_EQ(sh("umoci init --layout " + layout_), 0) << "umoci missing?";
  }
  // A config-only image for the platform, tagged `tag` in the layout; returns its digest.
  std::string image(const std::string& tag, const std::string& os, const std::string& arch) {
    EXPECT_EQ(sh("umoci new --image " + layout_ + ":" + tag + " && umoci config --image " +
                 layout_ + ":" + tag + " --os " + os + " --architecture " + arch),
              0);
    return digest_of(tag);
  }
  // An index over two tagged images, tagged `tag`; returns its digest.
  std::string index(const std::string& tag, const std::vector<std::string>& members) {
    auto layout_index = nlohmann::json::parse(read_text(layout_ + "/index.json"));
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& member : members) {
      const std::string digest = digest_of(member);
      const auto manifest = nlohmann::json::parse(read_text(blob_path(digest)));
      const auto config = nlohmann::json::parse(
          read_text(blob_path(manifest["config"]["digest"].get<std::string>())));
      entries.push_back(
          {{"mediaType", kOciManifest},
           {"digest", digest},
           {"size", std::filesystem::file_size(blob_path(digest))},
           {"platform", {{"os", config["os"]}, {"architecture", config["architecture"]}}}});
    }
    const std::string body = nlohmann::json{
        {"schemaVersion", 2},
        {"mediaType", kOciIndex},
        {"manifests", entries}}.dump();
    const std::string digest = sha256_digest(body);
    std::ofstream(blob_path(digest)) << body;
    layout_index["manifests"].push_back(
        {{"mediaType", kOciIndex},
         {"digest", digest},
         {"size", body.size()},
         {"annotations", {{"org.opencontainers.image.ref.name", tag}}}});
    std::ofstream(layout_ + "/index.json") << layout_index.dump();
    return digest;
  }
  int push(const std::string& tag, const std::string& destination, const std::string& creds = "") {
    return sh("skopeo copy --all --dest-tls-verify=false " +
              (creds.empty() ? "" : "--dest-creds " + creds + " ") + "oci:" + layout_ + ":" + tag +
              " docker://" + destination);
  }

 private:
  std::string blob_path(const std::string& digest) const {
    return layout_ + "/blobs/sha256/" + digest.substr(7);
  }
  std::string digest_of(const std::string& tag) const {
    const auto index = nlohmann::json::parse(read_text(layout_ + "/index.json"));
    for (const auto& entry : index["manifests"]) {
      if (entry["annotations"]["org.opencontainers.image.ref.name"] == tag) {
        return entry["digest"].get<std::string>();
      }
    }
    return "";
  }
  std::string layout_;
};

std::shared_ptr<http::Client> client() {
  http::ClientOptions options;
  options.retry.max_attempts = 2;
  return http::make_curl_client(options);
}

TEST(OciDockerRegistry, TagsDigestsPlatformsAndMissingThings) {
  ScratchDir dir;
  DockerRegistry registry(dir, false);
  ASSERT_TRUE(registry.ready()) << "docker-registry did not start: "
                                << read_text(dir.path() / "registry.log");
  Images images(dir);
  const std::string arm = images.image("arm", "linux", "arm64");
  const std::string amd = images.image("amd", "linux", "amd64");
  const std::string multi = images.index("multi", {"amd", "arm"});
  ASSERT_EQ(images.push("arm", registry.host() + "/afu9/mcp-github:prod-abc"), 0);
  ASSERT_EQ(images.push("arm", registry.host() + "/afu9/mcp-github:prod-latest"), 0);
  ASSERT_EQ(images.push("multi", registry.host() + "/afu9/control-center:prod-abc"), 0);

  const auto results =
      make_oci_registry({registry.url(), client(), nullptr})
          ->resolve({{"afu9/mcp-github", {"prod-abc", "prod-latest", "prod-old"}, true},
                     {"afu9/control-center", {"prod-abc", "prod-latest"}, true},
                     {"afu9/absent", {"prod-abc"}, true}});
  ASSERT_EQ(results[0].status, RepositoryStatus::kExists) << results[0].error.message;
  EXPECT_EQ(results[0].uri, registry.host() + "/afu9/mcp-github");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(results[0].tags.at(i).status, TagStatus::kFound) << results[0].tags[i].error.message;
    EXPECT_EQ(results[0].tags[i].digest, arm);
    EXPECT_EQ(results[0].tags[i].media_type, kOciManifest);
    EXPECT_THAT(results[0].tags[i].platforms, ElementsAre(Platform{"linux", "arm64", ""}));
  }
  EXPECT_EQ(results[0].tags.at(2).status, TagStatus::kMissing);
  ASSERT_EQ(results[1].status, RepositoryStatus::kExists) << results[1].error.message;
  ASSERT_EQ(results[1].tags.at(0).status, TagStatus::kFound) << results[1].tags[0].error.message;
  EXPECT_EQ(results[1].tags[0].digest, multi);
  EXPECT_EQ(results[1].tags[0].media_type, kOciIndex);
  EXPECT_THAT(results[1].tags[0].platforms,
              ElementsAre(Platform{"linux", "amd64", ""}, Platform{"linux", "arm64", ""}));
  EXPECT_NE(amd, arm);
  EXPECT_EQ(results[1].tags.at(1).status, TagStatus::kMissing);
  EXPECT_EQ(results[2].status, RepositoryStatus::kMissing);
}

TEST(OciDockerRegistry, HtpasswdBasicAuth) {
  ScratchDir dir;
  DockerRegistry registry(dir, true);
  ASSERT_TRUE(registry.ready()) << read_text(dir.path() / "registry.log");
  Images images(dir);
  const std::string digest = images.image("v1", "linux", "amd64");
  ASSERT_EQ(images.push("v1", registry.host() + "/a/x:v1", "user:s3cret-pass"), 0);

  const auto with = [&](const std::string& password) {
    auth::CredentialStoreOptions options;
    options.config_file = dir.write("docker/" + password + ".json",
                                    R"({"auths":{")" + registry.host() + R"(":{"auth":")" +
                                        auth::base64_encode("user:" + password) + "\"}}}");
    return std::make_shared<auth::CredentialStore>(options);
  };
  const std::vector<TagQuery> query = {{"a/x", {"v1"}, false}};
  const auto good =
      make_oci_registry({registry.url(), client(), with("s3cret-pass")})->resolve(query);
  ASSERT_EQ(good[0].status, RepositoryStatus::kExists) << good[0].error.message;
  EXPECT_EQ(good[0].tags.at(0).digest, digest);

  const auto wrong = make_oci_registry({registry.url(), client(), with("nope-pw")})->resolve(query);
  EXPECT_EQ(wrong[0].status, RepositoryStatus::kError);
  EXPECT_EQ(wrong[0].error.code, "AUTH_FAILED");
  EXPECT_THAT(wrong[0].error.message, HasSubstr("were rejected or lack pull access"));

  const auto anonymous = make_oci_registry({registry.url(), client(), nullptr})->resolve(query);
  EXPECT_EQ(anonymous[0].error.code, "AUTH_FAILED");
  EXPECT_EQ(anonymous[0].error.message,
            "registry requires Basic authentication for a/x: no credentials are configured for " +
                registry.host());
}

}  // namespace
}  // namespace imagegate::registry
