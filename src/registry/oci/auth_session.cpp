#include "registry/oci/auth_session.hpp"

#include <fmt/format.h>

namespace imagegate::registry::oci {

namespace {

std::string repository_scope(const std::string& repository) {
  return fmt::format("repository:{}:pull", repository);
}

}  // namespace

AuthSession::AuthSession(OciEndpoint endpoint, http::Client& client,
                         std::optional<auth::Credential> credential)
    : endpoint_(std::move(endpoint)), client_(client), credential_(std::move(credential)) {
  // Basic credentials over plain http to another machine could be read by anyone on the path;
  // they are withheld, so such a registry can only be used anonymously.
  if (credential_ && endpoint_.scheme == "http" && !auth::is_loopback_host(endpoint_.host)) {
    credential_.reset();
    credentials_withheld_ = true;
  }
}

std::string AuthSession::denied_hint() const {
  if (credentials_withheld_) {
    return fmt::format("credentials for {} were not sent because the registry is plain http",
                       endpoint_.host);
  }
  if (!credential_) return fmt::format("no credentials are configured for {}", endpoint_.host);
  return fmt::format("the credentials for {} were rejected or lack pull access", endpoint_.host);
}

void AuthSession::prepare(const std::vector<std::string>& repositories) {
  if (!credential_) return;
  http::Request ping;
  ping.url = endpoint_.base_url() + "/v2/";
  const http::Response response = client_.run_one(ping);
  if (!response.error_code.empty()) {
    global_failure_ =
        Error{response.error_code, fmt::format("GET {}: {}", ping.url, response.error)};
    return;
  }
  if (response.status == 200) return;  // the registry wants no authentication
  if (response.status != 401) {
    global_failure_ = Error{response.status >= 500 ? "UNREACHABLE" : "BAD_RESPONSE",
                            fmt::format("GET {} answered HTTP {} (expected 200 or 401 from an "
                                        "OCI registry)",
                                        ping.url, response.status)};
    return;
  }
  auto challenge = auth::parse_challenge(response);
  if (!challenge) {
    global_failure_ = challenge.error();
    return;
  }
  if (challenge->scheme == auth::Scheme::kBasic) {
    basic_ = auth::basic_authorization(*credential_);
    return;
  }
  std::vector<std::pair<std::string, std::string>> repo_scopes;
  for (const auto& repository : repositories) {
    repo_scopes.emplace_back(repository, repository_scope(repository));
  }
  fetch_tokens(*challenge, repo_scopes);
}

void AuthSession::apply(http::Request& request, const std::string& repository) const {
  if (const auto it = tokens_.find(repository); it != tokens_.end()) {
    request.headers.emplace_back("Authorization", "Bearer " + it->second);
  } else if (!basic_.empty()) {
    request.headers.emplace_back("Authorization", basic_);
  }
}

std::optional<Error> AuthSession::failure(const std::string& repository) const {
  if (global_failure_) return global_failure_;
  if (const auto it = failures_.find(repository); it != failures_.end()) return it->second;
  return std::nullopt;
}

bool AuthSession::may_answer_challenge(const std::string& repository) const {
  return !challenged_.contains(repository) && !tokens_.contains(repository) &&
         !failures_.contains(repository) && !global_failure_;
}

void AuthSession::answer_challenges(
    const std::vector<std::pair<std::string, http::Response>>& challenges) {
  // Challenges of one registry share realm and service; group the scopes by challenge anyway so
  // an odd registry with several realms is still answered correctly.
  std::vector<std::pair<auth::Challenge, std::vector<std::pair<std::string, std::string>>>> groups;
  for (const auto& [repository, response] : challenges) {
    challenged_.insert(repository);
    auto challenge = auth::parse_challenge(response);
    if (!challenge) {
      failures_[repository] = challenge.error();
      continue;
    }
    if (challenge->scheme == auth::Scheme::kBasic) {
      if (!credential_) {
        failures_[repository] =
            Error{"AUTH_FAILED", fmt::format("registry requires Basic authentication for {}: {}",
                                             repository, denied_hint())};
      } else {
        basic_ = auth::basic_authorization(*credential_);
      }
      continue;
    }
    const std::string scope =
        challenge->scope.empty() ? repository_scope(repository) : challenge->scope;
    auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
      return g.first.realm == challenge->realm && g.first.service == challenge->service;
    });
    if (group == groups.end()) {
      groups.push_back({*challenge, {}});
      group = std::prev(groups.end());
    }
    group->second.emplace_back(repository, scope);
  }
  for (const auto& [challenge, repo_scopes] : groups) fetch_tokens(challenge, repo_scopes);
}

