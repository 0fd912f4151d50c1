#include <fmt/format.h>

#include "registry/oci/oci.hpp"

namespace imagegate::registry {

Result<OciEndpoint> parse_oci_url(std::string_view url) {
  const auto invalid = [&](std::string_view why) {
    return fail("INVALID_REGISTRY",
                fmt::format("registry URL \"{}\": {}; expected https://HOST[:PORT] or "
                            "http://HOST[:PORT]",
                            http::redact_url(url), why));
  };
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return invalid("no scheme");
  std::string scheme(url.substr(0, sep));
  if (scheme != "https" && scheme != "http") return invalid("scheme must be https or http");
  std::string_view rest = url.substr(sep + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL are not supported (use docker config.json)");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalid("a query or fragment is not supported");
  }
  if (rest.find('/') != std::string_view::npos) {
    return invalid("a path prefix is not supported (the API is always at /v2/)");
  }
  if (rest.empty()) return invalid("no host");
  for (const char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return invalid("the host contains characters a host name cannot");
  }
  // HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; a port is 1 to 65535, in digits.
  std::string_view port;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return invalid("a bracketed host needs ']'");
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return invalid("text after the bracketed host");
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) return invalid("an empty port");
  } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    if (rest.find(':', colon + 1) != std::string_view::npos) {
      return invalid("more than one ':' (an IPv6 address goes in brackets)");
    }
    if (colon == 0) return invalid("no host");
    port = rest.substr(colon + 1);
    if (port.empty()) return invalid("an empty port");
  }
  if (!port.empty()) {
    unsigned long number = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || number > 65535) return invalid("the port is not 1 to 65535");
      number = number * 10 + static_cast<unsigned long>(c - '0');
    }
    if (number == 0 || number > 65535) return invalid("the port is not 1 to 65535");
  }
  std::string host(rest);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return OciEndpoint{std::move(scheme), std::move(host)};
}

}  // namespace imagegate::registry
