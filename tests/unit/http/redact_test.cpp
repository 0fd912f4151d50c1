#include <gtest/gtest.h>

#include "http/http.hpp"

namespace imagegate::http {
namespace {

TEST(RedactUrl, RemovesUserAndPassword) {
  EXPECT_EQ(redact_url("https://user:s3cret@registry.example:5000/v2/x?n=1"),
            "https://registry.example:5000/v2/x?n=1");
}

TEST(RedactUrl, RemovesUserOnly) {
  EXPECT_EQ(redact_url("http://token@host/v2/"), "http://host/v2/");
}

TEST(RedactUrl, PasswordContainingAtSignIsRemovedWhole) {
  EXPECT_EQ(redact_url("https://u:p@ss@host/a"), "https://host/a");
}

TEST(RedactUrl, AtSignInPathOrQueryIsNotUserinfo) {
  EXPECT_EQ(redact_url("https://host/v2/a@b?x=c@d"), "https://host/v2/a@b?x=c@d");
}

TEST(RedactUrl, UrlWithoutCredentialsIsUnchanged) {
  EXPECT_EQ(redact_url("https://host:443/v2/name/manifests/sha256:abc#frag"),
            "https://host:443/v2/name/manifests/sha256:abc#frag");
  EXPECT_EQ(redact_url(""), "");
}

TEST(RedactUrl, CredentialQueryParametersAreMasked) {
  EXPECT_EQ(redact_url("https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4&"
                       "X-Amz-Credential=AKIDEXAMPLE%2F2015&X-Amz-Signature=abcdef&"
                       "x-amz-security-token=tok#f"),
            "https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4&"
            "X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x-amz-security-token=REDACTED#f");
  EXPECT_EQ(redact_url("https://auth/token?service=r&scope=repo:a:pull&access_token=zzz"),
            "https://auth/token?service=r&scope=repo:a:pull&access_token=REDACTED");
}

TEST(RedactUrl, SchemelessUserinfoIsRemoved) {
  EXPECT_EQ(redact_url("user:pw@host/path"), "host/path");
}

TEST(ResponseHeader, LooksUpCaseInsensitivelyAndReturnsTheFirst) {
  Response r;
  r.headers = {{"docker-content-digest", "sha256:1"},
               {"www-authenticate", "Bearer a"},
               {"www-authenticate", "Basic b"}};
  EXPECT_EQ(r.header("Docker-Content-Digest"), "sha256:1");
  EXPECT_EQ(r.header("www-authenticate"), "Bearer a");
  EXPECT_EQ(r.header("content-type"), std::nullopt);
}

TEST(ResponseOk, RequiresNoErrorAnd2xx) {
  Response r;
  r.status = 200;
  EXPECT_TRUE(r.ok());
  r.status = 302;
  EXPECT_FALSE(r.ok());
  r.status = 200;
  r.error_code = "BAD_RESPONSE";
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace imagegate::http
