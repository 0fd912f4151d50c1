// resolve() runs in phases, each phase one concurrent batch: HEAD every tag (a 401 gets one
// challenge round and a retry batch), then the follow-ups (GET manifests served without a digest,
// tag lists to tell a missing repository from a missing tag), then manifests and config blobs
// for platforms. Anything not proven is an error, never kFound.
#include <fmt/format.h>

#include <map>
#include <set>

#include "registry/content.hpp"
#include "registry/oci/auth_session.hpp"
#include "registry/oci/oci.hpp"
#include "registry/oci/responses.hpp"

namespace imagegate::registry {

using oci::Classified;
using oci::Outcome;

Result<OciEndpoint> parse_oci_url(std::string_view url) {
  const auto invalid = [&](std::string_view why) {
    return fail("INVALID_REGISTRY",
                fmt::format("registry URL \"{}\": {}; expected https://HOST[:PORT] or "
                            "http://HOST[:PORT]",
                            http::redact_url(url), why));
  };
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return invalid("no scheme");
  std::string scheme(url.substr(0, sep));
  if (scheme != "https" && scheme != "http") return invalid("scheme must be https or http");
  std::string_view rest = url.substr(sep + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL are not supported (use docker config.json)");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalid("a query or fragment is not supported");
  }
  if (rest.find('/') != std::string_view::npos) {
    return invalid("a path prefix is not supported (the API is always at /v2/)");
  }
  if (rest.empty()) return invalid("no host");
  for (const char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return invalid("the host contains characters a host name cannot");
  }
  std::string host(rest);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return OciEndpoint{std::move(scheme), std::move(host)};
}

namespace {

// One request of a phase and what it is about.
struct Pending {
  std::size_t query = 0;
  std::size_t tag = 0;  // index into the query's tags; unused for tag lists
  std::string digest;   // for manifest-by-digest and blob requests
  http::Request request;
};

struct TagState {
  Classified result;
  std::vector<Platform> platforms;
};

class OciRegistry final : public Registry {
 public:
  OciRegistry(std::string url, OciEndpoint endpoint, std::shared_ptr<http::Client> client,
              std::shared_ptr<auth::CredentialStore> credentials)
      : url_(std::move(url)),
        endpoint_(std::move(endpoint)),
        client_(std::move(client)),
        credentials_(std::move(credentials)) {}

  std::string describe() const override { return url_; }
  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override;

 private:
  http::Request get(std::string_view method, const std::string& repository,
                    std::string_view path) const {
    http::Request request;
    request.method = std::string(method);
    request.url = fmt::format("{}/v2/{}/{}", endpoint_.base_url(), repository, path);
    return request;
  }
  http::Request manifest_request(std::string_view method, const std::string& repository,
                                 std::string_view reference) const {
    auto request = get(method, repository, fmt::format("manifests/{}", reference));
    request.headers.emplace_back("Accept", manifest_accept());
    return request;
  }
  // Runs one phase: authorizes every request, answers 401 challenges once per repository and
  // retries those requests in one more batch.
  std::vector<http::Response> run_phase(std::vector<Pending>& pending,
                                        const std::vector<TagQuery>& queries,
                                        oci::AuthSession& session);

  std::string url_;
  OciEndpoint endpoint_;
  std::shared_ptr<http::Client> client_;
  std::shared_ptr<auth::CredentialStore> credentials_;
};

std::vector<http::Response> OciRegistry::run_phase(std::vector<Pending>& pending,
                                                   const std::vector<TagQuery>& queries,
                                                   oci::AuthSession& session) {
  std::vector<http::Request> requests;
  for (auto& p : pending) {
    http::Request request = p.request;
    session.apply(request, queries[p.query].repository);
    requests.push_back(std::move(request));
  }
  if (requests.empty()) return {};
  std::vector<http::Response> responses = client_->run(requests);
  responses.resize(requests.size());

  std::vector<std::pair<std::string, http::Response>> challenges;
  std::set<std::string> challenged;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const std::string& repository = queries[pending[i].query].repository;
    if (responses[i].error_code.empty() && responses[i].status == 401 &&
        session.may_answer_challenge(repository) && challenged.insert(repository).second) {
      challenges.emplace_back(repository, responses[i]);
    }
  }
  if (challenges.empty()) return responses;
  session.answer_challenges(challenges);

