#include "registry/oci/responses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "registry/content.hpp"

namespace imagegate::registry::oci {

std::optional<std::vector<std::string>> error_codes(std::string_view body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  const auto errors = doc.find("errors");
  if (errors == doc.end() || !errors->is_array()) return std::nullopt;
  std::vector<std::string> codes;
  for (const auto& entry : *errors) {
    if (!entry.is_object()) continue;
    const auto code = entry.find("code");
    if (code != entry.end() && code->is_string()) codes.push_back(code->get<std::string>());
  }
  return codes;
}

Error status_error(const http::Response& response, std::string_view what) {
  if (!response.error_code.empty()) {
    return Error{response.error_code, fmt::format("{}: {}", what, response.error)};
  }
  const long status = response.status;
  if (status == 401 || status == 403) {
    return Error{"AUTH_FAILED", fmt::format("{}: access denied (HTTP {})", what, status)};
  }
  if (status == 429 || status >= 500) {
    const int attempts = std::max(response.attempts, 1);
    return Error{"UNREACHABLE", fmt::format("{}: registry answered HTTP {} (after {} attempt{})",
                                            what, status, attempts, attempts == 1 ? "" : "s")};
  }
  return Error{"BAD_RESPONSE", fmt::format("{}: unexpected HTTP {}", what, status)};
}

namespace {

bool contains(const std::vector<std::string>& codes, std::string_view code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

Classified error_of(Error error) {
  Classified c;
  c.outcome = Outcome::kError;
  c.error = std::move(error);
  return c;
}

Classified bad(std::string message) {
  return error_of(Error{"BAD_RESPONSE", std::move(message)});
}

}  // namespace

Classified classify_manifest(const http::Response& response, std::string_view method,
                             std::string_view requested_digest, std::string_view what) {
  if (!response.error_code.empty()) return error_of(status_error(response, what));
  const bool head = method == "HEAD";
  if (response.status == 200) {
    Classified c;
    c.media_type = strip_media_type_params(response.header("content-type").value_or(""));
    const auto reported = response.header("docker-content-digest");
    if (reported && !is_sha256_digest(*reported)) {
      return bad(fmt::format("{}: Docker-Content-Digest \"{}\" is not a sha256 digest", what,
                             reported->substr(0, 80)));
    }
    if (head) {
      if (!reported) {
        c.outcome = Outcome::kNeedGet;
        return c;
      }
      c.outcome = Outcome::kFound;
      c.digest = *reported;
      return c;
    }
    const std::string computed = sha256_digest(response.body);
    if (reported && *reported != computed) {
      return bad(fmt::format("{}: manifest body hashes to {} but the registry reported {}", what,
                             computed, *reported));
    }
    if (!requested_digest.empty() && requested_digest != computed) {
      return bad(fmt::format("{}: manifest body hashes to {} but {} was requested", what, computed,
                             requested_digest));
    }
    c.outcome = Outcome::kFound;
    c.digest = computed;
    return c;
  }
  if (response.status == 401) {
    Classified c;
    c.outcome = Outcome::kUnauthorized;
    c.error = status_error(response, what);
    return c;
  }
  if (response.status == 404) {
    Classified c;
    const auto codes = error_codes(response.body);
    if (codes && contains(*codes, "NAME_UNKNOWN")) {
      c.outcome = Outcome::kRepoMissing;
    } else if (codes && (contains(*codes, "MANIFEST_UNKNOWN") || contains(*codes, "TAG_UNKNOWN"))) {
      c.outcome = Outcome::kTagMissing;
    } else if (head || response.body.empty()) {
      c.outcome = Outcome::kAmbiguous404;
    } else {
      return bad(fmt::format("{}: HTTP 404 without a Distribution error code", what));
    }
    return c;
  }
  return error_of(status_error(response, what));
}

Classified classify_tag_list(const http::Response& response, std::string_view what) {
  Classified c;
  if (!response.error_code.empty()) return error_of(status_error(response, what));
  if (response.status == 200) {
    const auto doc = nlohmann::json::parse(response.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return bad(fmt::format("{}: tag list is not a JSON object", what));
    }
    c.outcome = Outcome::kFound;
    return c;
  }
  if (response.status == 401) {
    c.outcome = Outcome::kUnauthorized;
    c.error = status_error(response, what);
    return c;
  }
  if (response.status == 404) {
    // The tag list exists for every repository, so an empty 404 means the repository does not;
    // a 404 with some other body (a proxy's HTML page) proves nothing.
    const auto codes = error_codes(response.body);
    if ((codes && contains(*codes, "NAME_UNKNOWN")) || response.body.empty()) {
      c.outcome = Outcome::kRepoMissing;
      return c;
    }
    return bad(fmt::format("{}: HTTP 404 without NAME_UNKNOWN", what));
  }
  return error_of(status_error(response, what));
}

}  // namespace imagegate::registry::oci
