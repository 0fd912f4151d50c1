// AWS configuration as the SDKs read it: an injectable environment, the shared config and
// credentials files with their profiles, and how region, endpoints and the retry budget are
// chosen. Bad values throw UsageError (exit 2) naming the variable or file.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace imagegate::aws {

// Read access to environment variables, so tests never touch the process environment.
class Environment {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

  explicit Environment(Lookup lookup) : lookup_(std::move(lookup)) {}
  // The process environment (getenv).
  static Environment system();
  // A fixed set of variables; everything else is unset.
  static Environment from_map(std::map<std::string, std::string> variables);

  // The value, or nullopt when unset or empty (the SDKs treat both the same).
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, std::string_view fallback) const;
  // "true"/"false" in any case; anything else is a UsageError naming the variable.
  bool get_bool(const std::string& name, bool fallback) const;

 private:
  Lookup lookup_;
};

// Key/value pairs of one profile section (keys lower-cased).
using Profile = std::map<std::string, std::string>;

// Where the shared files are and which profile is selected.
struct SharedConfig {
  std::string credentials_file;   // AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials
  std::string config_file;        // AWS_CONFIG_FILE, default ~/.aws/config
  std::string profile_name;       // AWS_PROFILE, default "default"
  bool profile_from_env = false;  // named explicitly (AWS_PROFILE or the override)
  std::string profile_origin = "AWS_PROFILE";  // what named it, for messages
  // Named by the caller (--registry-profile), as the CLI's --profile: environment keys are not
  // used then (a credential_source = Environment still reads them).
  bool profile_explicit = false;
  std::optional<Profile> credentials_section;  // [name] in the credentials file
  std::optional<Profile> config_section;       // [profile name] (or [default]) in the config file
  // Both files' text, kept so that source_profile chains and sso-session sections can be read.
  std::string credentials_text;
  std::string config_text;

  bool has_profile() const { return credentials_section || config_section; }
  // A key from the credentials file, else from the config file.
  std::optional<std::string> value(const std::string& key) const;
  // A key of the credentials file section only, or of the config file section only.
  std::optional<std::string> credentials_value(const std::string& key) const;
  std::optional<std::string> config_value(const std::string& key) const;
  // The same files with another profile selected (source_profile), as if named explicitly.
  SharedConfig with_profile(const std::string& name) const;
  // [sso-session name] of the config file.
  std::optional<Profile> sso_session(const std::string& name) const;
};

// Reads both shared files for the selected profile: profile_override (--registry-profile), else
// AWS_PROFILE, else "default". Missing files are fine (no section); a file that exists but
// cannot be read is a UsageError.
SharedConfig load_shared_config(const Environment& env,
                                const std::optional<std::string>& profile_override = std::nullopt);

// Parses INI text as the AWS CLI does: '#'/';' comments, "key = value", indented lines are
// sub-settings and ignored. config_style: sections are "[profile x]" (and "[default]").
std::optional<Profile> parse_profile(std::string_view text, std::string_view profile_name,
                                     bool config_style);
// A section of the config file by its full header, e.g. "sso-session my-sso".
std::optional<Profile> parse_section(std::string_view text, std::string_view header);

// Region from, in order: the --region flag, AWS_REGION, AWS_DEFAULT_REGION, the profile's
// region. None is a UsageError listing every place looked at.
std::string resolve_region(const std::optional<std::string>& flag, const Environment& env,
                           const SharedConfig& shared);

// Endpoint of service ("ecr", "ecs", "sts", "sso": the SSO portal): the --endpoint-url flag,
// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL (both skipped when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else the public regional endpoint. Returned without
// a trailing slash; anything but http(s)://host... is a UsageError naming its source.
std::string resolve_endpoint(std::string_view service, const std::string& region,
                             const std::optional<std::string>& flag, const Environment& env);

// AWS_MAX_ATTEMPTS (default 3, 1..20).
int resolve_max_attempts(const Environment& env);

// Replaces every occurrence of each non-empty secret in text with "***": a last line of defence
// for messages built from server answers.
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace imagegate::aws
