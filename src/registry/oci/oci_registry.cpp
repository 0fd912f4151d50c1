// resolve() runs in phases, each phase one concurrent batch: HEAD every tag (a GET for the first
// tag of a query that wants the manifest's bytes; a 401 gets one challenge round and a retry
// batch), then the follow-ups (GET manifests served without a digest,
// tag lists to tell a missing repository from a missing tag), then manifests and config blobs
// for platforms. Anything not proven is an error, never kFound.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "registry/content.hpp"
#include "registry/oci/auth_session.hpp"
#include "registry/oci/content_fetch.hpp"
#include "registry/oci/oci.hpp"
#include "registry/oci/responses.hpp"

namespace imagegate::registry {

namespace {

using oci::Classified;
using oci::Outcome;

// One request of a phase and what it is about.
struct Pending {
  std::size_t query = 0;
  std::size_t tag = 0;        // index into the query's tags; tags.size() for a tag list
  std::string digest;         // manifest digest, for platform requests
  bool get = false;           // a GET (the bytes come with it) rather than a HEAD
  std::string config_digest;  // of the config blob requested
};

// The requests of one phase, side by side with what each is about. The requests go to the
// client as they are (no copies); each answer is judged as it arrives and then dropped.
struct Phase {
  std::vector<Pending> pending;
  std::vector<http::Request> requests;
  void reserve(std::size_t n) {
    pending.reserve(n);
    requests.reserve(n);
  }
  void add(std::size_t query, std::size_t tag, http::Request request, std::string digest = {},
           std::string config_digest = {}) {
    const bool get = request.method == "GET";
    pending.push_back({query, tag, std::move(digest), get, std::move(config_digest)});
    requests.push_back(std::move(request));
  }
};

Classified errored(Error error) {
  Classified c;
  c.outcome = Outcome::kError;
  c.error = std::move(error);
  return c;
}

// The state of one resolve() call.
class Resolution {
 public:
  Resolution(const OciEndpoint& endpoint, http::Client& client,
             const std::vector<TagQuery>& queries, oci::AuthSession& session)
      : endpoint_(endpoint),
        client_(client),
        queries_(queries),
        session_(session),
        states_(queries.size()),
        repo_error_(queries.size()),
        repo_probe_(queries.size(), Outcome::kAmbiguous404),
        bodies_(queries.size()) {
    for (std::size_t q = 0; q < queries.size(); ++q) states_[q].resize(queries[q].tags.size());
  }

  // Rejects what cannot be asked; returns the distinct repositories that can.
  std::vector<std::string> check_inputs(const std::optional<Error>& store_error);
  void head_tags();
  void follow_up();
  void read_platforms();
  std::vector<RepositoryResult> assemble() const;

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
    request.headers.emplace_back("Accept", accept_);
    return request;
  }
  const std::string& repository(const Pending& p) const { return queries_[p.query].repository; }
  // Runs the phase; judge gets each request's Pending and final answer as the answer arrives.
  void run_phase(Phase& phase, const std::function<void(const Pending&, http::Response&&)>& judge);
  // A 401 that survived authentication: the session's own failure when it has one.
  Classified unauthorized(const std::string& repository, std::string_view what) const;
  void settle_with_tag_list(std::size_t query, const http::Response& response);
  // A GET's manifest: a body that is not a manifest (a proxy's HTML page) must not yield a
  // digest; a query that wants the bytes keeps them.
  void read_body(std::size_t query, Classified& c, const http::Response& response,
                 std::string_view what);

