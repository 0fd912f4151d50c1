// Runs every case of the AWS Common Runtime SigV4 suite (tests/data/sigv4/v4) through
// compute_signature and sign(): canonical request, string to sign, signature, Authorization and
// the signed request must match byte for byte.
#include "aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/sigv4_detail.hpp"

namespace imagegate::aws {
namespace {

namespace fs = std::filesystem;

const fs::path kSuiteDir = fs::path(IMAGEGATE_TEST_DATA) / "sigv4" / "v4";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> list_cases() {
  std::vector<std::string> names;
  if (!fs::is_directory(kSuiteDir)) return names;
  for (const auto& entry : fs::directory_iterator(kSuiteDir)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::ranges::sort(names);
  return names;
}

// request.txt: "METHOD PATH HTTP/1.1", then "Name:value" lines (a line starting with whitespace
// continues the previous value), then an optional blank line and the body. Values are kept
// raw (after the ':') so the signed request can be rebuilt exactly.
struct ParsedRequest {
  std::string request_line;
  SigningRequest request;
};

ParsedRequest parse_request(const std::string& text) {
  ParsedRequest parsed;
  std::size_t pos = text.find('\n');
  parsed.request_line = text.substr(0, pos);
  const std::string& line = parsed.request_line;
  std::size_t method_end = line.find(' ');
  std::size_t target_end = line.rfind(" HTTP/");
  parsed.request.method = line.substr(0, method_end);
  std::string target = line.substr(method_end + 1, target_end - method_end - 1);
  std::size_t question = target.find('?');
  parsed.request.path = target.substr(0, question);
  if (question != std::string::npos) parsed.request.query = target.substr(question + 1);

  pos = pos == std::string::npos ? text.size() : pos + 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string header_line = text.substr(pos, end - pos);
    pos = std::min(end + 1, text.size());
    if (header_line.empty()) {
      parsed.request.body = text.substr(pos);
      break;
    }
    if (header_line[0] == ' ' || header_line[0] == '\t') {
      parsed.request.headers.back().second += "\n" + header_line;
      continue;
    }
    std::size_t colon = header_line.find(':');
    parsed.request.headers.emplace_back(header_line.substr(0, colon),
                                        header_line.substr(colon + 1));
  }
  return parsed;
}

std::string render_signed_request(const ParsedRequest& parsed, const http::Headers& headers) {
  std::string out = parsed.request_line + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + parsed.request.body;
  return out;
}

std::chrono::system_clock::time_point parse_timestamp(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail()) throw std::runtime_error("bad timestamp " + iso);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string authorization_of(const std::string& signed_request) {
  std::istringstream in(signed_request);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Authorization:"))
      return line.substr(std::string("Authorization:").size());
  }
  return "";
}

TEST(SigV4Suite, HasAllThirtyEightCases) {
  // 38 case folders; each is one parametrized test below, so a lost folder fails here.
  EXPECT_EQ(list_cases().size(), 38u) << "suite folder " << kSuiteDir;
}

class SigV4SuiteCase : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4SuiteCase, MatchesExpectedSigning) {
  const fs::path dir = kSuiteDir / GetParam();
  const auto context = nlohmann::json::parse(read_file(dir / "context.json"));
  ParsedRequest parsed = parse_request(read_file(dir / "request.txt"));

  Credentials credentials;
  credentials.access_key_id = context["credentials"]["access_key_id"];
  credentials.secret_access_key = context["credentials"]["secret_access_key"];
  credentials.session_token = context["credentials"].value("token", "");
  SigningParams params;
  params.region = context["region"];
  params.service = context["service"];
  params.time = parse_timestamp(context["timestamp"]);
  params.normalize_path = context.value("normalize", true);
  const bool omit_token = context.value("omit_session_token", false);
  const bool sign_body = context.value("sign_body", false);
  ASSERT_EQ(params.region, "us-east-1");
  ASSERT_EQ(params.service, "service");
  ASSERT_EQ(format_amz_date(params.time), "20150830T123600Z");

