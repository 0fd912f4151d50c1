// The libcurl client: one multi handle runs every request of a batch on connections (and TLS
// sessions) kept for the client's lifetime, so the stages of a registry check (ping, token,
// HEADs) reuse what the first stage opened.
//
// Scheduling is per origin. A plain-HTTP origin, or one that answered over HTTP/1.1, gets at most
// 16 (or `concurrency`) requests in flight, one connection each (the HTTP/1.1 pool). Over TLS
// every transfer asks for HTTP/2 and waits for the origin's first connection (CURLOPT_PIPEWAIT)
// instead of opening more, so when the server says h2 they all ride on that one: an origin over
// TLS not known to speak HTTP/1.1 gets 100 (or `concurrency`) requests in flight as streams of
// that connection, and libcurl keeps each connection within the server's announced
// SETTINGS_MAX_CONCURRENT_STREAMS.
//
// Retries and redirects are ours, not libcurl's: a retry waits in `waiting` with a ready time
// while the other transfers keep running, and a redirect passes the credential rules of
// policy::plan_redirect before the next hop starts.
#include <curl/curl.h>
#include <malloc.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "http/http.hpp"
#include "http/policy.hpp"
#include "http/stats.hpp"
#include "http/transfer.hpp"

namespace imagegate::embedded {
extern const std::string_view kVersion;
}

namespace imagegate::http {
namespace {

using detail::Clock;
using detail::Transfer;
using std::chrono::milliseconds;

// Whether libcurl's built-in CA directory holds OpenSSL's hash links (<8 hex>.<n>), so the
// bundle file can be left out without losing a trusted CA. Otherwise the default stays.
bool system_ca_dir_is_hashed() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info == nullptr || info->age < CURLVERSION_NINTH || info->capath == nullptr) return false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(info->capath, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 10 && name[8] == '.' && std::isdigit(static_cast<unsigned char>(name[9])) &&
        name.find_first_not_of("0123456789abcdef") == 8) {
      return true;
    }
  }
  return false;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string describe(const Request& request) {
  return request.method + " " + redact_url(request.url);
}

