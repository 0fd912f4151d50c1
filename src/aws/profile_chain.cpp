#include "aws/profile_chain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "aws/credential_process.hpp"
#include "aws/sso.hpp"
#include "aws/sts.hpp"

namespace imagegate::aws::profiles {
namespace {

using sources::Attempt;

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<Credentials> static_keys(const SharedConfig& profile, bool credentials_file) {
  auto get = [&](const char* key) {
    return credentials_file ? profile.credentials_value(key) : profile.config_value(key);
  };
  auto key_id = get("aws_access_key_id");
  auto secret = get("aws_secret_access_key");
  if (!key_id || !secret) return std::nullopt;
  // The token may sit in the other file (liberal, as imagegate always read it).
  auto token = get("aws_session_token").or_else([&] { return profile.value("aws_session_token"); });
  return Credentials{*key_id, *secret, token.value_or(""), std::nullopt,
                     "profile " + profile.profile_name};
}

bool has_static_keys(const SharedConfig& profile) {
  return static_keys(profile, true) || static_keys(profile, false);
}

class Resolver {
 public:
  explicit Resolver(const CredentialChainOptions& options) : options_(options) {}

  // The selected profile: assume-role first, as in botocore's chain.
  Result<Attempt> selected(const SharedConfig& profile) {
    chain_ = {profile.profile_name};
    return providers(profile, true);
  }

 private:
  std::string chain_text() const { return fmt::format("{}", fmt::join(chain_, " -> ")); }

  Result<Attempt> providers(const SharedConfig& profile, bool role_first) {
    const std::string label = "profile " + profile.profile_name;
    auto key_id = profile.value("aws_access_key_id");
    auto secret = profile.value("aws_secret_access_key");
    if (static_cast<bool>(key_id) != static_cast<bool>(secret)) {
      return fail(
          "AUTH_FAILED",
          fmt::format("{} has only one of aws_access_key_id and aws_secret_access_key", label));
    }
    auto role_arn = profile.value("role_arn");
    if (role_arn && role_first) {
      auto token_file = profile.value("web_identity_token_file");
      if (token_file && !profile.value("source_profile") && !profile.value("credential_source")) {
        return sources::web_identity(
            options_, {*role_arn, *token_file, profile.value("role_session_name").value_or(""),
                       label + " web identity", profile.value("region").value_or(""),
                       legacy_sts(profile), duration(profile).value_or(std::nullopt)});
      }
      auto credentials = assume_role(profile, *role_arn);
      if (!credentials) return std::unexpected(credentials.error());
      return sources::accept_unless_expired(std::move(*credentials), options_);
    }
    if (sso::configured(profile)) {
      auto credentials = sso::resolve(options_, profile);
      if (!credentials) return std::unexpected(credentials.error());
      return sources::accept_unless_expired(std::move(*credentials), options_);
    }
    if (auto credentials = static_keys(profile, true)) return Attempt{std::move(*credentials), ""};
    if (auto command = profile.value("credential_process")) {
      auto credentials = process::run(options_, *command, label);
      if (!credentials) return std::unexpected(credentials.error());
      return Attempt{std::move(*credentials), ""};
    }
    if (auto credentials = static_keys(profile, false)) return Attempt{std::move(*credentials), ""};
    return Attempt{std::nullopt, "no credentials in the profile"};
  }

  static bool legacy_sts(const SharedConfig& profile) {
    return lower(profile.value("sts_regional_endpoints").value_or("regional")) == "legacy";
  }

