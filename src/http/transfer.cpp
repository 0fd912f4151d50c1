#include "http/transfer.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace imagegate::http::detail {
namespace {

// Far above any real registry's headers; stops a hostile server from growing memory unbounded.
constexpr std::size_t kMaxHeaderBytes = 1024 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 9110 token characters: methods and header names.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool is_header_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

}  // namespace

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  std::string_view line = trim(std::string_view(data, n));
  // Each status line starts a new response (1xx interim answers come first): keep the last only.
  if (line.starts_with("HTTP/")) {
    t->headers.clear();
    t->content_length.reset();
    return n;
  }
  if (line.empty()) return n;
  if ((data[0] == ' ' || data[0] == '\t') && !t->headers.empty()) {
    // Obsolete line folding: the line continues the previous header's value.
    t->headers.back().second += ' ';
    t->headers.back().second += line;
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  if (t->headers.capacity() == 0) t->headers.reserve(8);  // a registry's answer has about 7
  t->headers.emplace_back(lower(trim(line.substr(0, colon))),
                          std::string(trim(line.substr(colon + 1))));
  if (t->headers.back().first == "content-length") {
    const std::string& value = t->headers.back().second;
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && end == value.data() + value.size()) t->content_length = length;
  }
  return n;
}

namespace {

// Smallest growth step: fewer reallocations for bodies of unknown length.
constexpr std::size_t kMinBodyGrowth = 16 * 1024;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  const std::size_t cap = t->request.max_body_bytes;
  if (n > cap - std::min(t->body.size(), cap)) {
    // Returning less than n aborts the transfer: never keep a silently truncated body.
    t->body_too_large = true;
    return 0;
  }
  const std::size_t needed = t->body.size() + n;
  if (needed > t->body.capacity()) {
    // The announced length when it fits (one allocation), else geometric growth, never past
    // the cap: std::string's own doubling could reserve twice the cap before it is noticed.
    std::size_t want = std::max({needed, 2 * t->body.capacity(), kMinBodyGrowth});
    if (t->content_length && *t->content_length >= needed) want = *t->content_length;
    if (!t->reserve_body(std::min(want, cap))) {
      t->budget_exceeded = true;
      return 0;
    }
  }
  t->body.append(data, n);
  return n;
}

bool has_header(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return lower(h.first) == name; });
}

}  // namespace

ExtraCas::~ExtraCas() {
  for (void* cert : certs_) X509_free(static_cast<X509*>(cert));
}

Result<std::shared_ptr<const ExtraCas>> ExtraCas::load(const std::string& path) {
  auto cas = std::make_shared<ExtraCas>();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!bio) return fail("UNREACHABLE", "cannot read CA file " + path);
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
  if (infos != nullptr) {
    for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
      X509_INFO* info = sk_X509_INFO_value(infos, i);
      if (info->x509 != nullptr && X509_up_ref(info->x509) == 1) cas->certs_.push_back(info->x509);
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
  }
  if (cas->certs_.empty()) {
    return fail("UNREACHABLE", "CA file " + path + " holds no PEM certificate");
  }
  return cas;
}

CURLcode ExtraCas::add_to_ssl_ctx(CURL* /*easy*/, void* ssl_ctx, void* user) {
  const auto* cas = static_cast<const ExtraCas*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (store == nullptr) return CURLE_SSL_CACERT_BADFILE;
  // OpenSSL 3 accepts a certificate that is already in the store, so reused contexts are fine.
  for (void* cert : cas->certs_) {
    if (X509_STORE_add_cert(store, static_cast<X509*>(cert)) != 1) return CURLE_SSL_CACERT_BADFILE;
  }
  return CURLE_OK;
}

Transfer::Transfer(std::size_t index_in_batch, Request req, CURLM* multi_handle)
    : index(index_in_batch),
      request(std::move(req)),
      original_url(request.url),
      multi(multi_handle) {}

Transfer::~Transfer() {
  release();
  drop_body();
}

bool Transfer::reserve_body(std::size_t capacity) {
  if (capacity <= body.capacity()) return true;
  const std::size_t extra = capacity - budget_held;
  if (budget != nullptr && budget->used + extra > std::max(budget->limit, request.max_body_bytes)) {
    return false;
  }
  body.reserve(capacity);
  if (budget != nullptr) {
    budget->used += body.capacity() - budget_held;
    budget_held = body.capacity();
  }
  return true;
}

void Transfer::drop_body() {
  std::string().swap(body);
  if (budget != nullptr) budget->used -= std::min(budget->used, budget_held);
  budget_held = 0;
}

