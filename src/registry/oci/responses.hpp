// How the OCI backend reads registry answers: one classification for every manifest, tag list
// and blob response, so each phase judges status codes, digests and error bodies the same way.
// Internal to the OCI backend.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::registry::oci {

enum class Outcome {
  kFound,         // 200 with a well-formed sha256 digest
  kNeedGet,       // HEAD 200 without Docker-Content-Digest: GET and hash the body
  kTagMissing,    // 404 MANIFEST_UNKNOWN / TAG_UNKNOWN
  kRepoMissing,   // 404 NAME_UNKNOWN
  kAmbiguous404,  // 404 without a readable error body (HEAD has none)
  kUnauthorized,  // 401 (answered by the auth session, or AUTH_FAILED)
  kError,         // anything else; see error
};

struct Classified {
  Outcome outcome = Outcome::kError;
  std::string digest;
  std::string media_type;
  Error error;
};

// The errors[].code values of a Distribution error body; nullopt when the body is not one.
std::optional<std::vector<std::string>> error_codes(std::string_view body);

// A manifest answer. `method` is HEAD or GET; `requested_digest` is set when the manifest was
// asked for by digest (the body must hash to it). `what` names the subject for messages.
Classified classify_manifest(const http::Response& response, std::string_view method,
                             std::string_view requested_digest, std::string_view what);

// GET /v2/<name>/tags/list: kFound (repository exists), kRepoMissing, kUnauthorized or kError.
Classified classify_tag_list(const http::Response& response, std::string_view what);

// The error for an answer that is not a success (transport error, 403, 429/5xx, other).
Error status_error(const http::Response& response, std::string_view what);

}  // namespace imagegate::registry::oci
