// AWS JSON 1.1 answers as imagegate reads them, through the real JSON client (signing, error
// shapes, retries, the clock-skew correction) over a scripted HTTP client: the input is the
// sequence of answers the client gets, one per request, separated by a line "%%". Each answer is
// "STATUS\nheader: value\n...\n\nbody"; an answer whose first line is not a number is a 200 with
// that body. After the script, every request gets a 400 ValidationException. The first byte picks
// the caller:
//   0  one ECS call, its answer read as DescribeServices (rollout) and DescribeTasks (tasks);
//   1  the ECR backend resolving tags with platforms (DescribeRepositories, BatchGetImage,
//      GetDownloadUrlForLayer, the config blob) and fetching a manifest and a blob;
//   2  verify's deployment check (ListServiceDeployments, DescribeServiceDeployments,
//      DescribeServiceRevisions) over the ECS API.
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/config.hpp"
#include "aws/session.hpp"
#include "deploy/deployments.hpp"
#include "deploy/ecs.hpp"
#include "deploy/expectations.hpp"
#include "findings/findings.hpp"
#include "http/http.hpp"
#include "registry/ecr/ecr.hpp"

using namespace imagegate;

namespace {

constexpr std::string_view kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class ScriptedClient : public http::Client {
 public:
  explicit ScriptedClient(std::string_view script) {
    while (true) {
      const auto cut = script.find("\n%%\n");
      answers_.push_back(answer(script.substr(0, cut)));
      if (cut == std::string_view::npos || answers_.size() >= 64) break;
      script.remove_prefix(cut + 4);
    }
  }

  std::vector<http::Response> run(const std::vector<http::Request>& requests) override {
    std::vector<http::Response> out;
    for (const auto& request : requests) {
      http::Response r;
      if (next_ < answers_.size()) {
        r = answers_[next_++];
      } else {
        r.status = 400;
        r.body = R"({"__type":"ValidationException","message":"script ended"})";
      }
      r.effective_url = request.url;
      r.attempts = 1;
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  static http::Response answer(std::string_view text) {
    http::Response r;
    const auto eol = text.find('\n');
    const std::string_view first = text.substr(0, eol);
    long status = 0;
    const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), status);
    if (ec != std::errc() || end != first.data() + first.size()) {
      r.status = 200;
      r.body = std::string(text);
      return r;
    }
    r.status = status;
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    while (!text.empty()) {
      const auto line_end = text.find('\n');
      const std::string_view line = text.substr(0, line_end);
      text = line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 1);
      if (line.empty()) break;
      const auto colon = line.find(':');
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value =
          colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers.emplace_back(std::move(name), std::string(value));
    }
    r.body = std::string(text);
    return r;
  }

  std::vector<http::Response> answers_;
  std::size_t next_ = 0;
};

deploy::Expectations expectations() {
  deploy::Expectations e;
  deploy::ExpectedImage image;
  image.id = "control-center";
  image.name = "afu9/control-center";
  image.container = "control-center";
  image.tags = {"prod-latest"};
  image.has_evidence = true;
  image.evidence_status = "pass";
  image.repository_uri = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center";
  image.digest = std::string(kDigest);
  e.images.push_back(image);
  e.has_evidence = true;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ScriptedClient http(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  aws::SessionOptions options;
  options.region = "eu-central-1";
  options.endpoint_url = "http://127.0.0.1:9";
  options.http = &http;
  options.metadata_http = &http;
  options.credentials = aws::Credentials{"AKIDFUZZ", "fuzz-secret", "", std::nullopt, "fuzz"};
  options.now = [] { return std::chrono::system_clock::time_point(std::chrono::hours(500000)); };
  options.sleep = [](std::chrono::milliseconds) {};
  options.random = [] { return 0.5; };
  aws::Session session(options, aws::Environment::from_map({}));

  const auto e = expectations();
  const deploy::ExpectedDigests digests{{"control-center", std::string(kDigest)}};
  findings::Findings findings;
  switch (data[0] % 3) {
    case 0: {
      deploy::JsonEcsApi api(session.client());
      const auto answer = api.describe_services("afu9", {"control-center"});
      if (!answer) {
        (void)deploy::finding_code(answer.error());
        break;
      }
      if (answer->contains("services") && (*answer)["services"].is_array()) {
        for (const auto& service : (*answer)["services"]) {
          deploy::record_rollout("control-center", deploy::assess_rollout(service), false,
                                 findings);
        }
      }
      const auto tasks = answer->contains("tasks") ? (*answer)["tasks"] : nlohmann::json();
      deploy::check_tasks("control-center", tasks, "arn:aws:ecs:td/afu9:1", e, digests, findings);
      break;
    }
    case 1: {
      registry::ecr::EcrOptions ecr;
      ecr.session = &session;
      ecr.http = &http;
      auto backend = registry::ecr::make_ecr_registry(ecr);
      registry::TagQuery query;
      query.repository = "afu9/control-center";
      query.tags = {"prod-latest", "prod-0123456789abcdef0123456789abcdef01234567"};
      query.want_platforms = true;
      query.platforms = {{"linux", "amd64", ""}, {"linux", "arm64", "v8"}};
      query.want_manifest = true;
      (void)backend->resolve({query});
      (void)backend->fetch(
          {{"afu9/control-center", registry::ContentKind::kManifest, std::string(kDigest), ""},
           {"afu9/control-center", registry::ContentKind::kBlob, std::string(kDigest), ""}});
      break;
    }
    default: {
      deploy::JsonEcsApi api(session.client());
      (void)deploy::check_deployments(
          api, "afu9", "control-center", e, digests, [] { return false; }, findings);
      break;
    }
  }
  return 0;
}
