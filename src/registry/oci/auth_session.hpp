// Authentication state of one resolve() against one registry: the scheme learnt from the
// registry, the Basic header or one Bearer token per repository, and per-repository failures.
// Internal to the OCI backend.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth.hpp"
#include "http/http.hpp"
#include "registry/oci/oci.hpp"

namespace imagegate::registry::oci {

class AuthSession {
 public:
  // credential: what the store found for the host (nullopt: anonymous).
  AuthSession(OciEndpoint endpoint, http::Client& client,
              std::optional<auth::Credential> credential);

  // With credentials: GET /v2/ once to learn the scheme, then fetch a token for every repository
  // in one batch (Bearer). Without credentials nothing is sent: anonymous first.
  void prepare(const std::vector<std::string>& repositories);

  // Adds the Authorization header for a request about `repository`, when one is known.
  void apply(http::Request& request, const std::string& repository) const;

  // The failure that makes every request about `repository` pointless, if any.
  std::optional<Error> failure(const std::string& repository) const;

  // True when a 401 for `repository` is worth a challenge round (no token fetched for it yet).
  bool may_answer_challenge(const std::string& repository) const;

  // Answers the 401 challenges (one response per repository): fetches the missing tokens in one
  // batch. Afterwards, repositories without failure() can be retried.
  void answer_challenges(const std::vector<std::pair<std::string, http::Response>>& challenges);

  // True when credentials exist but are not sent (plain http to a non-loopback registry).
  bool credentials_withheld() const { return credentials_withheld_; }

  // Text for a 401/403 that remained after authentication.
  std::string denied_hint() const;

 private:
  void fetch_tokens(const auth::Challenge& challenge,
                    const std::vector<std::pair<std::string, std::string>>& repo_scopes);

  OciEndpoint endpoint_;
  http::Client& client_;
  std::optional<auth::Credential> credential_;
  bool credentials_withheld_ = false;
  std::optional<Error> global_failure_;
  std::string basic_;                          // "Basic ..." when the registry wants Basic
  std::map<std::string, std::string> tokens_;  // repository -> bearer token
  std::map<std::string, Error> failures_;      // repository -> auth failure
  std::set<std::string> challenged_;           // repositories whose challenge was answered
};

// Runs one concurrent batch of requests through the session, repositories[i] being what
// requests[i] is about: the Authorization header applied, one challenge round per repository
// answered and its 401'd requests retried in one more batch. Each request's final answer goes to
// on_response (with its index) as soon as it is final, so a phase holds only the answers in
// flight and the 401s waiting for their challenge, never the whole batch's.
void run_authenticated(http::Client& client, AuthSession& session,
                       const std::vector<std::string_view>& repositories,
                       std::vector<http::Request> requests, const http::OnResponse& on_response);

}  // namespace imagegate::registry::oci
