// Canonicalisation steps of SigV4, exposed for their unit tests and for the fake AWS verifier.
#pragma once

#include <string>
#include <string_view>

namespace imagegate::aws::detail {

// True for headers never signed because HTTP stacks and proxies rewrite them (User-Agent,
// Expect, ...). Takes a lower-case name.
bool is_unsigned_header(std::string_view lower_name);
// Percent-encodes every byte but the unreserved set (A-Z a-z 0-9 - . _ ~), and '/' if asked.
std::string uri_encode(std::string_view data, bool keep_slash);
// Decodes %XX escapes; '+' stays literal and malformed escapes are kept as they are.
std::string uri_decode(std::string_view data);
// Removes empty, "." and ".." segments; keeps a trailing slash.
std::string normalize_path(std::string_view path);
// Decodes each name and value, re-encodes them strictly and sorts by name, then value.
std::string canonical_query(std::string_view query);

}  // namespace imagegate::aws::detail
