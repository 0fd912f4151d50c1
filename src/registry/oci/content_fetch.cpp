// Every answer is judged as strictly as the tag answers are: a manifest or blob asked for by
// digest must hash to it; a referrers answer must be an image index; 404 on the referrers
// endpoint means "no referrers API" (the distribution spec forbids 404 from a registry that has
// one), anything else that is not a success is an error, never "missing".
#include "registry/oci/content_fetch.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "registry/content.hpp"
#include "registry/oci/responses.hpp"
#include "util/text.hpp"

namespace imagegate::registry::oci {
namespace {

// Signature payloads, attestation envelopes and configs are small; a larger answer is refused.
constexpr std::size_t kMaxContentBytes = 4 * 1024 * 1024;

// RFC 3986 percent-encoding of a query value (artifact types hold '/', '+' and '.').
std::string query_escape(std::string_view value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kDigits[c >> 4], kDigits[c & 0x0f]};
    }
  }
  return out;
}

ContentResult error_result(Error error) {
  ContentResult r;
  r.status = ContentStatus::kError;
  r.error = std::move(error);
  return r;
}

ContentResult denied(AuthSession& session, const std::string& repository, std::string_view what) {
  if (auto failure = session.failure(repository)) return error_result(*failure);
  return error_result(Error{
      "AUTH_FAILED", fmt::format("{}: access denied (HTTP 401); {}", what, session.denied_hint())});
}

ContentResult judge_manifest(const http::Response& response, const ContentRequest& request,
                             AuthSession& session, std::string_view what) {
  const bool by_digest = is_sha256_digest(request.reference);
  Classified c = classify_manifest(response, "GET", by_digest ? request.reference : "", what);
  ContentResult r;
  switch (c.outcome) {
    case Outcome::kFound:
      r.status = ContentStatus::kFound;
      r.body = response.body;
      r.digest = c.digest;
      r.media_type = c.media_type;
      return r;
    case Outcome::kTagMissing:
    case Outcome::kRepoMissing:
      r.status = ContentStatus::kMissing;
      return r;
    case Outcome::kUnauthorized:
      return denied(session, request.repository, what);
    case Outcome::kAmbiguous404:
      return error_result(Error{
          "BAD_RESPONSE", fmt::format("{}: HTTP 404 without a Distribution error code", what)});
    case Outcome::kNeedGet:
    case Outcome::kError:
      break;
  }
  return error_result(c.error);
}

ContentResult judge_blob(const http::Response& response, const ContentRequest& request,
                         AuthSession& session, std::string_view what) {
  if (response.error_code.empty() && response.status == 401) {
    return denied(session, request.repository, what);
  }
  if (response.error_code.empty() && response.status == 404) {
    ContentResult r;
    r.status = ContentStatus::kMissing;
    return r;
  }
  if (!response.ok() || response.status != 200) return error_result(status_error(response, what));
  if (const std::string actual = sha256_digest(response.body); actual != request.reference) {
    return error_result(
        Error{"BAD_RESPONSE", fmt::format("{}: content hashes to {}", what, actual)});
  }
  ContentResult r;
  r.status = ContentStatus::kFound;
  r.body = response.body;
  r.digest = request.reference;
  r.media_type = strip_media_type_params(response.header("content-type").value_or(""));
  return r;
}

ContentResult judge_referrers(const http::Response& response, const ContentRequest& request,
                              AuthSession& session, std::string_view what) {
  if (response.error_code.empty() && response.status == 401) {
    return denied(session, request.repository, what);
  }
  if (response.error_code.empty() && response.status == 404) {
    ContentResult r;
    r.status = ContentStatus::kUnsupported;
    return r;
  }
  if (!response.ok() || response.status != 200) return error_result(status_error(response, what));
  const auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("manifests") ||
      !doc["manifests"].is_array()) {
    return error_result(
        Error{"BAD_RESPONSE", fmt::format("{}: the referrers answer is not an image index", what)});
  }
  ContentResult r;
  r.status = ContentStatus::kFound;
  r.body = response.body;
  r.media_type = strip_media_type_params(response.header("content-type").value_or(""));
  return r;
}

}  // namespace

std::vector<ContentResult> fetch_content(const OciEndpoint& endpoint, http::Client& client,
                                         AuthSession& session,
                                         const std::vector<ContentRequest>& requests) {
  std::vector<ContentResult> results(requests.size());
  std::vector<std::size_t> sent;
  std::vector<std::string_view> repositories;
  std::vector<http::Request> batch;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const bool digest_ref = is_sha256_digest(r.reference);
    const bool ok_ref =
        r.kind == ContentKind::kManifest ? digest_ref || is_valid_tag(r.reference) : digest_ref;
    if (!is_valid_repository_name(r.repository) || !ok_ref) {
      results[i] = error_result(Error{
          "INVALID_REFERENCE",
          fmt::format("{}@{}: not a valid repository and reference",
                      util::escape_display(r.repository), util::escape_display(r.reference))});
      continue;
    }
    if (auto failure = session.failure(r.repository)) {
      results[i] = error_result(*failure);
      continue;
    }
    http::Request request;
    request.max_body_bytes = kMaxContentBytes;
    switch (r.kind) {
      case ContentKind::kManifest:
        request.url =
            fmt::format("{}/v2/{}/manifests/{}", endpoint.base_url(), r.repository, r.reference);
        request.headers.emplace_back("Accept", manifest_accept());
        break;
      case ContentKind::kBlob:
        request.url =
            fmt::format("{}/v2/{}/blobs/{}", endpoint.base_url(), r.repository, r.reference);
        break;
      case ContentKind::kReferrers:
        request.url =
            fmt::format("{}/v2/{}/referrers/{}", endpoint.base_url(), r.repository, r.reference);
        if (!r.artifact_type.empty()) {
          request.url += "?artifactType=" + query_escape(r.artifact_type);
        }
        request.headers.emplace_back("Accept", std::string(kOciIndex));
        break;
    }
    sent.push_back(i);
    repositories.push_back(r.repository);
    batch.push_back(std::move(request));
  }
  run_authenticated(client, session, repositories, std::move(batch),
                    [&](std::size_t k, http::Response&& response) {
                      const auto& r = requests[sent[k]];
                      const std::string what = fmt::format("{}@{}", r.repository, r.reference);
                      switch (r.kind) {
                        case ContentKind::kManifest:
                          results[sent[k]] = judge_manifest(response, r, session, what);
                          break;
                        case ContentKind::kBlob:
                          results[sent[k]] = judge_blob(response, r, session, what + " blob");
                          break;
                        case ContentKind::kReferrers:
                          results[sent[k]] =
                              judge_referrers(response, r, session, what + " referrers");
                          break;
                      }
                    });
  return results;
}

}  // namespace imagegate::registry::oci
