// The images manifest: model, loading (size, UTF-8, JSON with position), JSON Schema validation,
// semantic checks against the repository, and the tag templates derived from it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "findings/findings.hpp"
#include "util/error.hpp"

namespace imagegate::manifest {

inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// What every found digest must prove about its origin ("provenance"; the manifest's top-level
// object is the default, an image's own object replaces the fields it names).
struct AttestationRule {
  std::string predicate_type;  // e.g. "https://slsa.dev/provenance/v1"
  bool required = true;
};

// A keyless signer the policy accepts: the OIDC issuer and the certificate's subject (SAN),
// exactly or by a regular expression.
struct IdentityRule {
  std::string issuer;
  std::string subject;
  std::string subject_regexp;
};

struct Provenance {
  bool declared = false;                // a provenance policy applies to the image
  std::string revision = "if-present";  // "required" | "if-present" | "off"
  std::vector<std::string> keys;        // PEM public key files, relative to the manifest's folder
  bool signatures_required = false;     // default: true when keys are named
  std::vector<AttestationRule> attestations;
  std::vector<IdentityRule> identities;  // keyless: Sigstore bundles by one of them required
};

// "scan": {"maxSeverity": "HIGH"}: the opt-in ECR scan gate. max_severity is the value as
// written (checked by scan::effective_policy: an unknown one is an input error, since a typo
// would switch the check off).
struct ScanPolicy {
  bool declared = false;     // "scan" is present (of any type)
  bool well_formed = false;  // an object with a string maxSeverity
  std::string max_severity;
};

struct Image {
  std::size_t index = 0;  // position in images[], for JSON pointers in findings
  std::string id;
  std::string name;  // repository name
  std::string dockerfile;
  std::string context;
  bool required = true;
  std::string container;                // taskDefContainerName
  std::vector<std::string> platforms;   // effective: the image's own, else the manifest default
  std::vector<std::string> build_args;  // buildArgs: names; values come from the command line
  std::string health_check;             // healthCheck, e.g. "/api/ready" (documentation only)
  // conditionalOn: built and deployed only in these environments (nullopt: all; empty: none)
  // and only with this feature enabled (empty: always).
  std::optional<std::vector<std::string>> only_environments;
  std::string only_feature;
  Provenance provenance;  // effective: the default with the image's own fields
};

// An image conditionalOn leaves out of this deploy, and why.
struct Exclusion {
  std::string id;
  std::string container;
  std::string reason;
};

// A key that appears twice in one JSON object (the parser keeps the last one).
struct DuplicateKey {
  std::string pointer;  // of the value, e.g. "/images/0/required"
  std::string key;
  std::size_t line = 0, column = 0;              // the second occurrence
  std::size_t first_line = 0, first_column = 0;  // the first
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
  std::vector<DuplicateKey> duplicate_keys;
  std::vector<Exclusion> excluded;  // filled by select_images
  Provenance default_provenance;
  ScanPolicy scan;

  const Image* find_image(std::string_view id) const;
};

// Reads and parses the manifest. Errors (exit 2) carry a code: MANIFEST_NOT_FOUND,
// MANIFEST_UNREADABLE, MANIFEST_TOO_LARGE, MANIFEST_NOT_UTF8, MANIFEST_INVALID_JSON (with line
// and column). The model is built from whatever parts have the right types, so semantic checks
// can run even when the schema finds violations.
Result<Manifest> load(const std::filesystem::path& path);

// Parses a manifest already in memory (for tests and fuzzing); `path` is only for messages.
Result<Manifest> parse(std::string_view text, const std::filesystem::path& path);

// What a check run looks at: --strict makes unknown keys errors; only validate and matrix look
// at the Dockerfiles and contexts (a deploy job often has the manifest but not the build tree).
struct CheckOptions {
  bool strict = false;
  bool check_files = true;
};

// Keys the schema does not know, at each level (its "properties"): a near miss of a known key
// ("platfroms", "requried", "dockerFile") is an UNKNOWN_FIELD error with "did you mean"; any
// other is an UNKNOWN_FIELD warning, or an error with strict. And DUPLICATE_KEY errors.
void check_keys(const Manifest& manifest, bool strict, findings::Findings& findings);

// One RFC 6901 reference token: "~" -> "~0", "/" -> "~1".
std::string json_pointer_token(std::string_view key);

// Damerau-Levenshtein (optimal string alignment) distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

// Compiles the embedded schema for check_schema on a thread of its own, so that what a command
// does first (its command line, libcurl's and OpenSSL's set-up, reading the manifest) runs beside
// it on another core; check_schema waits for it. The returned thread is joined when destroyed.
// A compilation that throws is left to check_schema, which compiles again and reports it.
std::jthread compile_schema_in_background();

// JSON Schema validation (valijson) with the schema compiled into the binary: one
// SCHEMA_VIOLATION finding per violated leaf, subject = JSON pointer.
void check_schema(const Manifest& manifest, findings::Findings& findings);

// Semantic checks: Dockerfiles and contexts inside `root`, ecrRepositories equal to the image
// names, unique ids/names/containers, tagging (strategy, prefixes, templates).
void check_semantics(const Manifest& manifest, const std::filesystem::path& root,
                     findings::Findings& findings, bool check_files = true);

// check_keys + check_schema + check_semantics.
findings::Findings validate(const Manifest& manifest, const std::filesystem::path& root,
                            const CheckOptions& options = {});

// Leaves out the images conditionalOn excludes for env (a canonical environment key) and the
// enabled features; records each in manifest.excluded with its reason.
void select_images(Manifest& manifest, std::string_view env,
                   const std::vector<std::string>& features);

}  // namespace imagegate::manifest
