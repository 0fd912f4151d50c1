// One request's life inside the curl client: the libcurl easy handle of its current attempt, what
// that attempt received, and the state that carries over retries and redirects. Internal to
// src/http.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::http::detail {

using Clock = std::chrono::steady_clock;

// CA certificates from ClientOptions::ca_file, parsed once and added to the system's trust store
// of every TLS connection (so public and private registries both verify).
class ExtraCas {
 public:
  static Result<std::shared_ptr<const ExtraCas>> load(const std::string& path);
  ExtraCas() = default;
  ExtraCas(const ExtraCas&) = delete;
  ExtraCas& operator=(const ExtraCas&) = delete;
  ~ExtraCas();
  // CURLOPT_SSL_CTX_FUNCTION: user is the ExtraCas.
  static CURLcode add_to_ssl_ctx(CURL* easy, void* ssl_ctx, void* user);

 private:
  std::vector<void*> certs_;  // X509*, kept opaque so OpenSSL stays out of this header
};

// The bytes of response bodies that the transfers in flight hold, against one limit. The client
// is single-threaded (run() is serialised, callbacks run inside it), so a plain counter does.
struct BodyBudget {
  std::size_t limit = 0;
  std::size_t used = 0;
};

// Finished attempts' easy handles, reset and handed to the next attempt instead of creating one
// per request (curl_easy_init was an eighth of a large gate's own instructions). Owned by the
// client; holds at most `limit` idle handles.
struct EasyPool {
  EasyPool() = default;
  EasyPool(const EasyPool&) = delete;
  EasyPool& operator=(const EasyPool&) = delete;
  ~EasyPool();
  CURL* take();           // a reset handle, or a new one (nullptr when libcurl cannot make one)
  void give(CURL* easy);  // an idle handle back, already out of its multi handle
  std::vector<CURL*> idle;
  std::size_t limit = 128;
};

// Options of the client that every attempt's easy handle gets.
struct EasySettings {
  EasyPool* pool = nullptr;
  BodyBudget* budget = nullptr;
  CURLSH* share = nullptr;
  std::chrono::milliseconds connect_timeout{0};
  std::string user_agent;
  const ExtraCas* extra_cas = nullptr;
  // The system CAs come from the hashed directory (CURLOPT_CAPATH), looked up by issuer when a
  // handshake needs one, instead of parsing the whole bundle file for every new TLS context:
  // that parse was 80 % of a small gate's instructions over TLS.
  bool system_cas_by_hash = false;
};

struct Transfer {
  Transfer(std::size_t index_in_batch, Request req, CURLM* multi_handle);
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer();

  // Creates the easy handle for the next attempt and adds it to the multi handle. timeout is this
  // attempt's limit (0 = none). pipewait: wait for the origin's first connection to tell whether
  // it multiplexes (HTTP/2) rather than opening a connection of its own.
  std::expected<void, Error> start(const EasySettings& settings, std::chrono::milliseconds timeout,
                                   Clock::time_point now, bool pipewait);
  // Removes the finished attempt's easy handle.
  void release();
  // The received body, handed over: its bytes no longer count against the budget.
  std::string take_body();
  // Makes room for `capacity` bytes of body, within the request's cap and the budget.
  bool reserve_body(std::size_t capacity);
  // Frees the body's memory and returns its bytes to the budget.
  void drop_body();

  std::size_t index;
  Request request;           // the current hop: redirects change url, method, headers
  std::string original_url;  // decides which redirect targets may receive credentials
  CURLM* multi;
  int hops = 0;
  int attempt = 0;                   // attempts made in the current hop
  bool timeout_is_deadline = false;  // this attempt's timeout was cut to the overall deadline
  Clock::time_point started{};
  Clock::time_point attempt_started{};
  Clock::time_point ready_at{};

  // What the current attempt received.
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Headers headers;
  std::string body;
  BodyBudget* budget = nullptr;
  EasyPool* pool = nullptr;     // where release() returns the handle (none: it is cleaned up)
  std::size_t budget_held = 0;  // body.capacity() as counted in the budget
  std::optional<std::size_t> content_length;
  std::size_t header_bytes = 0;
  bool body_too_large = false;
  bool budget_exceeded = false;
  bool headers_too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// CURLOPT_HEADERFUNCTION (user is the Transfer): one header line of the answer as received, its
// line ending included; keeps the last response's headers (names lower-cased) and Content-Length.
size_t on_header(char* data, size_t size, size_t count, void* user);

// How a failed libcurl transfer is reported: finding code and whether another attempt may help.
struct CurlFailure {
  std::string code;
  bool retryable = false;
};
CurlFailure classify_curl_error(CURLcode result);

}  // namespace imagegate::http::detail
