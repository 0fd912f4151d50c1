// HTTP answer header lines as libcurl hands them to the client (one call per line, interim
// 1xx answers and folded lines included), then what the client reads from the headers it kept:
// Content-Length, Retry-After and the redirect Location.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http.hpp"
#include "http/policy.hpp"
#include "http/transfer.hpp"

using namespace imagegate::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  detail::Transfer t(0, Request{}, nullptr);
  t.request.url = "https://registry.example/v2/afu9/x/manifests/prod";
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t eol = text.find('\n', at);
    eol = eol == std::string::npos ? text.size() : eol + 1;
    // libcurl passes each line in a buffer of its own, not NUL-terminated.
    std::string line = text.substr(at, eol - at);
    if (detail::on_header(line.data(), 1, line.size(), &t) != line.size()) {
      if (!t.headers_too_large) std::abort();
      break;
    }
    at = eol;
  }
  Response r;
  r.status = 307;
  r.headers = t.headers;
  for (const auto& [name, value] : r.headers) {
    // Names are kept lower-cased, so each is found by the lower-case lookup.
    if (!r.header(name)) std::abort();
  }
  if (auto retry_after = r.header("retry-after")) {
    (void)policy::parse_retry_after(*retry_after, std::chrono::system_clock::time_point());
  }
  if (auto location = r.header("location")) {
    (void)policy::plan_redirect(t.request.url, t.request.url, *location);
  }
  return 0;
}
