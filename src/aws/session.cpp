#include "aws/session.hpp"

#include "util/duration.hpp"

namespace imagegate::aws {

Session::Session(const SessionOptions& options, Environment env)
    : env_(std::move(env)), shared_(load_shared_config(env_, options.profile)) {
  region_ = resolve_region(options.region, env_, shared_);
  for (const char* service : {"ecr", "ecs"}) {
    endpoints_[service] = resolve_endpoint(service, region_, options.endpoint_url, env_);
  }
  // STS serves the credential chain, which is not what --endpoint-url points at.
  endpoints_["sts"] = resolve_endpoint("sts", region_, std::nullopt, env_);

  if (options.credentials) {
    credentials_ = std::make_unique<CredentialProvider>(*options.credentials);
  } else {
    CredentialChainOptions chain;
    chain.env = &env_;
    chain.shared = &shared_;
    chain.sts_http = options.http;
    chain.metadata_http = options.metadata_http;
    chain.region = region_;
    chain.sts_endpoint = endpoints_["sts"];
    if (options.now) chain.now = options.now;
    if (auto timeout = env_.get("IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT")) {
      chain.process_timeout =
          util::parse_duration(*timeout, "IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT");
    }
    chain.on_resolved = options.on_credentials;
    credentials_ = std::make_unique<CredentialProvider>(std::move(chain));
  }

  JsonClientOptions client;
  client.http = options.http;
  client.credentials = credentials_.get();
  client.region = region_;
  client.endpoints = endpoints_;
  client.retry.max_attempts = resolve_max_attempts(env_);
  client.now = options.now;
  client.sleep = options.sleep;
  client.random = options.random;
  client_ = std::make_unique<JsonClient>(std::move(client));
}

const std::string& Session::endpoint(const std::string& service) const {
  return endpoints_.at(service);
}

}  // namespace imagegate::aws