  std::vector<std::size_t> retry;
  std::vector<http::Request> retry_requests;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const std::string& repository = queries[pending[i].query].repository;
    if (responses[i].status != 401 || !challenged.contains(repository) ||
        session.failure(repository)) {
      continue;
    }
    http::Request request = pending[i].request;
    session.apply(request, repository);
    retry.push_back(i);
    retry_requests.push_back(std::move(request));
  }
  if (retry_requests.empty()) return responses;
  std::vector<http::Response> retried = client_->run(retry_requests);
  retried.resize(retry_requests.size());
  for (std::size_t k = 0; k < retry.size(); ++k) responses[retry[k]] = std::move(retried[k]);
  return responses;
}

// A 401 that survived authentication: the session's own failure when it has one.
Classified unauthorized(const oci::AuthSession& session, const std::string& repository,
                        std::string_view what) {
  Classified c;
  c.outcome = Outcome::kError;
  if (auto failure = session.failure(repository)) {
    c.error = *failure;
  } else {
    c.error = Error{"AUTH_FAILED",
                    fmt::format("{}: access denied (HTTP 401); {}", what, session.denied_hint())};
  }
  return c;
}

Classified errored(Error error) {
  Classified c;
  c.outcome = Outcome::kError;
  c.error = std::move(error);
  return c;
}

}  // namespace

