#include <fmt/format.h>

#include "provenance/provenance.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

std::optional<RevisionMode> parse_revision_mode(std::string_view text) {
  if (text == "required") return RevisionMode::kRequired;
  if (text == "if-present") return RevisionMode::kIfPresent;
  if (text == "off") return RevisionMode::kOff;
  return std::nullopt;
}

std::string to_string(RevisionMode mode) {
  switch (mode) {
    case RevisionMode::kRequired:
      return "required";
    case RevisionMode::kOff:
      return "off";
    case RevisionMode::kIfPresent:
      break;
  }
  return "if-present";
}

Policy effective_policy(const manifest::Image& image, const CliPolicy& cli,
                        const std::filesystem::path& base_dir) {
  const manifest::Provenance& declared = image.provenance;
  Policy p;
  const bool cli_identity =
      !cli.certificate_identity.empty() || !cli.certificate_identity_regexp.empty();
  p.declared = declared.declared || !cli.keys.empty() || !cli.attestations.empty() ||
               !cli.revision.empty() || cli_identity;
  // The schema reports a bad value in the manifest; judged strictly here, it is "required"
  // rather than silently weaker.
  p.revision = parse_revision_mode(declared.revision).value_or(RevisionMode::kRequired);
  if (!cli.revision.empty()) {
    const auto mode = parse_revision_mode(cli.revision);
    if (!mode) {
      throw UsageError(fmt::format("--revision {} is not one of required, if-present, off",
                                   util::quote(cli.revision)));
    }
    p.revision = *mode;
  }
  for (const auto& key : declared.keys) p.keys.push_back(base_dir / key);
  p.signatures_required = declared.signatures_required;
  for (const auto& key : cli.keys) p.keys.emplace_back(key);
  if (!cli.keys.empty()) p.signatures_required = true;
  p.attestations = declared.attestations;
  p.identities = declared.identities;
  if (cli_identity) {
    p.identities.push_back(
        {cli.certificate_oidc_issuer, cli.certificate_identity, cli.certificate_identity_regexp});
  }
  // The revision check is every gate's default (if-present); the rest only where configured.
  p.active = p.revision != RevisionMode::kOff || p.signatures_required || !p.attestations.empty() ||
             !p.identities.empty();
  for (const auto& type : cli.attestations) {
    bool known = false;
    for (auto& rule : p.attestations) {
      if (rule.predicate_type == type) rule.required = known = true;
    }
    if (!known) p.attestations.push_back({type, true});
  }
  return p;
}

}  // namespace imagegate::provenance
