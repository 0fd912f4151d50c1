// The registry's Distribution token flow: the WWW-Authenticate values of a 401 (one per line,
// up to an empty line), the realm policy and the token request built from the challenge, then
// the token endpoint's answer (the rest of the input).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth.hpp"
#include "http/http.hpp"

using namespace imagegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view body;
  if (const auto blank = text.find("\n\n"); blank != std::string_view::npos) {
    body = text.substr(blank + 2);
    text = text.substr(0, blank);
  }
  http::Response response;
  response.status = 401;
  response.effective_url = "https://registry.example/v2/afu9/x/manifests/prod";
  while (!text.empty()) {
    const auto eol = text.find('\n');
    response.headers.emplace_back("www-authenticate", std::string(text.substr(0, eol)));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  const auto challenge = auth::parse_challenge(response);
  if (challenge) {
    (void)auth::check_realm(challenge->realm, "https", "registry.example");
    (void)auth::check_realm(challenge->realm, "http", "127.0.0.1:5000");
    if (const auto parts = auth::split_url(challenge->realm)) {
      (void)auth::is_loopback_host(parts->host);
    }
    const std::string scope =
        challenge->scope.empty() ? "repository:afu9/x:pull" : challenge->scope;
    (void)auth::token_request(*challenge, scope, std::nullopt);
    (void)auth::token_request(*challenge, scope, auth::Credential{"user", "password", ""});
    (void)auth::token_request(*challenge, scope, auth::Credential{"", "", "refresh-token"});
  }
  http::Response answer;
  answer.status = 200;
  answer.body = std::string(body);
  (void)auth::parse_token_response(answer, "repository:afu9/x:pull");
  return 0;
}