std::string Transfer::take_body() {
  std::string out = std::move(body);
  drop_body();
  return out;
}

EasyPool::~EasyPool() {
  for (CURL* easy : idle) curl_easy_cleanup(easy);
}

CURL* EasyPool::take() {
  if (idle.empty()) return curl_easy_init();
  CURL* easy = idle.back();
  idle.pop_back();
  curl_easy_reset(easy);  // every option back to its default; connections stay with the multi
  return easy;
}

void EasyPool::give(CURL* easy) {
  if (idle.size() < limit) {
    idle.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

void Transfer::release() {
  if (easy != nullptr) {
    curl_multi_remove_handle(multi, easy);
    if (pool != nullptr) {
      pool->give(easy);
    } else {
      curl_easy_cleanup(easy);
    }
    easy = nullptr;
  }
  curl_slist_free_all(header_list);
  header_list = nullptr;
}

std::expected<void, Error> Transfer::start(const EasySettings& settings,
                                           std::chrono::milliseconds timeout, Clock::time_point now,
                                           bool pipewait) {
  release();
  headers.clear();
  drop_body();
  budget = settings.budget;
  pool = settings.pool;
  content_length.reset();
  header_bytes = 0;
  body_too_large = false;
  budget_exceeded = false;
  headers_too_large = false;
  error_buffer[0] = '\0';
  ++attempt;
  attempt_started = now;

  const std::string& method = request.method;
  if (!is_token(method)) {
    return std::unexpected(
        Error{"BAD_REQUEST", "invalid HTTP method for " + redact_url(request.url)});
  }
  for (const auto& [name, value] : request.headers) {
    // The value may be a secret: name only the header.
    if (!is_token(name) || !is_header_value(value)) {
      return std::unexpected(Error{"BAD_REQUEST", "invalid header '" +
                                                      (is_token(name) ? name : std::string("?")) +
                                                      "' for " + redact_url(request.url)});
    }
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* grown = curl_slist_append(header_list, line.c_str());
    if (grown == nullptr) return std::unexpected(Error{"UNREACHABLE", "out of memory"});
    header_list = grown;
  }
  bool sends_body = method != "GET" && method != "HEAD";
  // libcurl's own defaults would change what the caller asked for: no 100-continue round trip,
  // no invented form Content-Type.
  std::vector<std::string> extra = {"Expect:"};
  if (sends_body && !has_header(request.headers, "content-type")) extra.push_back("Content-Type:");
  for (const auto& line : extra) {
    curl_slist* grown = curl_slist_append(header_list, line.c_str());
    if (grown == nullptr) return std::unexpected(Error{"UNREACHABLE", "out of memory"});
    header_list = grown;
  }

  easy = pool != nullptr ? pool->take() : curl_easy_init();
  if (easy == nullptr) return std::unexpected(Error{"UNREACHABLE", "cannot create a transfer"});
  curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // redirects go through our policy
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_SHARE, settings.share);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, settings.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, pipewait ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  // Same trust as the bundle (update-ca-certificates writes both), read lazily.
  if (settings.system_cas_by_hash) curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
  // Manifests are hashed byte for byte: no content encoding, so no decoding.
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, nullptr);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // An announced Content-Length over the cap fails before one byte of the body is read. Not for
  // HEAD: its Content-Length describes a body that never comes.
  if (method != "HEAD") {
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.max_body_bytes));
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list);
  if (settings.extra_cas != nullptr) {
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, settings.extra_cas);
    if (curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &ExtraCas::add_to_ssl_ctx) != CURLE_OK) {
      // A TLS backend without this hook would silently ignore ca_file: refuse instead.
      return std::unexpected(
          Error{"UNREACHABLE", "this libcurl cannot add the CA file's certificates"});
    }
  }
  if (method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
    curl_easy_cleanup(easy);  // a handle libcurl refused is not given back to the pool
    easy = nullptr;
    return std::unexpected(Error{"UNREACHABLE", "cannot start a transfer"});
  }
  return {};
}

CurlFailure classify_curl_error(CURLcode result) {
  switch (result) {
    // The network or the server may be back on the next attempt.
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
      return {"UNREACHABLE", true};
    // Certificate problems do not heal by retrying.
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return {"UNREACHABLE", false};
    // A truncated answer or a reset HTTP/2 stream is usually a transient server problem.
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {"BAD_RESPONSE", true};
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WRITE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
      return {"BAD_RESPONSE", false};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {"BAD_REQUEST", false};
    default:
      return {"UNREACHABLE", false};
  }
}

}  // namespace imagegate::http::detail
