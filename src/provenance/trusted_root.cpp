// Sigstore's trusted_root.json: the certificate authorities (Fulcio), the transparency logs
// (Rekor), the CT logs and the timestamp authorities, each with its validity window.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "provenance/keyless_detail.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

using namespace keyless_detail;

namespace {

constexpr std::size_t kMaxTrustedRootBytes = 4 * 1024 * 1024;

Result<Validity> validity_of(const json& entry, const std::string& where) {
  Validity v;
  const json* valid = obj(entry, "validFor");
  if (valid == nullptr) return v;  // open
  const std::string start = str(*valid, "start");
  const std::string end = str(*valid, "end");
  if (!start.empty()) {
    const auto t = parse_rfc3339(start);
    if (!t) return fail("TRUSTED_ROOT_INVALID", where + ".validFor.start is not an RFC 3339 time");
    v.start = *t;
  }
  if (!end.empty()) {
    const auto t = parse_rfc3339(end);
    if (!t) return fail("TRUSTED_ROOT_INVALID", where + ".validFor.end is not an RFC 3339 time");
    v.end = *t;
  }
  return v;
}

Result<std::vector<CertificateAuthority>> read_authorities(const json& doc, const char* field) {
  std::vector<CertificateAuthority> out;
  const json* list = arr(doc, field);
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string where = fmt::format("{}[{}]", field, i);
    CertificateAuthority ca;
    ca.uri = str(item, "uri");
    const json* chain = obj(item, "certChain");
    const json* certs = chain != nullptr ? arr(*chain, "certificates") : nullptr;
    if (certs == nullptr || certs->empty()) {
      return fail("TRUSTED_ROOT_INVALID", where + ".certChain.certificates is missing or empty");
    }
    for (std::size_t c = 0; c < certs->size(); ++c) {
      const auto der = base64_decode(str((*certs)[c], "rawBytes"));
      auto cert = der ? x509_from_der(*der) : nullptr;
      if (!cert) {
        return fail("TRUSTED_ROOT_INVALID",
                    fmt::format("{}.certChain.certificates[{}].rawBytes is not a base64 DER "
                                "certificate",
                                where, c));
      }
      ca.chain.push_back(std::move(cert));
    }
    auto valid = validity_of(item, where);
    if (!valid) return std::unexpected(valid.error());
    ca.valid = *valid;
    out.push_back(std::move(ca));
  }
  return out;
}

Result<std::vector<TransparencyLog>> read_logs(const json& doc, const char* field) {
  std::vector<TransparencyLog> out;
  const json* list = arr(doc, field);
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string where = fmt::format("{}[{}]", field, i);
    TransparencyLog log;
    log.base_url = str(item, "baseUrl");
    const json* log_id = obj(item, "logId");
    const auto id = log_id != nullptr ? base64_decode(str(*log_id, "keyId")) : std::nullopt;
    if (!id || id->empty()) {
      return fail("TRUSTED_ROOT_INVALID", where + ".logId.keyId is missing or not base64");
    }
    log.log_id = *id;
    const json* key = obj(item, "publicKey");
    const auto der = key != nullptr ? base64_decode(str(*key, "rawBytes")) : std::nullopt;
    if (!der) {
      return fail("TRUSTED_ROOT_INVALID", where + ".publicKey.rawBytes is missing or not base64");
    }
    // A log listed without key bytes (a key type the root's producer does not ship) can verify
    // nothing: it is left out, as sigstore-python does; an entry it logged is then unknown.
    if (der->empty()) continue;
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    const std::string b64 = base64_encode(*der);
    for (std::size_t at = 0; at < b64.size(); at += 64) pem += b64.substr(at, 64) + "\n";
    pem += "-----END PUBLIC KEY-----\n";
    auto parsed = parse_public_key(pem, where);
    if (!parsed) {
      return fail(
          "TRUSTED_ROOT_INVALID",
          where + ".publicKey.rawBytes is not a DER public key (ECDSA P-256, RSA, Ed25519)");
    }
    log.key = std::move(*parsed);
    auto valid = key != nullptr ? validity_of(*key, where + ".publicKey") : Result<Validity>();
    if (!valid) return std::unexpected(valid.error());
    log.valid = *valid;
    out.push_back(std::move(log));
  }
  return out;
}

}  // namespace

Result<TrustedRoot> parse_trusted_root(std::string_view text, std::string_view name) {
  const std::string quoted = std::string(name);
  const auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(
        "TRUSTED_ROOT_INVALID",
        fmt::format("trusted root {} is not a JSON object (Sigstore's trusted_root.json)", quoted));
  }
  const std::string media_type = str(doc, "mediaType");
  if (!media_type.empty() && !media_type.starts_with("application/vnd.dev.sigstore.trustedroot")) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {}: mediaType {} is not a Sigstore trusted root", quoted,
                            util::quote(util::escape_display(media_type))));
  }
  const auto wrap = [&](const Error& e) {
    return fail(e.code, fmt::format("trusted root {}: {}", quoted, e.message));
  };
  TrustedRoot root;
  root.name = quoted;
  auto cas = read_authorities(doc, "certificateAuthorities");
  if (!cas) return wrap(cas.error());
  root.certificate_authorities = std::move(*cas);
  auto tsas = read_authorities(doc, "timestampAuthorities");
  if (!tsas) return wrap(tsas.error());
  root.timestamp_authorities = std::move(*tsas);
  auto tlogs = read_logs(doc, "tlogs");
  if (!tlogs) return wrap(tlogs.error());
  root.tlogs = std::move(*tlogs);
  auto ctlogs = read_logs(doc, "ctlogs");
  if (!ctlogs) return wrap(ctlogs.error());
  root.ctlogs = std::move(*ctlogs);
  if (root.certificate_authorities.empty()) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {} names no certificateAuthorities (Fulcio)", quoted));
  }
  // Without a log, only timestamps can give a time: GitHub's trusted root for private
  // repositories names a timestamp authority and no Rekor.
  if (root.tlogs.empty() && root.timestamp_authorities.empty()) {
    return fail(
        "TRUSTED_ROOT_INVALID",
        fmt::format("trusted root {} names no tlogs (Rekor) and no timestampAuthorities", quoted));
  }
  return root;
}

Result<TrustedRoot> load_trusted_root(const std::filesystem::path& path) {
  const std::string name = util::quote(path.string());
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} does not exist", name));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} cannot be read", name));
  if (size > kMaxTrustedRootBytes) {
    return fail("TRUSTED_ROOT_INVALID",
                fmt::format("trusted root {} is larger than {} bytes", name, kMaxTrustedRootBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail("TRUSTED_ROOT_INVALID", fmt::format("trusted root {} cannot be read", name));
  return parse_trusted_root(text.str(), name);
}

}  // namespace imagegate::provenance
