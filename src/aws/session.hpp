// One place that turns flags and environment into a ready AWS client: region, endpoints of the
// API services, the credential chain and the JSON 1.1 client. Commands and backends build one
// Session per run and share it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/config.hpp"
#include "aws/credentials.hpp"
#include "aws/json_client.hpp"
#include "http/http.hpp"

namespace imagegate::aws {

struct SessionOptions {
  std::optional<std::string> region;        // --region
  std::optional<std::string> endpoint_url;  // --endpoint-url: the API services (ecr, ecs), not STS
  http::Client* http = nullptr;             // API and STS calls (required)
  http::Client* metadata_http = nullptr;  // container/instance metadata: metadata_client_options()
  // Profile of the shared files instead of AWS_PROFILE (--registry-profile).
  std::optional<std::string> profile;
  // Fixed credentials instead of the chain (tests, or credentials resolved elsewhere).
  std::optional<Credentials> credentials;
  // -v: told each credential source used (its name, never a value); see CredentialChainOptions.
  std::function<void(const std::string& source, bool refresh)> on_credentials;
  // For tests; defaults are the system clock, sleep_for and a randomly initialised generator.
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random;
};

class Session {
 public:
  // Resolves region, endpoints and AWS_MAX_ATTEMPTS now, so a bad setting is a UsageError before
  // anything connects. Credentials are resolved on the first call.
  Session(const SessionOptions& options, Environment env);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& region() const { return region_; }
  // Base URL used for service ("ecr", "ecs", "sts").
  const std::string& endpoint(const std::string& service) const;
  CredentialProvider& credentials() { return *credentials_; }
  JsonClient& client() { return *client_; }

 private:
  Environment env_;
  SharedConfig shared_;
  std::string region_;
  std::map<std::string, std::string> endpoints_;
  std::unique_ptr<CredentialProvider> credentials_;
  std::unique_ptr<JsonClient> client_;
};

}  // namespace imagegate::aws
