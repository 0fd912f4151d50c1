// HTTP client seam: every network call of imagegate goes through HttpClient, so tests can replace
// the outside world and the libcurl implementation can pool connections and run requests
// concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imagegate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT
  std::string url;
  Headers headers;
  std::string body;
  // Larger bodies are an error ("BAD_RESPONSE: body exceeds N bytes"), never truncated silently.
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  // Follow redirects (3xx with Location) in our code: an Authorization header is dropped when the
  // target's scheme, host or port differs, and https -> http is refused.
  bool follow_redirects = true;
  // Retry per the client's policy (connection errors, 408, 429, 500, 502, 503, 504).
  bool retry = true;
};

struct Response {
  long status = 0;  // 0 when no HTTP response was received (see error)
  Headers headers;  // names lower-cased, in received order
  std::string body;
  std::string effective_url;  // after redirects
  // Transport failure (DNS, connect, TLS, timeout, body too large...): empty on success.
  // error_code is a finding code: "UNREACHABLE" (connect/DNS/timeout/TLS) or "BAD_RESPONSE";
  // "BAD_REQUEST" when the Request itself cannot be sent (bad method, URL or header).
  std::string error_code;
  std::string error;
  // A transport failure another attempt may cure (reset connection, body cut short, budget of
  // buffered bytes taken by other answers); callers with their own retries (aws::JsonClient)
  // read it.
  bool transient = false;
  int attempts = 0;    // attempts of the final hop (1 + retries); redirects start a new count
  double seconds = 0;  // wall time of the whole request, retries and redirects included

  bool ok() const { return error_code.empty() && status >= 200 && status < 300; }
  // First header with this (lower-case) name.
  std::optional<std::string> header(std::string_view name) const;
};

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5000};
  std::chrono::milliseconds max_retry_after{30000};  // Retry-After is honoured up to this cap
};

struct ClientOptions {
  int concurrency = 16;  // requests in flight at once
  // Response bytes all transfers in flight may buffer together (at least the largest
  // max_body_bytes of a request): with a hostile peer, peak memory stays near this, however many
  // answers come at once. A transfer that would pass it fails with BAD_RESPONSE and is retried.
  std::size_t max_buffered_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
  // Overall deadline for everything this client does; 0 = none. Past it, requests fail with
  // UNREACHABLE ("deadline exceeded").
  std::chrono::milliseconds overall_timeout{0};
  std::string ca_file;  // extra CA bundle for private registries; TLS verification is always on
  RetryPolicy retry;
  // Called once per finished attempt (for -v): method, URL without credentials, status, time,
  // attempt number. Never given headers or bodies.
  std::function<void(const std::string& method, const std::string& url, long status, double seconds,
                     int attempt)>
      on_attempt;
};

// Receives one request's final answer (its index in the batch), in the order answers complete.
using OnResponse = std::function<void(std::size_t index, Response&& response)>;

// Contract: run() performs every request, concurrently up to the configured limit, reusing
// connections and TLS sessions, and returns one Response per Request in the same order. It never
// throws for network or HTTP errors: those are reported in the Response.
class Client {
 public:
  virtual ~Client() = default;
  virtual std::vector<Response> run(const std::vector<Request>& requests) = 0;
  // The same batch, each answer handed to on_response as soon as it is final and not kept: a
  // caller that judges answers one by one holds only those in flight, not the whole batch's.
  // Every request gets exactly one call. The default runs run() and hands its answers over.
  virtual void run_each(const std::vector<Request>& requests, const OnResponse& on_response);
  // Convenience for a single request.
  Response run_one(const Request& request) { return run({request}).front(); }
};

// Process-wide set-up, each done once; clients do both themselves, a command may do them early.
// prepare_allocator: bodies over 128 KiB get their own mapping, returned to the system when freed
// (mallopt; before any second thread exists, it is not thread-safe). initialise: libcurl's and
// OpenSSL's global state (false when libcurl cannot start); safe beside threads not using libcurl.
void prepare_allocator();
bool initialise();

// The libcurl implementation. ca_file is added to the system's trusted CAs; a CA file that cannot
// be loaded makes every request fail (UNREACHABLE) rather than fall back to less trust. Not for
// concurrent use from several threads: run() calls are serialised.
std::unique_ptr<Client> make_curl_client(const ClientOptions& options);

// The URL fit for messages and logs: userinfo removed, values of credential-bearing query
// parameters (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, token, ...) replaced by
// "REDACTED"; everything else kept as given.
std::string redact_url(std::string_view url);

}  // namespace imagegate::http