class CurlClient final : public Client {
 public:
  explicit CurlClient(const ClientOptions& options)
      : options_(options), created_(Clock::now()), rng_(std::random_device{}()) {
    if (options_.overall_timeout.count() > 0) deadline_ = created_ + options_.overall_timeout;
    if (!initialise()) {
      setup_error_ = Error{"UNREACHABLE", "libcurl could not be initialised"};
      return;
    }
    if (!options_.ca_file.empty()) {
      auto cas = detail::ExtraCas::load(options_.ca_file);
      if (!cas) {
        setup_error_ = cas.error();
        return;
      }
      extra_cas_ = *cas;
    }
    multi_ = curl_multi_init();
    share_ = curl_share_init();
    if (multi_ == nullptr || share_ == nullptr) {
      setup_error_ = Error{"UNREACHABLE", "libcurl handles could not be created"};
      return;
    }
    long limit = http1_limit();
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, limit);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit);
    // Our own bound per HTTP/2 connection; the server's SETTINGS may lower it further.
    curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, static_cast<long>(http2_limit()));
    // Keep idle connections between run() calls instead of sizing the cache by live handles.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, std::max(limit, 8L));
    // Single-threaded use (run() is serialised), so the share needs no lock callbacks.
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    budget_.limit = options_.max_buffered_bytes;
    settings_.budget = &budget_;
    settings_.pool = &pool_;
    settings_.share = share_;
    settings_.connect_timeout = options_.connect_timeout;
    settings_.user_agent = "imagegate/" + std::string(embedded::kVersion);
    settings_.extra_cas = extra_cas_.get();
    settings_.system_cas_by_hash = system_ca_dir_is_hashed();
  }

  ~CurlClient() override {
    // Idle handles first: each was attached to the share, which must outlive them.
    for (CURL* easy : pool_.idle) curl_easy_cleanup(easy);
    pool_.idle.clear();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  std::vector<Response> run(const std::vector<Request>& requests) override {
    std::lock_guard lock(mutex_);
    Batch batch(requests, nullptr, Clock::now());
    perform(batch);
    return std::move(batch.responses);
  }

  // The callback runs inside the client's loop: it must not call this client.
  void run_each(const std::vector<Request>& requests, const OnResponse& on_response) override {
    std::lock_guard lock(mutex_);
    Batch batch(requests, &on_response, Clock::now());
    perform(batch);
  }

  ClientStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  struct Batch;

  void perform(Batch& batch) {
    if (setup_error_) {
      while (batch.has_queued()) {
        finish_with_error(batch, *take_next(batch), setup_error_->code, setup_error_->message,
                          Clock::now());
      }
      return;
    }
    while (batch.remaining > 0) {
      start_ready(batch);
      if (batch.remaining == 0) break;
      int running = 0;
      CURLMcode code = curl_multi_perform(multi_, &running);
      collect_finished(batch);
      if (batch.remaining == 0) break;
      if (code == CURLM_OK)
        code = curl_multi_poll(multi_, nullptr, 0, poll_timeout(batch), nullptr);
      if (code != CURLM_OK) abandon_in_flight(batch, code);
    }
  }

  // A request becomes a Transfer when it starts and is dropped when it finishes, so a batch of
  // thousands holds only the transfers in flight or waiting for a retry.
  struct Batch {
    Batch(const std::vector<Request>& r, const OnResponse* on_response, Clock::time_point now)
        : requests(r),
          sink(on_response),
          responses(on_response == nullptr ? r.size() : 0),
          transfers(r.size()),
          remaining(r.size()),
          created(now) {}
    bool has_queued() const { return !ready.empty() || next < requests.size(); }
    const std::vector<Request>& requests;
    const OnResponse* sink;           // run_each: answers go here as they are final
    std::vector<Response> responses;  // run: every answer, by request index
    std::vector<std::unique_ptr<Transfer>> transfers;  // by request index, while alive
    std::size_t next = 0;                              // the first request not started yet
    std::deque<Transfer*> ready;     // redirect hops and due retries: they go before new requests
    std::vector<Transfer*> waiting;  // retries, each with its ready_at
    std::size_t remaining;
    int in_flight = 0;
    std::unordered_map<std::string, int> in_flight_by_origin;
    std::unordered_map<const Transfer*, std::string> origin_of;  // of each transfer in flight
    Clock::time_point created;  // every request's `seconds` counts from here, queueing included
  };

  Transfer* take_next(Batch& batch) {
    if (!batch.ready.empty()) {
      Transfer* t = batch.ready.front();
      batch.ready.pop_front();
      return t;
    }
    const std::size_t i = batch.next++;
    batch.transfers[i] = std::make_unique<Transfer>(i, batch.requests[i], multi_);
    batch.transfers[i]->started = batch.created;
    return batch.transfers[i].get();
  }

  bool past_deadline(Clock::time_point now) const {
    return deadline_reached_ || (deadline_ && now >= *deadline_);
  }

  std::string deadline_message(const Request& request) const {
    return "deadline exceeded (overall timeout " +
           std::to_string(options_.overall_timeout.count()) + " ms): " + describe(request);
  }

  // concurrency <= 0: the defaults per protocol; else the caller's bound for both.
  int http1_limit() const {
    return options_.concurrency > 0 ? options_.concurrency : kDefaultHttp1Concurrency;
  }
  int http2_limit() const {
    return options_.concurrency > 0 ? options_.concurrency : kDefaultHttp2Concurrency;
  }
  // Only TLS can negotiate HTTP/2 (ALPN): a plain http:// transfer, or one to an origin that has
  // answered over HTTP/1.1, must not wait for another's connection. With PIPEWAIT on, libcurl
  // held every request of a plain-HTTP batch until the first answer was complete.
  bool multiplexes(const std::string& origin) const {
    return origin.starts_with("https://") &&
           (http2_origins_.contains(origin) || !http1_origins_.contains(origin));
  }
  bool may_multiplex(const std::string& url) const {
    return multiplexes(policy::scheduling_origin(url));
  }
  // An origin that multiplexes gets the HTTP/2 window from its first round trip on, before any
  // answer has said h2: every transfer waits for the first connection (PIPEWAIT) and rides on it
  // as a stream. When the server says HTTP/1.1, libcurl keeps to its 16 connections per host
  // (CURLMOPT_MAX_HOST_CONNECTIONS) and queues the rest, whose timeouts run while queued; the
  // origin gets 16 from then on.
  int limit_for(const std::string& origin) const {
    return multiplexes(origin) ? http2_limit() : http1_limit();
  }

  // The request take_next would return, if any.
  const Request* peek_next(const Batch& batch) const {
    if (!batch.ready.empty()) return &batch.ready.front()->request;
    if (batch.next < batch.requests.size()) return &batch.requests[batch.next];
    return nullptr;
  }

  // Whether the next queued request may start now. Requests start in order: one waiting for a
  // full origin holds back the rest (batches go to one origin at a time in practice).
  bool can_start_next(const Batch& batch) const {
    if (batch.in_flight >= std::max(http1_limit(), http2_limit())) return false;
    const Request* next = peek_next(batch);
    if (next == nullptr) return false;
    const std::string origin = policy::scheduling_origin(next->url);
    auto it = batch.in_flight_by_origin.find(origin);
    return it == batch.in_flight_by_origin.end() || it->second < limit_for(origin);
  }

  void mark_started(Batch& batch, const Transfer& t) {
    std::string origin = policy::scheduling_origin(t.request.url);
    ++batch.in_flight;
    ++batch.in_flight_by_origin[origin];
    batch.origin_of[&t] = std::move(origin);
  }

  // Returns the origin the transfer was counted against.
  std::string mark_stopped(Batch& batch, const Transfer& t) {
    --batch.in_flight;
    auto node = batch.origin_of.extract(&t);
    if (node.empty()) return {};
    if (--batch.in_flight_by_origin[node.mapped()] <= 0) {
      batch.in_flight_by_origin.erase(node.mapped());
    }
    return std::move(node.mapped());
  }

  void start_ready(Batch& batch) {
    Clock::time_point now = Clock::now();
    // Due retries go first: they are the oldest work.
    std::vector<Transfer*> due;
    std::erase_if(batch.waiting, [&](Transfer* t) {
      if (t->ready_at > now) return false;
      due.push_back(t);
      return true;
    });
    batch.ready.insert(batch.ready.begin(), due.begin(), due.end());

    while (can_start_next(batch)) {
      Transfer* t = take_next(batch);
      now = Clock::now();
      if (past_deadline(now)) {
        finish_with_error(batch, *t, "UNREACHABLE", deadline_message(t->request), now);
        continue;
      }
      milliseconds timeout = options_.request_timeout;
      t->timeout_is_deadline = false;
      if (deadline_) {
        auto left = std::chrono::ceil<milliseconds>(*deadline_ - now);
        if (timeout.count() <= 0 || left < timeout) {
          timeout = std::max(left, milliseconds(1));  // 0 would mean "no timeout" to libcurl
          t->timeout_is_deadline = true;
        }
      }
      auto started = t->start(settings_, timeout, now, may_multiplex(t->request.url));
      if (!started) {
        finish_with_error(batch, *t, started.error().code, started.error().message, now);
        continue;
      }
      mark_started(batch, *t);
    }
  }

  long poll_timeout(const Batch& batch) const {
    // A finished transfer freed a slot (or a redirect queued its next hop): start at once.
    if (can_start_next(batch)) return 0;
    Clock::time_point now = Clock::now();
    long timeout = 1000;
    long curl_timeout = -1;
    curl_multi_timeout(multi_, &curl_timeout);
    if (curl_timeout >= 0) timeout = std::min(timeout, curl_timeout);
    for (const Transfer* t : batch.waiting) {
      timeout = std::min<long>(timeout, std::chrono::ceil<milliseconds>(t->ready_at - now).count());
    }
    // Queued requests that cannot start must still fail at the deadline, not after.
    if (deadline_ && batch.has_queued()) {
      timeout = std::min<long>(timeout, std::chrono::ceil<milliseconds>(*deadline_ - now).count());
    }
    return std::max(timeout, 0L);
  }

  void collect_finished(Batch& batch) {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode result = msg->data.result;
      const std::string origin = mark_stopped(batch, *t);
      attempt_done(batch, *t, result, origin);
    }
  }

  // The multi handle itself failed: its transfers would never finish, so fail them now.
  void abandon_in_flight(Batch& batch, CURLMcode code) {
    Clock::time_point now = Clock::now();
    for (auto& t : batch.transfers) {
      if (!t || t->easy == nullptr) continue;
      t->release();
      mark_stopped(batch, *t);
      finish_with_error(batch, *t, "UNREACHABLE",
                        describe(t->request) + ": libcurl: " + curl_multi_strerror(code), now);
    }
  }

  // Turns the finished attempt into a Response, then decides: retry, follow, or done.
  void attempt_done(Batch& batch, Transfer& t, CURLcode result, const std::string& origin) {
    Clock::time_point now = Clock::now();
    Response r;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
    count_attempt(t, r.status, origin);
    r.headers = std::move(t.headers);
    r.body = t.take_body();
    r.effective_url = t.request.url;
    r.attempts = t.attempt;
    bool transport_retryable = false;
    if (t.body_too_large || result == CURLE_FILESIZE_EXCEEDED) {
      r.error_code = "BAD_RESPONSE";
      r.error = "response body exceeds " + std::to_string(t.request.max_body_bytes) +
                " bytes (max_body_bytes): " + describe(t.request);
    } else if (t.budget_exceeded) {
      // Other answers in flight hold the budget; once they are done, a retry may fit.
      r.error_code = "BAD_RESPONSE";
      r.error = "response bodies in flight exceed " +
                std::to_string(std::max(options_.max_buffered_bytes, t.request.max_body_bytes)) +
                " bytes (max_buffered_bytes): " + describe(t.request);
      transport_retryable = true;
    } else if (t.headers_too_large) {
      r.error_code = "BAD_RESPONSE";
      r.error = "response headers exceed 1 MiB: " + describe(t.request);
    } else if (result == CURLE_OPERATION_TIMEDOUT && t.timeout_is_deadline) {
      // libcurl's timer may fire a hair before our clock reaches the deadline; its word counts,
      // or the next queued request would start with a millisecond left.
      deadline_reached_ = true;
      r.error_code = "UNREACHABLE";
      r.error = deadline_message(t.request);
    } else if (result != CURLE_OK) {
      detail::CurlFailure failure = detail::classify_curl_error(result);
      r.error_code = failure.code;
      std::string text = t.error_buffer[0] != '\0' ? std::string(t.error_buffer)
                                                   : std::string(curl_easy_strerror(result));
      r.error = describe(t.request) + ": " + text;
      transport_retryable = failure.retryable;
    }
    r.transient = transport_retryable;
    // A partial body must never pass for a whole one, nor keep its memory.
    if (!r.error_code.empty()) std::string().swap(r.body);
    t.release();
    if (options_.on_attempt) {
      options_.on_attempt(t.request.method, redact_url(t.request.url), r.status,
                          seconds_between(t.attempt_started, now), t.attempt);
    }

    bool retry_status = r.error_code.empty() && policy::is_retryable_status(r.status);
    if (t.request.retry && t.attempt < options_.retry.max_attempts &&
        (transport_retryable || retry_status)) {
      milliseconds delay = policy::backoff_delay(options_.retry, t.attempt - 1, rng_);
      if (auto header = r.header("retry-after"); header && retry_status) {
        if (auto wait = policy::parse_retry_after(*header, std::chrono::system_clock::now())) {
          delay = std::min(*wait, options_.retry.max_retry_after);
        }
      }
      t.ready_at = now + delay;
      // A retry that could only start after the deadline would fail anyway; the answer we have
      // says more about why than "deadline exceeded".
      if (!deadline_ || t.ready_at < *deadline_) {
        batch.waiting.push_back(&t);
        return;
      }
    } else if (r.error_code.empty() && t.request.follow_redirects &&
               policy::is_redirect_status(r.status) && r.header("location")) {
      if (follow(t, r)) {
        batch.ready.push_front(&t);
        return;
      }
    }
    finish(batch, t, std::move(r), now);
  }

  // Prepares the next hop; false (with r's error set) when the redirect is refused.
  bool follow(Transfer& t, Response& r) {
    if (t.hops >= policy::kMaxRedirects) {
      r.error_code = "BAD_RESPONSE";
      r.error = "too many redirects (more than " + std::to_string(policy::kMaxRedirects) +
                "): " + describe(t.request);
      return false;
    }
    auto plan = policy::plan_redirect(t.original_url, t.request.url, *r.header("location"));
    if (!plan) {
      r.error_code = plan.error().code;
      r.error = plan.error().message;
      return false;
    }
    t.request.url = plan->url;
    if (plan->drop_credentials) {
      std::erase_if(t.request.headers,
                    [](const auto& h) { return policy::is_credential_header(h.first); });
    }
    // 303 means "see the result elsewhere": fetch it with GET. HEAD stays HEAD, as the caller
    // asked for no body.
    if (r.status == 303 && t.request.method != "HEAD" && t.request.method != "GET") {
      t.request.method = "GET";
      t.request.body.clear();
      std::erase_if(t.request.headers, [](const auto& h) {
        std::string name = h.first;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return name == "content-type" || name == "content-length";
      });
    }
    ++t.hops;
    t.attempt = 0;
    return true;
  }

  // Stats of a finished attempt; an origin that answered over HTTP/2 gets its streams from now on.
  void count_attempt(const Transfer& t, long status, const std::string& origin) {
    ++stats_.attempts;
    if (t.attempt > 1) ++stats_.retries;
    if (status == 429 || status == 503) ++stats_.throttled;
    long connects = 0;
    if (curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
      stats_.connections += static_cast<std::size_t>(connects);
    }
    long version = 0;
    if (status == 0 || curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK) {
      return;
    }
    switch (version) {
      case CURL_HTTP_VERSION_1_0:
        ++stats_.by_protocol["HTTP/1.0"];
        if (!origin.empty()) http1_origins_.insert(origin);
        break;
      case CURL_HTTP_VERSION_1_1:
        ++stats_.by_protocol["HTTP/1.1"];
        if (!origin.empty()) http1_origins_.insert(origin);
        break;
      case CURL_HTTP_VERSION_2_0:
        ++stats_.by_protocol["HTTP/2"];
        if (!origin.empty()) http2_origins_.insert(origin);
        break;
      case CURL_HTTP_VERSION_3:
        ++stats_.by_protocol["HTTP/3"];
        break;
      default:
        break;
    }
  }

  // Destroys t.
  void finish(Batch& batch, Transfer& t, Response r, Clock::time_point now) {
    r.seconds = seconds_between(t.started, now);
    const std::size_t index = t.index;
    ++stats_.requests;
    ++stats_.by_kind[request_kind(batch.requests[index])];
    --batch.remaining;
    batch.transfers[index].reset();
    if (batch.sink != nullptr) {
      (*batch.sink)(index, std::move(r));
    } else {
      batch.responses[index] = std::move(r);
    }
  }

  void finish_with_error(Batch& batch, Transfer& t, const std::string& code,
                         const std::string& message, Clock::time_point now) {
    Response r;
    r.effective_url = t.request.url;
    r.attempts = t.attempt;
    r.error_code = code;
    r.error = message;
    finish(batch, t, std::move(r), now);
  }

  ClientOptions options_;
  Clock::time_point created_;
  std::optional<Clock::time_point> deadline_;
  bool deadline_reached_ = false;
  std::mt19937_64 rng_;
  std::optional<Error> setup_error_;
  std::shared_ptr<const detail::ExtraCas> extra_cas_;
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  detail::EasySettings settings_;
  std::set<std::string> http2_origins_;  // scheduling_origin of every origin that spoke HTTP/2
  std::set<std::string> http1_origins_;  // and of every origin that answered over HTTP/1.x
  ClientStats stats_;
  detail::BodyBudget budget_;
  detail::EasyPool pool_;
  mutable std::mutex mutex_;
};

}  // namespace

ClientStats client_stats(const Client& client) {
  if (const auto* curl = dynamic_cast<const CurlClient*>(&client)) return curl->stats();
  return {};
}

void prepare_allocator() {
  static const bool done = [] {
    // Without a fixed threshold glibc raises it after the first large free, and a hostile peer's
    // aborted bodies would stay behind as heap the process keeps (peak memory past the budget).
    return mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1;
  }();
  (void)done;
}

bool initialise() {
  // A function-local static: initialised once, thread-safely, before the first handle exists.
  static const bool ok = [] {
    prepare_allocator();
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  return ok;
}

std::unique_ptr<Client> make_curl_client(const ClientOptions& options) {
  return std::make_unique<CurlClient>(options);
}

}  // namespace imagegate::http
