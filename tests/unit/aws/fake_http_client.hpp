// A scripted http::Client for the AWS layer's tests: answers every request through a handler and
// records what was sent, so tests can inspect URLs, headers and bodies without a network.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "http/http.hpp"

namespace imagegate::aws::testing {

class FakeHttpClient : public http::Client {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;

  explicit FakeHttpClient(Handler answer) : handler(std::move(answer)) {}

  std::vector<http::Response> run(const std::vector<http::Request>& requests) override {
    std::vector<http::Response> responses;
    {
      std::lock_guard lock(mutex_);
      batch_sizes.push_back(requests.size());
    }
    for (const auto& request : requests) {
      {
        std::lock_guard lock(mutex_);
        sent.push_back(request);
      }
      responses.push_back(handler(request));
    }
    return responses;
  }

  Handler handler;  // may be replaced between runs
  std::vector<http::Request> sent;
  std::vector<std::size_t> batch_sizes;

 private:
  std::mutex mutex_;
};

inline http::Response respond(long status, std::string body, http::Headers headers = {}) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  response.attempts = 1;
  return response;
}

inline http::Response unreachable(std::string why = "connection refused") {
  http::Response response;
  response.error_code = "UNREACHABLE";
  response.error = std::move(why);
  response.attempts = 1;
  return response;
}

inline std::string header_value(const http::Request& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

inline bool has_header(const http::Request& request, const std::string& name) {
  for (const auto& header : request.headers) {
    if (header.first == name) return true;
  }
  return false;
}

}  // namespace imagegate::aws::testing
