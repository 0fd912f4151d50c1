// SigV4 header signing. The canonicalisation rules follow the AWS Common Runtime (aws-c-auth),
// whose test suite in tests/data/sigv4 is the reference: the path is normalised (unless S3) and
// URI-encoded once more, the query is decoded and re-encoded strictly, header values are trimmed
// and their inner whitespace collapsed.
#include "aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

#include "aws/sigv4_detail.hpp"
#include "util/text.hpp"

namespace imagegate::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &size);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims and collapses runs of whitespace (including folded continuation lines) into one space.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

namespace detail {

// Header names that proxies and HTTP stacks rewrite: signing them would break the signature.
bool is_unsigned_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" ||
         lower_name == "x-amzn-trace-id" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding";
}

std::string uri_encode(std::string_view data, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : data) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view data) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '%' && i + 2 < data.size()) {
      int hi = hex_value(data[i + 1]);
      int lo = hex_value(data[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(data[i]);
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (!segments.empty() && path.ends_with('/')) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      std::size_t eq = piece.find('=');
      std::string_view key = piece.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(key), false), uri_encode(uri_decode(value), false));
    }
    start = end + 1;
  }
  std::ranges::sort(params);
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += key + "=" + value;
  }
  return out;
}

}  // namespace detail

std::string sha256_hex(std::string_view data) {
  return util::sha256_hex(data);
}

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
  return buf.data();
}

Signature compute_signature(const SigningRequest& request, const Credentials& credentials,
                            const SigningParams& params) {
  // Same-named headers are joined with ',' in the order they appear; std::map sorts by name.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = to_lower(name);
    if (detail::is_unsigned_header(lower)) continue;
    auto [it, inserted] = headers.try_emplace(lower, canonical_header_value(value));
    if (!inserted) {
      // Appended in place: `"," + temporary` also trips g++ 12's -Wrestrict false positive at
      // -O3 (GCC bug 105651), and needs no extra string.
      it->second.push_back(',');
      it->second += canonical_header_value(value);
    }
  }
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  std::string path = request.path.empty() ? "/" : request.path;
  if (params.normalize_path) path = detail::normalize_path(path);

  Signature sig;
  sig.canonical_request = request.method + "\n" + detail::uri_encode(path, true) + "\n" +
                          detail::canonical_query(request.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + sha256_hex(request.body);

  std::string amz_date = format_amz_date(params.time);
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                       sha256_hex(sig.canonical_request);

  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, params.region);
  key = hmac_sha256(key, params.service);
  key = hmac_sha256(key, "aws4_request");
  std::string raw = hmac_sha256(key, sig.string_to_sign);
  sig.signature = to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      scope + ", SignedHeaders=" + signed_headers + ", Signature=" + sig.signature;
  return sig;
}

Signature sign(SigningRequest& request, const Credentials& credentials,
               const SigningParams& params) {
  // Re-signing (a retry) replaces the previous date, token and signature.
  std::erase_if(request.headers, [](const auto& header) {
    std::string lower = to_lower(header.first);
    return lower == "x-amz-date" || lower == "authorization" || lower == "x-amz-security-token";
  });
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.headers.emplace_back("X-Amz-Date", format_amz_date(params.time));
  Signature sig = compute_signature(request, credentials, params);
  request.headers.emplace_back("Authorization", sig.authorization);
  return sig;
}

}  // namespace imagegate::aws
