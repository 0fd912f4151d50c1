// The images manifest: model, loading (size, UTF-8, JSON with position), JSON Schema validation,
// semantic checks against the repository, and the tag templates derived from it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/findings.hpp"
#include "util/error.hpp"

namespace imagegate::manifest {

inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// What every found digest must prove about its origin ("provenance"; the manifest's top-level
// object is the default, an image's own object replaces the fields it names).
struct AttestationRule {
  std::string predicate_type;  // e.g. "https://slsa.dev/provenance/v1"
  bool required = true;
};

struct Provenance {
  bool declared = false;                // a provenance policy applies to the image
  std::string revision = "if-present";  // "required" | "if-present" | "off"
  std::vector<std::string> keys;        // PEM public key files, relative to the manifest's folder
  bool signatures_required = false;     // default: true when keys are named
  std::vector<AttestationRule> attestations;
};

struct Image {
  std::size_t index = 0;  // position in images[], for JSON pointers in findings
  std::string id;
  std::string name;  // repository name
  std::string dockerfile;
  std::string context;
  bool required = true;
  std::string container;               // taskDefContainerName
  std::vector<std::string> platforms;  // effective: the image's own, else the manifest default
  Provenance provenance;               // effective: the default with the image's own fields
};

struct Tagging {
  std::string strategy;
  std::vector<std::pair<std::string, std::string>> prefixes;  // env -> prefix, sorted by env
  std::vector<std::string> templates;                         // alwaysTag

  const std::string* prefix_for(std::string_view env) const;
};

struct Manifest {
  std::filesystem::path path;  // as given
  std::string sha256;          // of the file's bytes, hex
  nlohmann::json document;
  std::string version;
  std::vector<Image> images;
  std::optional<std::vector<std::string>> ecr_repositories;
  Tagging tagging;
  std::optional<std::string> registry;
  std::vector<std::string> default_platforms;
  Provenance default_provenance;

  const Image* find_image(std::string_view id) const;
};

// Reads and parses the manifest. Errors (exit 2) carry a code: MANIFEST_NOT_FOUND,
// MANIFEST_UNREADABLE, MANIFEST_TOO_LARGE, MANIFEST_NOT_UTF8, MANIFEST_INVALID_JSON (with line
// and column). The model is built from whatever parts have the right types, so semantic checks
// can run even when the schema finds violations.
Result<Manifest> load(const std::filesystem::path& path);

// Parses a manifest already in memory (for tests and fuzzing); `path` is only for messages.
Result<Manifest> parse(std::string_view text, const std::filesystem::path& path);

// JSON Schema validation (valijson) with the schema compiled into the binary: one
// SCHEMA_VIOLATION finding per violated leaf, subject = JSON pointer.
void check_schema(const Manifest& manifest, report::Findings& findings);

// Semantic checks: Dockerfiles and contexts inside `root`, ecrRepositories equal to the image
// names, unique ids/names/containers, tagging (strategy, prefixes, templates).
void check_semantics(const Manifest& manifest, const std::filesystem::path& root,
                     report::Findings& findings);

// check_schema + check_semantics.
report::Findings validate(const Manifest& manifest, const std::filesystem::path& root);

}  // namespace imagegate::manifest