  // Headers the signer adds, in the order the suite's signed requests list them.
  SigningRequest request = parsed.request;
  http::Headers added;
  if (!credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  added.emplace_back("X-Amz-Date", format_amz_date(params.time));
  if (sign_body) added.emplace_back("x-amz-content-sha256", sha256_hex(request.body));
  for (const auto& header : added) {
    // post-sts-header-after: the token is attached after signing, so it is not signed.
    if (omit_token && header.first == "X-Amz-Security-Token") continue;
    request.headers.push_back(header);
  }

  const Signature sig = compute_signature(request, credentials, params);
  EXPECT_EQ(sig.canonical_request, read_file(dir / "header-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, read_file(dir / "header-signature.txt"));
  const std::string expected_signed = read_file(dir / "header-signed-request.txt");
  EXPECT_EQ(sig.authorization, authorization_of(expected_signed));

  http::Headers signed_headers = parsed.request.headers;
  signed_headers.insert(signed_headers.end(), added.begin(), added.end());
  signed_headers.emplace_back("Authorization", sig.authorization);
  EXPECT_EQ(render_signed_request(parsed, signed_headers), expected_signed);

  // sign() must produce the same request whenever the case is one it can express (it always
  // signs the session token and never adds x-amz-content-sha256).
  if (!omit_token && !sign_body) {
    SigningRequest by_sign = parsed.request;
    const Signature again = sign(by_sign, credentials, params);
    EXPECT_EQ(again.signature, sig.signature);
    EXPECT_EQ(render_signed_request(parsed, by_sign.headers), expected_signed);
  }
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4SuiteCase, ::testing::ValuesIn(list_cases()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::ranges::replace(name, '-', '_');
                           return name;
                         });

TEST(SigV4, SignReplacesPreviousSignatureOnRetry) {
  Credentials credentials{"AKIDEXAMPLE", "secret", "token1", std::nullopt, "test"};
  SigningParams params{"us-east-1", "ecr", std::chrono::system_clock::from_time_t(1440938160)};
  SigningRequest request{"POST", "/", "", {{"Host", "api.ecr.us-east-1.amazonaws.com"}}, "{}"};
  sign(request, credentials, params);
  params.time += std::chrono::seconds(5);
  credentials.session_token = "token2";
  const Signature second = sign(request, credentials, params);
  int dates = 0, tokens = 0, auths = 0;
  for (const auto& [name, value] : request.headers) {
    if (name == "X-Amz-Date") {
      ++dates;
      EXPECT_EQ(value, "20150830T123605Z");
    } else if (name == "X-Amz-Security-Token") {
      ++tokens;
      EXPECT_EQ(value, "token2");
    } else if (name == "Authorization") {
      ++auths;
      EXPECT_EQ(value, second.authorization);
    }
  }
  EXPECT_EQ(dates, 1);
  EXPECT_EQ(tokens, 1);
  EXPECT_EQ(auths, 1);
  EXPECT_NE(second.canonical_request.find("x-amz-security-token:token2\n"), std::string::npos);
}

TEST(SigV4, SkipsHeadersThatProxiesRewrite) {
  Credentials credentials{"AKID", "secret", "", std::nullopt, "test"};
  SigningParams params{"us-east-1", "ecs", std::chrono::system_clock::from_time_t(0)};
  SigningRequest request{
      "POST", "/", "", {{"Host", "h"}, {"User-Agent", "imagegate"}, {"X-Amz-Target", "T.Op"}}, ""};
  const Signature sig = compute_signature(request, credentials, params);
  EXPECT_NE(sig.authorization.find("SignedHeaders=host;x-amz-target,"), std::string::npos);
  EXPECT_EQ(sig.canonical_request.find("user-agent"), std::string::npos);
}

TEST(SigV4Detail, CanonicalisesPathsAndQueries) {
  EXPECT_EQ(detail::normalize_path("/a/./b/../c//"), "/a/c/");
  EXPECT_EQ(detail::normalize_path(""), "/");
  EXPECT_EQ(detail::uri_encode("/a b/%2F", true), "/a%20b/%252F");
  EXPECT_EQ(detail::uri_decode("%4a%zz%"), "J%zz%");
  EXPECT_EQ(detail::canonical_query("b=2&a=1&a=0&&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(detail::canonical_query("k=a+b%2Fc"), "k=a%2Bb%2Fc");
}

}  // namespace
}  // namespace imagegate::aws