  // duration_seconds: nullopt when unset; an error when not a whole number of 900..43200.
  static Result<std::optional<int>> duration(const SharedConfig& profile) {
    auto text = profile.value("duration_seconds");
    if (!text) return std::optional<int>();
    int value = 0;
    std::size_t used = 0;
    try {
      value = std::stoi(*text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text->size() || value < 900 || value > 43200) {
      return fail("AUTH_FAILED",
                  fmt::format("profile {}: duration_seconds must be a whole number from 900 to "
                              "43200, got '{}'",
                              profile.profile_name, *text));
    }
    return std::optional<int>(value);
  }

  Result<Credentials> source_credentials(const SharedConfig& profile) {
    const std::string label = "profile " + profile.profile_name;
    auto source_profile = profile.value("source_profile");
    auto credential_source = profile.value("credential_source");
    if (source_profile && credential_source) {
      return fail("AUTH_FAILED",
                  label + " sets both source_profile and credential_source; keep one");
    }
    if (credential_source) {
      Result<Attempt> attempt = Attempt{};
      if (*credential_source == "Environment") {
        attempt = sources::environment(*options_.env);
      } else if (*credential_source == "Ec2InstanceMetadata") {
        attempt = sources::instance_metadata(options_);
      } else if (*credential_source == "EcsContainer") {
        attempt = sources::container(options_);
      } else {
        return fail("AUTH_FAILED",
                    fmt::format("{}: credential_source {} is unknown (expected Environment, "
                                "Ec2InstanceMetadata or EcsContainer)",
                                label, *credential_source));
      }
      if (!attempt) return std::unexpected(attempt.error());
      if (!attempt->found) {
        return fail(
            "AUTH_FAILED",
            fmt::format("{}: credential_source {} gave no credentials{}", label, *credential_source,
                        attempt->note.empty() ? "" : " (" + attempt->note + ")"));
      }
      return *attempt->found;
    }
    if (!source_profile) {
      return fail("AUTH_FAILED",
                  fmt::format("{}: role_arn needs source_profile, credential_source or "
                              "web_identity_token_file",
                              label));
    }
    // A profile may name itself as its source when it holds the static keys to assume with.
    if (*source_profile == profile.profile_name && has_static_keys(profile)) {
      return static_keys(profile, true) ? *static_keys(profile, true)
                                        : *static_keys(profile, false);
    }
    if (std::ranges::find(chain_, *source_profile) != chain_.end()) {
      chain_.push_back(*source_profile);
      return fail("AUTH_FAILED", fmt::format("source_profile chain {} is a cycle", chain_text()));
    }
    chain_.push_back(*source_profile);
    if (chain_.size() > kMaxChainLength) {
      return fail("AUTH_FAILED", fmt::format("source_profile chain {} is longer than {} profiles",
                                             chain_text(), kMaxChainLength));
    }
    const SharedConfig source = profile.with_profile(*source_profile);
    if (!source.has_profile()) {
      return fail("AUTH_FAILED",
                  fmt::format("{}: source_profile {} is in neither {} nor {}", label,
                              *source_profile, profile.credentials_file, profile.config_file));
    }
    // botocore: a source profile's static keys win over its own role_arn.
    Result<Attempt> attempt = Attempt{};
    if (has_static_keys(source)) {
      attempt = Attempt{
          static_keys(source, true) ? *static_keys(source, true) : *static_keys(source, false), ""};
    } else if (auto role = source.value("role_arn")) {
      auto credentials = assume_role(source, *role);
      if (!credentials) return std::unexpected(credentials.error());
      attempt = Attempt{std::move(*credentials), ""};
    } else {
      attempt = providers(source, false);
    }
    if (!attempt) return std::unexpected(attempt.error());
    if (!attempt->found) {
      return fail("AUTH_FAILED",
                  fmt::format("{}: source_profile {} has no credentials{}", label, *source_profile,
                              attempt->note.empty() ? "" : " (" + attempt->note + ")"));
    }
    return *attempt->found;
  }

  Result<Credentials> assume_role(const SharedConfig& profile, const std::string& role_arn) {
    const std::string label = "profile " + profile.profile_name;
    if (auto mfa = profile.value("mfa_serial")) {
      return fail("AUTH_FAILED",
                  fmt::format("{}: role {} requires an MFA code (mfa_serial), and imagegate does "
                              "not prompt; use a role without mfa_serial for CI, or export "
                              "credentials (aws configure export-credentials --format env)",
                              label, role_arn));
    }
    auto seconds = duration(profile);
    if (!seconds) return std::unexpected(seconds.error());
    auto source = source_credentials(profile);
    if (!source) return std::unexpected(source.error());

    const std::string region = profile.value("region").value_or(options_.region);
    const auto [endpoint, signing_region] =
        sts::endpoint_for(options_, region, legacy_sts(profile));
    sts::Call call;
    call.action = "AssumeRole";
    call.params = {
        {"RoleArn", role_arn},
        {"RoleSessionName",
         profile.value("role_session_name").value_or(sts::default_session_name(options_))}};
    if (auto external_id = profile.value("external_id")) {
      call.params.emplace_back("ExternalId", *external_id);
      call.secrets.push_back(*external_id);
    }
    if (*seconds) call.params.emplace_back("DurationSeconds", std::to_string(**seconds));
    call.endpoint = endpoint;
    call.signing_region = signing_region;
    call.signer = &*source;
    call.label = label;
    call.role_arn = role_arn;
    auto credentials = sts::call(options_, call);
    if (!credentials) return std::unexpected(credentials.error());
    credentials->source =
        fmt::format("{} (role {} assumed with {})", label, role_arn, source->source);
    return credentials;
  }

  const CredentialChainOptions& options_;
  std::vector<std::string> chain_;
};

}  // namespace

Result<Attempt> resolve(const CredentialChainOptions& options, const SharedConfig& shared) {
  return Resolver(options).selected(shared);
}

}  // namespace imagegate::aws::profiles