void AuthSession::fetch_tokens(
    const auth::Challenge& challenge,
    const std::vector<std::pair<std::string, std::string>>& repo_scopes) {
  if (auto allowed = auth::check_realm(challenge.realm, endpoint_.scheme, endpoint_.host);
      !allowed) {
    for (const auto& [repository, scope] : repo_scopes) failures_[repository] = allowed.error();
    return;
  }
  // One token per distinct scope, shared by every repository asking for it.
  std::vector<std::string> scopes;
  for (const auto& [repository, scope] : repo_scopes) {
    if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) scopes.push_back(scope);
  }
  if (scopes.empty()) return;
  std::vector<http::Request> requests;
  for (const auto& scope : scopes) {
    requests.push_back(auth::token_request(challenge, scope, credential_));
  }
  const auto responses = client_.run(requests);
  std::map<std::string, Result<std::string>> by_scope;
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    auto token = auth::parse_token_response(responses.at(i), scopes[i]);
    if (!token && token.error().code == "AUTH_FAILED") {
      token.error().message += "; " + denied_hint();
    }
    by_scope.emplace(scopes[i], std::move(token));
  }
  for (const auto& [repository, scope] : repo_scopes) {
    const auto& token = by_scope.at(scope);
    if (token) {
      tokens_[repository] = *token;
    } else {
      failures_[repository] = token.error();
    }
  }
}

void run_authenticated(http::Client& client, AuthSession& session,
                       const std::vector<std::string_view>& repositories,
                       std::vector<http::Request> requests, const http::OnResponse& on_response) {
  if (requests.empty()) return;
  std::vector<std::string> repository_names;  // apply() and failure() take std::string
  repository_names.reserve(repositories.size());
  for (const auto repo : repositories) repository_names.emplace_back(repo);
  const auto repo_of = [&](std::size_t i) -> const std::string& { return repository_names[i]; };
  // The headers as the caller built them: a retry after the challenge gets the new token, not
  // the old Authorization as well.
  std::vector<std::size_t> header_count(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    header_count[i] = requests[i].headers.size();
    session.apply(requests[i], repo_of(i));
  }

  // A 401 worth a challenge round is held back; one per repository is answered.
  std::vector<std::pair<std::size_t, http::Response>> held;
  std::vector<std::pair<std::string, http::Response>> challenges;
  std::set<std::string> challenged;
  client.run_each(requests, [&](std::size_t i, http::Response&& response) {
    const std::string& repo = repo_of(i);
    if (response.error_code.empty() && response.status == 401 &&
        session.may_answer_challenge(repo)) {
      if (challenged.insert(repo).second) challenges.emplace_back(repo, response);
      held.emplace_back(i, std::move(response));
      return;
    }
    on_response(i, std::move(response));
  });
  if (held.empty()) return;
  session.answer_challenges(challenges);

  std::vector<std::size_t> retry;
  std::vector<http::Request> retry_requests;
  for (auto& [i, response] : held) {
    const std::string& repo = repo_of(i);
    if (session.failure(repo)) {
      on_response(i, std::move(response));
      continue;
    }
    http::Request request = std::move(requests[i]);
    request.headers.resize(header_count[i]);
    session.apply(request, repo);
    retry.push_back(i);
    retry_requests.push_back(std::move(request));
  }
  held.clear();
  if (retry_requests.empty()) return;
  client.run_each(retry_requests, [&](std::size_t k, http::Response&& response) {
    on_response(retry[k], std::move(response));
  });
}

}  // namespace imagegate::registry::oci