  const OciEndpoint& endpoint_;
  http::Client& client_;
  const std::vector<TagQuery>& queries_;
  oci::AuthSession& session_;
  std::vector<std::vector<Classified>> states_;   // per query, per tag
  std::vector<std::optional<Error>> repo_error_;  // per query
  std::vector<Outcome> repo_probe_;               // tag-list answer for queries without tags
  std::map<std::pair<std::size_t, std::string>, Result<std::vector<Platform>>> platforms_;
  std::map<std::pair<std::size_t, std::string>, std::vector<IndexEntry>> entries_;  // of indexes
  std::vector<std::map<std::string, std::string>> bodies_;  // per query: digest -> manifest
  const std::string accept_ = manifest_accept();
};

void Resolution::read_body(std::size_t query, Classified& c, const http::Response& response,
                           std::string_view what) {
  if (c.outcome != Outcome::kFound) return;
  auto content = parse_manifest(response.body, what);
  if (!content) {
    c = errored(content.error());
    return;
  }
  if (c.media_type.empty()) c.media_type = content->media_type;
  if (queries_[query].want_manifest) bodies_[query].emplace(c.digest, response.body);
}

void Resolution::run_phase(Phase& phase,
                           const std::function<void(const Pending&, http::Response&&)>& judge) {
  std::vector<std::string_view> repositories;
  repositories.reserve(phase.pending.size());
  for (const auto& p : phase.pending) repositories.push_back(repository(p));
  oci::run_authenticated(client_, session_, repositories, std::move(phase.requests),
                         [&](std::size_t i, http::Response&& response) {
                           judge(phase.pending[i], std::move(response));
                         });
}

Classified Resolution::unauthorized(const std::string& repository, std::string_view what) const {
  if (auto failure = session_.failure(repository)) return errored(*failure);
  return errored(Error{"AUTH_FAILED", fmt::format("{}: access denied (HTTP 401); {}", what,
                                                  session_.denied_hint())});
}

std::vector<std::string> Resolution::check_inputs(const std::optional<Error>& store_error) {
  std::vector<std::string> repositories;
  std::set<std::string_view> listed;
  for (std::size_t q = 0; q < queries_.size(); ++q) {
    const auto& query = queries_[q];
    if (!is_valid_repository_name(query.repository)) {
      repo_error_[q] = Error{"INVALID_REFERENCE",
                             fmt::format("\"{}\" is not a valid repository name (lower-case "
                                         "components of [a-z0-9._-] separated by '/')",
                                         query.repository)};
      continue;
    }
    if (store_error) {
      repo_error_[q] = store_error;
      continue;
    }
    for (std::size_t t = 0; t < query.tags.size(); ++t) {
      if (!is_valid_tag(query.tags[t])) {
        states_[q][t] = errored(
            Error{"INVALID_REFERENCE", fmt::format("\"{}\" is not a valid tag", query.tags[t])});
      }
    }
    if (listed.insert(query.repository).second) repositories.push_back(query.repository);
  }
  return repositories;
}

void Resolution::head_tags() {
  Phase heads;
  std::size_t count = 0;
  for (const auto& query : queries_) count += std::max<std::size_t>(query.tags.size(), 1);
  heads.reserve(count);
  for (std::size_t q = 0; q < queries_.size(); ++q) {
    if (!repo_error_[q]) repo_error_[q] = session_.failure(queries_[q].repository);
    if (repo_error_[q]) continue;
    const auto& query = queries_[q];
    // Without tags, only existence is asked: the tag list answers it.
    if (query.tags.empty()) heads.add(q, 0, get("GET", query.repository, "tags/list"));
    bool get = query.want_manifest;  // one GET instead of a HEAD: the bytes come with it
    for (std::size_t t = 0; t < query.tags.size(); ++t) {
      if (!is_valid_tag(query.tags[t])) continue;  // its error is set already
      heads.add(q, t, manifest_request(get ? "GET" : "HEAD", query.repository, query.tags[t]));
      get = false;
    }
  }
  run_phase(heads, [&](const Pending& p, http::Response&& response) {
    const auto& query = queries_[p.query];
    if (query.tags.empty()) {
      const std::string what = fmt::format("{} tag list", query.repository);
      Classified c = oci::classify_tag_list(response, what);
      if (c.outcome == Outcome::kUnauthorized) c = unauthorized(query.repository, what);
      if (c.outcome == Outcome::kError) repo_error_[p.query] = c.error;
      repo_probe_[p.query] = c.outcome;
      return;
    }
    const std::string what = fmt::format("{}:{}", query.repository, query.tags[p.tag]);
    Classified c = oci::classify_manifest(response, p.get ? "GET" : "HEAD", "", what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(query.repository, what);
    if (p.get) {
      // Some registries (docker-registry 2.8) answer MANIFEST_UNKNOWN for a repository that does
      // not exist: a 404 is judged as a HEAD's would be (other tags, else the tag list decide).
      if (c.outcome == Outcome::kTagMissing) c.outcome = Outcome::kAmbiguous404;
      read_body(p.query, c, response, what);
    }
    states_[p.query][p.tag] = std::move(c);
  });
}

void Resolution::settle_with_tag_list(std::size_t query, const http::Response& response) {
  const std::string& repo = queries_[query].repository;
  const std::string what = fmt::format("{} tag list", repo);
  Classified c = oci::classify_tag_list(response, what);
  if (c.outcome == Outcome::kUnauthorized) c = unauthorized(repo, what);
  for (auto& state : states_[query]) {
    if (state.outcome != Outcome::kAmbiguous404) continue;
    if (c.outcome == Outcome::kFound) {
      state.outcome = Outcome::kTagMissing;  // the repository exists
    } else if (c.outcome == Outcome::kRepoMissing) {
      state.outcome = Outcome::kRepoMissing;
    } else {
      state = c;
    }
  }
}

void Resolution::follow_up() {
  Phase follow;
  for (std::size_t q = 0; q < queries_.size(); ++q) {
    if (repo_error_[q] || queries_[q].tags.empty()) continue;
    bool repo_answered = false;
    bool repo_missing = false;
    bool any_ambiguous = false;
    for (const auto& s : states_[q]) {
      repo_answered |= s.outcome == Outcome::kFound || s.outcome == Outcome::kNeedGet ||
                       s.outcome == Outcome::kTagMissing;
      repo_missing |= s.outcome == Outcome::kRepoMissing;
      any_ambiguous |= s.outcome == Outcome::kAmbiguous404;
    }
    for (std::size_t t = 0; t < states_[q].size(); ++t) {
      auto& state = states_[q][t];
      if (state.outcome == Outcome::kNeedGet) {
        follow.add(q, t, manifest_request("GET", queries_[q].repository, queries_[q].tags[t]));
      } else if (state.outcome == Outcome::kAmbiguous404 && repo_answered) {
        state.outcome = Outcome::kTagMissing;  // the repository answered for another tag
      } else if (state.outcome == Outcome::kAmbiguous404 && repo_missing) {
        state.outcome = Outcome::kRepoMissing;
      }
    }
    if (any_ambiguous && !repo_answered && !repo_missing) {
      follow.add(q, states_[q].size(), get("GET", queries_[q].repository, "tags/list"));
    }
  }
  run_phase(follow, [&](const Pending& p, http::Response&& response) {
    if (p.tag == states_[p.query].size()) {
      settle_with_tag_list(p.query, response);
      return;
    }
    const std::string what = fmt::format("{}:{}", repository(p), queries_[p.query].tags[p.tag]);
    Classified c = oci::classify_manifest(response, "GET", "", what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(repository(p), what);
    if (c.outcome == Outcome::kAmbiguous404) {
      c = errored(Error{"BAD_RESPONSE", fmt::format("{}: HEAD found it, GET answered 404", what)});
    }
    read_body(p.query, c, response, what);
    states_[p.query][p.tag] = std::move(c);
  });
}

void Resolution::read_platforms() {
  // Each distinct digest of a repository once: its manifest, then (single images) its config.
  Phase manifests;
  for (std::size_t q = 0; q < queries_.size(); ++q) {
    if (!queries_[q].want_platforms || repo_error_[q]) continue;
    std::set<std::string> seen;
    for (const auto& s : states_[q]) {
      if (s.outcome == Outcome::kFound && seen.insert(s.digest).second) {
        manifests.add(q, 0, manifest_request("GET", queries_[q].repository, s.digest), s.digest);
      }
    }
  }
  Phase configs;
  run_phase(manifests, [&](const Pending& p, http::Response&& response) {
    const std::string what = fmt::format("{}@{}", repository(p), p.digest);
    const auto key = std::make_pair(p.query, p.digest);
    Classified c = oci::classify_manifest(response, "GET", p.digest, what);
    if (c.outcome == Outcome::kUnauthorized) c = unauthorized(repository(p), what);
    if (c.outcome != Outcome::kFound) {
      platforms_.emplace(
          key, std::unexpected(c.outcome == Outcome::kError
                                   ? c.error
                                   : Error{"BAD_RESPONSE", fmt::format("{}: tag found but manifest "
                                                                       "by digest not found",
                                                                       what)}));
      return;
    }
    auto content = parse_manifest(response.body, what);
    if (content && queries_[p.query].want_manifest) {
      bodies_[p.query].emplace(p.digest, std::move(response.body));
    }
    if (!content) {
      platforms_.emplace(key, std::unexpected(content.error()));
    } else if (content->is_index) {
      platforms_.emplace(key, content->platforms);
      entries_.emplace(key, content->entries);
    } else {
      // Blobs are commonly served from a storage redirect; the client follows it.
      configs.add(p.query, 0,
                  get("GET", repository(p), fmt::format("blobs/{}", content->config_digest)),
                  p.digest, content->config_digest);
    }
  });
  run_phase(configs, [&](const Pending& p, http::Response&& response) {
    const std::string& config_digest = p.config_digest;
    const std::string what = fmt::format("{} config blob {}", repository(p), config_digest);
    const auto key = std::make_pair(p.query, p.digest);
    if (!response.error_code.empty() || response.status != 200) {
      Error error = response.status == 401 ? unauthorized(repository(p), what).error
                                           : oci::status_error(response, what);
      if (response.error_code.empty() && response.status == 404) {
        error = Error{"BAD_RESPONSE", fmt::format("{}: missing (HTTP 404)", what)};
      }
      platforms_.emplace(key, std::unexpected(error));
      return;
    }
    if (const std::string actual = sha256_digest(response.body); actual != config_digest) {
      platforms_.emplace(
          key, fail("BAD_RESPONSE", fmt::format("{}: content hashes to {}", what, actual)));
      return;
    }
    auto platform = parse_config_platform(response.body, what);
    if (platform) {
      platforms_.emplace(key, std::vector<Platform>{*platform});
    } else {
      platforms_.emplace(key, std::unexpected(platform.error()));
    }
  });
}

std::vector<RepositoryResult> Resolution::assemble() const {
  std::vector<RepositoryResult> results(queries_.size());
  for (std::size_t q = 0; q < queries_.size(); ++q) {
    const auto& query = queries_[q];
    auto& result = results[q];
    result.repository = query.repository;
    result.uri = fmt::format("{}/{}", endpoint_.host, query.repository);
    if (session_.credentials_withheld()) {
      result.warnings.push_back(Error{"CREDENTIALS_WITHHELD", session_.denied_hint()});
    }
    if (repo_error_[q]) {
      result.status = RepositoryStatus::kError;
      result.error = *repo_error_[q];
      continue;
    }
    if (query.tags.empty()) {
      result.status = repo_probe_[q] == Outcome::kRepoMissing ? RepositoryStatus::kMissing
                                                              : RepositoryStatus::kExists;
      continue;
    }
    bool repo_answered = false;
    bool repo_missing = false;
    for (const auto& s : states_[q]) {
      repo_answered |= s.outcome == Outcome::kFound || s.outcome == Outcome::kTagMissing;
      repo_missing |= s.outcome == Outcome::kRepoMissing;
    }
    if (repo_missing && !repo_answered) {
      result.status = RepositoryStatus::kMissing;
      continue;
    }
    for (std::size_t t = 0; t < states_[q].size(); ++t) {
      const auto& s = states_[q][t];
      TagResult tag;
      tag.tag = query.tags[t];
      if (s.outcome == Outcome::kFound) {
        tag.status = TagStatus::kFound;
        tag.digest = s.digest;
        tag.media_type = s.media_type;
        if (const auto body = bodies_[q].find(s.digest); body != bodies_[q].end()) {
          tag.manifest = body->second;
        }
        if (query.want_platforms) {
          const auto it = platforms_.find({q, s.digest});
          if (it == platforms_.end()) {
            tag.status = TagStatus::kError;
            tag.error = Error{"BAD_RESPONSE", "platforms could not be read"};
          } else if (!it->second) {
            tag.status = TagStatus::kError;
            tag.error = it->second.error();
          } else {
            tag.platforms = *it->second;
            if (const auto e = entries_.find({q, s.digest}); e != entries_.end()) {
              tag.entries = e->second;
            }
          }
        }
      } else if (s.outcome == Outcome::kTagMissing || s.outcome == Outcome::kRepoMissing) {
        tag.status = TagStatus::kMissing;
      } else {
        tag.status = TagStatus::kError;
        tag.error = s.outcome == Outcome::kError
                        ? s.error
                        : Error{"BAD_RESPONSE", fmt::format("{}:{}: no conclusive answer",
                                                            query.repository, tag.tag)};
      }
      result.tags.push_back(std::move(tag));
    }
    // Nothing but errors: the repository itself could not be checked.
    if (!repo_answered) {
      result.status = RepositoryStatus::kError;
      result.error = result.tags.front().error;
      result.tags.clear();
      continue;
    }
    result.status = RepositoryStatus::kExists;
  }
  return results;
}

class OciRegistry final : public Registry {
 public:
  OciRegistry(std::string url, OciEndpoint endpoint, std::shared_ptr<http::Client> client,
              std::shared_ptr<auth::CredentialStore> credentials)
      : url_(std::move(url)),
        endpoint_(std::move(endpoint)),
        client_(std::move(client)),
        credentials_(std::move(credentials)) {}

  std::string describe() const override { return url_; }

  std::vector<RepositoryResult> resolve(const std::vector<TagQuery>& queries) override {
    std::optional<Error> store_error;
    // The session outlives the call: fetch() reuses its tokens for the provenance step.
    session_ = make_session(store_error);
    Resolution resolution(endpoint_, *client_, queries, *session_);
    const auto repositories = resolution.check_inputs(store_error);
    if (!store_error) session_->prepare(repositories);
    resolution.head_tags();
    resolution.follow_up();
    resolution.read_platforms();
    return resolution.assemble();
  }

  std::vector<ContentResult> fetch(const std::vector<ContentRequest>& requests) override {
    std::optional<Error> store_error;
    if (!session_) {
      session_ = make_session(store_error);
      if (!store_error) {
        std::vector<std::string> repositories;
        for (const auto& r : requests) {
          if (is_valid_repository_name(r.repository) &&
              std::find(repositories.begin(), repositories.end(), r.repository) ==
                  repositories.end()) {
            repositories.push_back(r.repository);
          }
        }
        session_->prepare(repositories);
      }
    }
    if (store_error) {
      std::vector<ContentResult> results(requests.size());
      for (auto& r : results) r.error = *store_error;
      return results;
    }
    return oci::fetch_content(endpoint_, *client_, *session_, requests);
  }

 private:
  std::unique_ptr<oci::AuthSession> make_session(std::optional<Error>& store_error) const {
    std::optional<auth::Credential> credential;
    if (credentials_) {
      auto found = credentials_->find(endpoint_.host);
      if (found) {
        credential = *found;
      } else {
        store_error = found.error();
      }
    }
    return std::make_unique<oci::AuthSession>(endpoint_, *client_, credential);
  }

  std::string url_;
  OciEndpoint endpoint_;
  std::shared_ptr<http::Client> client_;
  std::shared_ptr<auth::CredentialStore> credentials_;
  std::unique_ptr<oci::AuthSession> session_;
};

}  // namespace

std::unique_ptr<Registry> make_oci_registry(const OciOptions& options) {
  auto endpoint = parse_oci_url(options.url);
  if (!endpoint) throw UsageError(endpoint.error().message);
  if (!options.client) throw UsageError("OCI registry backend needs an HTTP client");
  return std::make_unique<OciRegistry>(options.url, *endpoint, options.client, options.credentials);
}

}  // namespace imagegate::registry
