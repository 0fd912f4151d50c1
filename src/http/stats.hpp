// What the HTTP client did, for the evidence's timing, and the default bounds of requests in
// flight per protocol. Kept apart from http.hpp so the client's interface stays what every
// backend and fake already builds against.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "http/http.hpp"

namespace imagegate::http {

// ClientOptions::concurrency <= 0 asks for these defaults (what `gate` uses when --concurrency
// is not given); a positive value bounds HTTP/1.1 connections and HTTP/2 streams alike.
// HTTP/1.1 (or a protocol not known yet): one request per connection, the pool's size.
inline constexpr int kDefaultHttp1Concurrency = 16;
// An origin that answered over HTTP/2: streams of one connection; libcurl also keeps within the
// server's SETTINGS_MAX_CONCURRENT_STREAMS.
inline constexpr int kDefaultHttp2Concurrency = 100;

// Counted per finished attempt (requests and kinds per finished request), never with URLs,
// headers or bodies.
struct ClientStats {
  std::size_t requests = 0;     // finished requests; a redirected request counts once
  std::size_t attempts = 0;     // every attempt: retries and redirect hops included
  std::size_t retries = 0;      // attempts after the first of the same hop
  std::size_t throttled = 0;    // attempts answered 429 Too Many Requests or 503
  std::size_t connections = 0;  // connections opened (TCP + TLS handshakes)
  std::map<std::string, std::size_t> by_kind;      // "HEAD manifest", "GET token", ...
  std::map<std::string, std::size_t> by_protocol;  // "HTTP/1.1", "HTTP/2": attempts answered
  ClientStats& operator+=(const ClientStats& other);
};

// The counters of a client made by make_curl_client (all zero for any other Client).
ClientStats client_stats(const Client& client);

// What a request is for, from its method, path and X-Amz-Target: "<METHOD> <kind>" with kind one
// of ping (/v2/), manifest, blob, tags, referrers, token (a path ending in /token), an AWS API
// action ("POST BatchGetImage"), else other.
std::string request_kind(const Request& request);

}  // namespace imagegate::http
