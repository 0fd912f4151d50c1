// Image references as the distribution project defines them ([registry/]repository[:tag][@digest]),
// parsed strictly and kept as written: nothing is normalised behind the caller's back, and the
// Docker Hub defaults are applied only when two references are compared.
#pragma once

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace imagegate::reference {

// Longest repository name (registry included) the grammar allows.
inline constexpr std::size_t kMaxNameLength = 255;

struct ImageReference {
  std::string registry;    // host[:port] as written, may be empty (Docker Hub)
  std::string repository;  // path, e.g. "afu9/control-center"
  std::string tag;         // may be empty
  std::string digest;      // "sha256:<64 hex>" or "sha512:<128 hex>", may be empty

  // "[registry/]repository"
  std::string name() const;
  // The reference as written: name()[:tag][@digest].
  std::string to_string() const;
  bool operator==(const ImageReference&) const = default;
};

// Parses a reference. Errors: REFERENCE_INVALID, the message naming the reference (escaped) and
// what is wrong with it.
Result<ImageReference> parse_reference(std::string_view text);

// True for "sha256:" + 64 or "sha512:" + 128 lower-case hex characters.
bool is_valid_digest(std::string_view digest);

// True for a repository path of the distribution spec: path components joined by '/', each
// [a-z0-9]+ with the separators '.', '_', '__' or a run of '-' between alphanumeric runs. The
// length limit (kMaxNameLength) is not checked here.
bool is_repository_path(std::string_view path);

// Whether a and b name the same repository on the same registry. Registry hosts compare
// case-insensitively; Docker Hub's spellings (none, docker.io, index.docker.io,
// registry-1.docker.io) are one registry whose single-component names live under "library/".
bool same_repository(const ImageReference& a, const ImageReference& b);

}  // namespace imagegate::reference
