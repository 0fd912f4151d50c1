// Transparency-log entries (Rekor v1): the signed entry timestamp, the inclusion proof with its
// RFC 6962 audit path and its checkpoint (a signed note), and the body against what the bundle
// signs.
#include <fmt/format.h>

#include <cctype>

#include "provenance/keyless_detail.hpp"
#include "util/text.hpp"

namespace imagegate::provenance {

using namespace keyless_detail;

namespace {

std::string check_body(const json& body, const std::string& kind, const Content& content,
                       const std::string& leaf_der) {
  const json* spec = obj(body, "spec");
  if (str(body, "kind") != kind || spec == nullptr) {
    return fmt::format("the entry's body is not a {} entry", util::quote(kind));
  }
  const auto cert_matches = [&](const std::string& b64_pem) {
    const auto pem = base64_decode(b64_pem);
    return pem && !leaf_der.empty() && der_of_pem(*pem) == leaf_der;
  };
  if (kind == "intoto") {
    if (content.kind != "dsseEnvelope") return "an intoto entry for a bundle without DSSE envelope";
    const json* c = obj(*spec, "content");
    const json* envelope = c != nullptr ? obj(*c, "envelope") : nullptr;
    const json* sigs = envelope != nullptr ? arr(*envelope, "signatures") : nullptr;
    if (sigs == nullptr || sigs->size() != 1)
      return "the entry does not hold exactly one signature";
    const auto once = base64_decode(str((*sigs)[0], "sig"));
    const auto twice = once ? base64_decode(*once) : std::nullopt;
    if (!twice || *twice != content.signature) return "the entry's signature is not the bundle's";
    if (!cert_matches(str((*sigs)[0], "publicKey"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* hash = obj(*c, "payloadHash");
    if (hash == nullptr || str(*hash, "value") != util::sha256_hex(content.payload)) {
      return "the entry's payload hash is not the envelope's payload";
    }
    return "";
  }
  if (kind == "dsse") {
    if (content.kind != "dsseEnvelope") return "a dsse entry for a bundle without DSSE envelope";
    const json* sigs = arr(*spec, "signatures");
    if (sigs == nullptr || sigs->size() != 1)
      return "the entry does not hold exactly one signature";
    const auto sig = base64_decode(str((*sigs)[0], "signature"));
    if (!sig || *sig != content.signature) return "the entry's signature is not the bundle's";
    if (!cert_matches(str((*sigs)[0], "verifier"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* hash = obj(*spec, "payloadHash");
    if (hash == nullptr || str(*hash, "value") != util::sha256_hex(content.payload)) {
      return "the entry's payload hash is not the envelope's payload";
    }
    return "";
  }
  if (kind == "hashedrekord") {
    if (content.kind != "messageSignature") {
      return "a hashedrekord entry for a bundle without message signature";
    }
    const json* signature = obj(*spec, "signature");
    const auto sig =
        signature != nullptr ? base64_decode(str(*signature, "content")) : std::nullopt;
    if (!sig || *sig != content.signature) return "the entry's signature is not the bundle's";
    const json* key = obj(*signature, "publicKey");
    if (key == nullptr || !cert_matches(str(*key, "content"))) {
      return "the entry's certificate is not the bundle's";
    }
    const json* data = obj(*spec, "data");
    const json* hash = data != nullptr ? obj(*data, "hash") : nullptr;
    if (hash == nullptr || str(*hash, "value") != hex_encode(content.message_digest)) {
      return "the entry's digest is not the signed digest";
    }
    return "";
  }
  return fmt::format("entries of kind {} are not checked", util::quote(kind));
}

// An inclusion proof (Rekor v1): the RFC 6962 audit path from the entry's leaf to rootHash, and a
// checkpoint (a signed note) of the same tree signed by the log; empty: verified.
std::string check_inclusion_proof(const TransparencyLog& log, const json& proof,
                                  const std::string& body) {
  // Protobuf JSON leaves out zero values: a proof of the log's first leaf has no logIndex.
  const auto index =
      proof.contains("logIndex") ? int64_of(proof, "logIndex") : std::optional<std::int64_t>(0);
  const auto size = int64_of(proof, "treeSize");
  const auto root_hash = base64_decode(str(proof, "rootHash"));
  const json* list = arr(proof, "hashes");
  if (!index || !size || !root_hash || root_hash->size() != 32) {
    return "the inclusion proof lacks logIndex, treeSize or a base64 SHA-256 rootHash";
  }
  std::vector<std::string> hashes;
  for (std::size_t i = 0; list != nullptr && i < list->size(); ++i) {
    const auto h =
        (*list)[i].is_string() ? base64_decode((*list)[i].get<std::string>()) : std::nullopt;
    if (!h) return fmt::format("the inclusion proof's hashes[{}] is not base64", i);
    hashes.push_back(*h);
  }
  const json* checkpoint = obj(proof, "checkpoint");
  const std::string envelope = checkpoint != nullptr ? str(*checkpoint, "envelope") : "";
  if (envelope.empty()) return "the inclusion proof has no checkpoint";
  std::string reason;
  const auto note = parse_checkpoint(envelope, reason);
  if (!note) return reason;
  bool signed_by_log = false;
  for (const auto& sig : note->signatures) {
    signed_by_log = signed_by_log || (sig.key_hint == log.log_id.substr(0, 4) &&
                                      log.base_url.find(sig.name) != std::string::npos &&
                                      verify_bytes(log.key, note->note, sig.signature));
  }
  if (!signed_by_log) return "no signature of the checkpoint verifies with the log's key";
  if (note->size != static_cast<std::uint64_t>(*size)) {
    return fmt::format("the checkpoint's tree size {} is not the inclusion proof's {}", note->size,
                       *size);
  }
  if (note->root != *root_hash) return "the checkpoint's root hash is not the inclusion proof's";
  const std::string computed =
      merkle_root(static_cast<std::uint64_t>(*index), static_cast<std::uint64_t>(*size),
                  merkle_leaf_hash(body), hashes, reason);
  if (!reason.empty()) return reason;
  if (computed != *root_hash) {
    return "the inclusion proof's audit path does not lead from the entry to its root hash";
  }
  return "";
}

}  // namespace

std::string merkle_leaf_hash(std::string_view leaf) {
  return digest_with(EVP_sha256(), std::string(1, '\0') + std::string(leaf));
}

std::string merkle_node_hash(std::string_view left, std::string_view right) {
  return digest_with(EVP_sha256(), std::string(1, '\x01') + std::string(left) + std::string(right));
}

std::string merkle_root(std::uint64_t index, std::uint64_t size, std::string_view leaf_hash,
                        const std::vector<std::string>& hashes, std::string& reason) {
  reason.clear();
  if (index >= size) {
    reason = fmt::format("the inclusion proof's index {} is not in a tree of size {}", index, size);
    return "";
  }
  // The audit path's length: the levels below the point where the paths to the leaf and to the
  // last leaf part (inner), then one hash for each set bit above it (the right border).
  std::size_t inner = 0;
  for (std::uint64_t x = index ^ (size - 1); x != 0; x >>= 1) ++inner;
  std::size_t border = 0;
  for (std::uint64_t x = inner < 64 ? index >> inner : 0; x != 0; x >>= 1) border += x & 1;
  if (hashes.size() != inner + border) {
    reason =
        fmt::format("the inclusion proof holds {} hashes; index {} in a tree of size {} needs {}",
                    hashes.size(), index, size, inner + border);
    return "";
  }
  for (const auto& h : hashes) {
    if (h.size() != 32) {
      reason = "a hash of the inclusion proof is not 32 bytes";
      return "";
    }
  }
  // RFC 9162 2.1.3.2.
  std::uint64_t fn = index, sn = size - 1;
  std::string r(leaf_hash);
  for (const auto& p : hashes) {
    if ((fn & 1) == 1 || fn == sn) {
      r = merkle_node_hash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = merkle_node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return r;
}

std::optional<Checkpoint> parse_checkpoint(std::string_view envelope, std::string& reason) {
  reason.clear();
  const auto split = envelope.find("\n\n");
  if (split == std::string_view::npos) {
    reason = "the checkpoint has no blank line between its note and its signatures";
    return std::nullopt;
  }
  Checkpoint c;
  c.note = std::string(envelope.substr(0, split + 1));
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < c.note.size();) {
    const auto nl = c.note.find('\n', at);
    lines.push_back(std::string_view(c.note).substr(at, nl - at));
    at = nl + 1;
  }
  if (lines.size() < 3) {
    reason = "the checkpoint's note has fewer than three lines (origin, tree size, root hash)";
    return std::nullopt;
  }
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) {
    reason = "the checkpoint's origin line is empty";
    return std::nullopt;
  }
  const std::string_view size = lines[1];
  bool digits = !size.empty() && size.size() <= 19 && (size == "0" || size[0] != '0');
  std::uint64_t n = 0;
  for (const char ch : size) {
    digits = digits && std::isdigit(static_cast<unsigned char>(ch));
    if (digits) n = n * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (!digits) {
    reason = fmt::format("the checkpoint's tree size {} is not a decimal number",
                         util::quote(util::escape_display(std::string(size))));
    return std::nullopt;
  }
  c.size = n;
  const auto hash = base64_decode(lines[2]);
  if (!hash || hash->size() != 32) {
    reason = "the checkpoint's root hash is not a base64 SHA-256 hash";
    return std::nullopt;
  }
  c.root = *hash;
  // Signature lines: "\u2014 <name> <base64(4-byte key hint || signature)>".
  constexpr std::string_view kDash = "\xe2\x80\x94 ";
  std::string_view rest = envelope.substr(split + 2);
  std::size_t line_number = 0;
  while (!rest.empty()) {
    ++line_number;
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      reason = fmt::format("the checkpoint's signature line {} does not end with a newline",
                           line_number);
      return std::nullopt;
    }
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    const auto space =
        line.starts_with(kDash) ? line.find(' ', kDash.size()) : std::string_view::npos;
    const auto sig =
        space != std::string_view::npos ? base64_decode(line.substr(space + 1)) : std::nullopt;
    if (space == std::string_view::npos || space == kDash.size() || !sig || sig->size() < 5) {
      reason = fmt::format(
          "the checkpoint's signature line {} is not \"\u2014 <name> <base64 key hint and "
          "signature>\"",
          line_number);
      return std::nullopt;
    }
    c.signatures.push_back({std::string(line.substr(kDash.size(), space - kDash.size())),
                            sig->substr(0, 4), sig->substr(4)});
  }
  if (c.signatures.empty()) {
    reason = "the checkpoint has no signature";
    return std::nullopt;
  }
  return c;
}

std::string set_payload(std::string_view body_b64, std::int64_t integrated_time,
                        std::string_view log_id_hex, std::int64_t log_index) {
  // Sorted keys, no whitespace, integers as integers: RFC 8785 for these four values.
  const json payload = {{"body", std::string(body_b64)},
                        {"integratedTime", integrated_time},
                        {"logID", std::string(log_id_hex)},
                        {"logIndex", log_index}};
  return payload.dump();
}

EntryCheck keyless_detail::check_entry(const TrustedRoot& root, const json& entry,
                                       const Content& content, const std::string& leaf_der) {
  EntryCheck out;
  const auto index = int64_of(entry, "logIndex");
  const auto time = int64_of(entry, "integratedTime");
  const json* log_id = obj(entry, "logId");
  const auto id = log_id != nullptr ? base64_decode(str(*log_id, "keyId")) : std::nullopt;
  const std::string body_b64 = str(entry, "canonicalizedBody");
  const auto body_bytes = base64_decode(body_b64);
  const json* kv = obj(entry, "kindVersion");
  if (!index || !time || !id || !body_bytes || kv == nullptr) {
    out.reason =
        "the entry lacks logIndex, integratedTime, logId, kindVersion or canonicalizedBody";
    return out;
  }
  out.log_index = *index;
  out.integrated_time = *time;
  out.log_id_hex = hex_encode(*id);
  const TransparencyLog* log = nullptr;
  for (const auto& t : root.tlogs) {
    if (t.log_id == *id) log = &t;
  }
  if (log == nullptr) {
    out.reason = fmt::format("the entry is in log {}, which the trusted root does not name",
                             out.log_id_hex.substr(0, 16));
    return out;
  }
  if (!log->valid.contains(*time)) {
    out.reason =
        fmt::format("the log's key was not valid at the integrated time {}", utc_text(*time));
    return out;
  }
  const json* promise = obj(entry, "inclusionPromise");
  const auto set =
      promise != nullptr ? base64_decode(str(*promise, "signedEntryTimestamp")) : std::nullopt;
  const json* proof = obj(entry, "inclusionProof");
  if ((!set || set->empty()) && proof == nullptr) {
    out.reason = "the entry has neither a signed entry timestamp nor an inclusion proof";
    return out;
  }
  if (set && !set->empty()) {
    if (!verify_bytes(log->key, set_payload(body_b64, *time, out.log_id_hex, *index), *set)) {
      out.reason = "the signed entry timestamp does not verify with the log's key";
      return out;
    }
    out.timed = true;  // the log signed the integrated time
  }
  if (proof != nullptr) {
    out.reason = check_inclusion_proof(*log, *proof, *body_bytes);
    if (!out.reason.empty()) return out;
  }
  const auto body = json::parse(*body_bytes, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    out.reason = "the entry's body is not JSON";
    return out;
  }
  out.reason = check_body(body, str(*kv, "kind"), content, leaf_der);
  return out;
}

}  // namespace imagegate::provenance
