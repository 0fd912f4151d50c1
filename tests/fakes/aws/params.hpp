// Request parameter helpers for the fake AWS's JSON 1.1 operations: typed access with AWS's
// error shapes (SerializationException for wrong types, ValidationException for the model's
// constraints), and opaque pagination tokens.
#pragma once

#include <openssl/evp.h>

#include <string>

#include "state.hpp"

namespace imagegate::fake_aws {

inline AwsError validation(const std::string& value, const std::string& field,
                           const std::string& constraint) {
  return {400, "ValidationException",
          fmt::format("1 validation error detected: Value {} at '{}' failed to satisfy "
                      "constraint: {}",
                      value, field, constraint)};
}

inline AwsError invalid_parameter(const std::string& message) {
  return {400, "InvalidParameterException", message};
}

// A string member; throws ValidationException when required and absent, SerializationException
// when it is not a string.
inline std::string str(const Json& body, const char* key, bool required = false) {
  if (!body.contains(key) || body.at(key).is_null()) {
    if (required) throw validation("null", key, "Member must not be null");
    return "";
  }
  if (!body.at(key).is_string()) {
    throw AwsError{400, "SerializationException",
                   fmt::format("Unexpected value type for '{}'", key)};
  }
  return body.at(key).get<std::string>();
}

inline std::optional<int> integer(const Json& body, const char* key) {
  if (!body.contains(key) || body.at(key).is_null()) return std::nullopt;
  if (!body.at(key).is_number_integer()) {
    throw AwsError{400, "SerializationException",
                   fmt::format("Unexpected value type for '{}'", key)};
  }
  return body.at(key).get<int>();
}

// A list member with the model's min/max item counts.
inline Json list(const Json& body, const char* key, std::size_t min, std::size_t max,
                 bool required = false) {
  if (!body.contains(key) || body.at(key).is_null()) {
    if (required) throw validation("null", key, "Member must not be null");
    return Json::array();
  }
  const Json& v = body.at(key);
  if (!v.is_array()) {
    throw AwsError{400, "SerializationException",
                   fmt::format("Unexpected value type for '{}'", key)};
  }
  if (v.size() < min) {
    throw validation(v.dump(), key,
                     fmt::format("Member must have length greater than or equal to {}", min));
  }
  if (v.size() > max) {
    throw validation(v.dump(), key,
                     fmt::format("Member must have length less than or equal to {}", max));
  }
  return v;
}

inline std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// nextToken values are opaque to clients; ours encode the offset of the next page.
inline std::string page_token(std::size_t offset) {
  return base64(fmt::format("fake-aws-page:{}", offset));
}

inline std::size_t page_offset(const std::string& token, std::size_t total) {
  if (token.empty()) return 0;
  for (std::size_t offset = 0; offset <= total; ++offset) {
    if (page_token(offset) == token) return offset;
  }
  throw invalid_parameter(
      "Invalid parameter at 'nextToken' failed to satisfy constraint: "
      "'Invalid NextToken'");
}

// One page of items [offset, offset + size) with the token for the next page (empty at the end).
struct Page {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string next_token;
};

inline Page paginate(std::size_t total, const std::string& token, std::size_t size) {
  Page p;
  p.begin = page_offset(token, total);
  p.end = std::min(total, p.begin + size);
  if (p.end < total) p.next_token = page_token(p.end);
  return p;
}

}  // namespace imagegate::fake_aws