std::vector<RepositoryResult> OciRegistry::resolve(const std::vector<TagQuery>& queries) {
  std::vector<RepositoryResult> results(queries.size());
  std::vector<std::vector<TagState>> states(queries.size());
  std::vector<std::optional<Error>> repo_error(queries.size());
  std::vector<Outcome> repo_probe(queries.size(), Outcome::kAmbiguous404);  // tag list answers

  std::optional<auth::Credential> credential;
  std::optional<Error> store_error;
  if (credentials_) {
    auto found = credentials_->find(endpoint_.host);
    if (found) {
      credential = *found;
    } else {
      store_error = found.error();
    }
  }
  oci::AuthSession session(endpoint_, *client_, credential);

  std::vector<std::string> repositories;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto& query = queries[q];
    results[q].repository = query.repository;
    results[q].uri = fmt::format("{}/{}", endpoint_.host, query.repository);
    states[q].resize(query.tags.size());
    if (!is_valid_repository_name(query.repository)) {
      repo_error[q] = Error{"INVALID_REFERENCE",
                            fmt::format("\"{}\" is not a valid repository name (lower-case "
                                        "components of [a-z0-9._-] separated by '/')",
                                        query.repository)};
    } else if (store_error) {
      repo_error[q] = store_error;
    } else if (std::find(repositories.begin(), repositories.end(), query.repository) ==
               repositories.end()) {
      repositories.push_back(query.repository);
    }
  }
  if (!store_error) session.prepare(repositories);

  // Phase 1: HEAD every tag; a tag list for queries without tags (existence only).
  std::vector<Pending> heads;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (!repo_error[q]) repo_error[q] = session.failure(queries[q].repository);
    if (repo_error[q]) continue;
    const auto& query = queries[q];
    if (query.tags.empty()) {
      heads.push_back({q, 0, "", get("GET", query.repository, "tags/list")});
      continue;
    }
    for (std::size_t t = 0; t < query.tags.size(); ++t) {
      if (!is_valid_tag(query.tags[t])) {
        states[q][t].result = errored(
            Error{"INVALID_REFERENCE", fmt::format("\"{}\" is not a valid tag", query.tags[t])});
        continue;
      }
      heads.push_back({q, t, "", manifest_request("HEAD", query.repository, query.tags[t])});
    }
  }
  auto responses = run_phase(heads, queries, session);
  for (std::size_t i = 0; i < heads.size(); ++i) {
    const auto& p = heads[i];
    const auto& query = queries[p.query];
    if (query.tags.empty()) {
      const std::string what = fmt::format("{} tag list", query.repository);
      Classified c = oci::classify_tag_list(responses[i], what);
      if (c.outcome == Outcome::kUnauthorized) c = unauthorized(session, query.repository, what);
      if (c.outcome == Outcome::kError) repo_error[p.query] = c.error;
      repo_probe[p.query] = c.outcome;
      continue;
    }
    const std::string what = fmt::format("{}:{}", query.repository, query.tags[p.tag]);
    Classified c = oci::classify_manifest(responses[i], "HEAD", "", what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(session, query.repository, what);
    states[p.query][p.tag].result = std::move(c);
  }

  // Phase 2: GET manifests served without a digest; tag lists where every answer was a bare 404.
  std::vector<Pending> follow;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (repo_error[q] || queries[q].tags.empty()) continue;
    bool any_found = false;
    bool any_repo_missing = false;
    bool any_ambiguous = false;
    for (const auto& s : states[q]) {
      any_found |= s.result.outcome == Outcome::kFound || s.result.outcome == Outcome::kNeedGet ||
                   s.result.outcome == Outcome::kTagMissing;
      any_repo_missing |= s.result.outcome == Outcome::kRepoMissing;
      any_ambiguous |= s.result.outcome == Outcome::kAmbiguous404;
    }
    for (std::size_t t = 0; t < states[q].size(); ++t) {
      auto& result = states[q][t].result;
      if (result.outcome == Outcome::kNeedGet) {
        follow.push_back(
            {q, t, "", manifest_request("GET", queries[q].repository, queries[q].tags[t])});
      } else if (result.outcome == Outcome::kAmbiguous404 && any_found) {
        result.outcome = Outcome::kTagMissing;  // the repository answered for another tag
      } else if (result.outcome == Outcome::kAmbiguous404 && any_repo_missing) {
        result.outcome = Outcome::kRepoMissing;
      }
    }
    if (any_ambiguous && !any_found && !any_repo_missing) {
      follow.push_back({q, states[q].size(), "", get("GET", queries[q].repository, "tags/list")});
    }
  }
  responses = run_phase(follow, queries, session);
  for (std::size_t i = 0; i < follow.size(); ++i) {
    const auto& p = follow[i];
    const auto& query = queries[p.query];
    if (p.tag == states[p.query].size()) {
      const std::string what = fmt::format("{} tag list", query.repository);
      Classified c = oci::classify_tag_list(responses[i], what);
      if (c.outcome == Outcome::kUnauthorized) c = unauthorized(session, query.repository, what);
      for (auto& s : states[p.query]) {
        if (s.result.outcome != Outcome::kAmbiguous404) continue;
        if (c.outcome == Outcome::kFound) {
          s.result.outcome = Outcome::kTagMissing;
        } else if (c.outcome == Outcome::kRepoMissing) {
          s.result.outcome = Outcome::kRepoMissing;
        } else {
          s.result = c;
        }
      }
      continue;
    }
    const std::string what = fmt::format("{}:{}", query.repository, query.tags[p.tag]);
    Classified c = oci::classify_manifest(responses[i], "GET", "", what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(session, query.repository, what);
    if (c.outcome == Outcome::kAmbiguous404) {
      c = errored(Error{"BAD_RESPONSE", fmt::format("{}: HEAD found it, GET answered 404", what)});
    }
    states[p.query][p.tag].result = std::move(c);
  }

  // Phases 3 and 4: platforms of each distinct found digest (manifest, then config blob).
  std::vector<Pending> manifests;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (!queries[q].want_platforms || repo_error[q]) continue;
    std::set<std::string> seen;
    for (const auto& s : states[q]) {
      if (s.result.outcome == Outcome::kFound && seen.insert(s.result.digest).second) {
        manifests.push_back({q, 0, s.result.digest,
                             manifest_request("GET", queries[q].repository, s.result.digest)});
      }
    }
  }
  std::map<std::pair<std::size_t, std::string>, Result<std::vector<Platform>>> platforms;
  std::vector<Pending> blobs;
  responses = run_phase(manifests, queries, session);
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    const auto& p = manifests[i];
    const std::string& repository = queries[p.query].repository;
    const std::string what = fmt::format("{}@{}", repository, p.digest);
    Classified c = oci::classify_manifest(responses[i], "GET", p.digest, what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(session, repository, what);
    const auto key = std::make_pair(p.query, p.digest);
    if (c.outcome != Outcome::kFound) {
      platforms.emplace(
          key, std::unexpected(c.outcome == Outcome::kError
                                   ? c.error
                                   : Error{"BAD_RESPONSE", fmt::format("{}: tag found but manifest "
                                                                       "by digest not found",
                                                                       what)}));
      continue;
    }
    auto content = parse_manifest(responses[i].body, what);
    if (!content) {
      platforms.emplace(key, std::unexpected(content.error()));
    } else if (content->is_index) {
      platforms.emplace(key, content->platforms);
    } else {
      auto request = get("GET", repository, fmt::format("blobs/{}", content->config_digest));
      request.follow_redirects = true;  // blobs are commonly served from a storage redirect
      blobs.push_back({p.query, 0, p.digest, std::move(request)});
    }
  }
  responses = run_phase(blobs, queries, session);
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    const auto& p = blobs[i];
    const std::string& repository = queries[p.query].repository;
    const std::string config_digest = p.request.url.substr(p.request.url.rfind('/') + 1);
    const std::string what = fmt::format("{} config blob {}", repository, config_digest);
    const auto key = std::make_pair(p.query, p.digest);
    const auto& response = responses[i];
    if (!response.error_code.empty() || response.status != 200) {
      Error error = response.status == 401 ? unauthorized(session, repository, what).error
                                           : oci::status_error(response, what);
      if (response.error_code.empty() && response.status == 404) {
        error = Error{"BAD_RESPONSE", fmt::format("{}: missing (HTTP 404)", what)};
      }
      platforms.emplace(key, std::unexpected(error));
      continue;
    }
    if (sha256_digest(response.body) != config_digest) {
      platforms.emplace(key, fail("BAD_RESPONSE", fmt::format("{}: content hashes to {}", what,
                                                              sha256_digest(response.body))));
      continue;
    }
    auto platform = parse_config_platform(response.body, what);
    if (platform) {
      platforms.emplace(key, std::vector<Platform>{*platform});
    } else {
      platforms.emplace(key, std::unexpected(platform.error()));
    }
  }

  // Assemble: per repository exists / missing / error, per tag found / missing / error.
  for (std::size_t q = 0; q < queries.size(); ++q) {
    auto& result = results[q];
    if (repo_error[q]) {
      result.status = RepositoryStatus::kError;
      result.error = *repo_error[q];
      continue;
    }
    if (queries[q].tags.empty()) {
      result.status = repo_probe[q] == Outcome::kRepoMissing ? RepositoryStatus::kMissing
                                                             : RepositoryStatus::kExists;
      continue;
    }
    bool any_answer = false;
    bool any_repo_missing = false;
    for (const auto& s : states[q]) {
      any_answer |= s.result.outcome == Outcome::kFound || s.result.outcome == Outcome::kTagMissing;
      any_repo_missing |= s.result.outcome == Outcome::kRepoMissing;
    }
    if (any_repo_missing && !any_answer) {
      result.status = RepositoryStatus::kMissing;
      continue;
    }
    std::vector<TagResult> tags;
    for (std::size_t t = 0; t < states[q].size(); ++t) {
      const auto& s = states[q][t].result;
      TagResult tag;
      tag.tag = queries[q].tags[t];
      if (s.outcome == Outcome::kFound) {
        tag.status = TagStatus::kFound;
        tag.digest = s.digest;
        tag.media_type = s.media_type;
        if (queries[q].want_platforms) {
          const auto it = platforms.find({q, s.digest});
          if (it == platforms.end()) {
            tag.status = TagStatus::kError;
            tag.error = Error{"BAD_RESPONSE", "platforms could not be read"};
          } else if (!it->second) {
            tag.status = TagStatus::kError;
            tag.error = it->second.error();
          } else {
            tag.platforms = *it->second;
          }
        }
      } else if (s.outcome == Outcome::kTagMissing || s.outcome == Outcome::kRepoMissing) {
        tag.status = TagStatus::kMissing;
      } else {
        tag.status = TagStatus::kError;
        tag.error = s.outcome == Outcome::kError
                        ? s.error
                        : Error{"BAD_RESPONSE", fmt::format("{}:{}: no conclusive answer",
                                                            queries[q].repository, tag.tag)};
      }
      tags.push_back(std::move(tag));
    }
    const bool all_errors = std::all_of(
        tags.begin(), tags.end(), [](const TagResult& t) { return t.status == TagStatus::kError; });
    if (all_errors && !any_answer) {
      result.status = RepositoryStatus::kError;
      result.error = tags.front().error;
      continue;
    }
    result.status = RepositoryStatus::kExists;
    result.tags = std::move(tags);
  }
  return results;
}

std::unique_ptr<Registry> make_oci_registry(const OciOptions& options) {
  auto endpoint = parse_oci_url(options.url);
  if (!endpoint) throw UsageError(endpoint.error().message);
  if (!options.client) throw UsageError("OCI registry backend needs an HTTP client");
  return std::make_unique<OciRegistry>(options.url, *endpoint, options.client, options.credentials);
}

}  // namespace imagegate::registry
