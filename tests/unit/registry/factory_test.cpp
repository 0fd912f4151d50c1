// open_registry picks the backend by scheme and refuses every malformed URL with a UsageError
// before anything connects; default_registry_url picks what --registry defaults to.
#include "registry/factory.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/scratch_dir.hpp"
#include "util/error.hpp"

namespace imagegate::registry {
namespace {

RegistrySettings settings(std::string url) {
  RegistrySettings s;
  s.url = std::move(url);
  s.region = "eu-central-1";  // ECR: no region from the machine's configuration
  return s;
}

// The UsageError's text, or "" when none was thrown.
std::string usage_error(const RegistrySettings& s) {
  try {
    open_registry(s);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

class RegistryFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    // An ECR session reads the shared AWS files at once: never the developer's.
    setenv("AWS_CONFIG_FILE", (scratch_.path() / "aws-config").c_str(), 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", (scratch_.path() / "aws-credentials").c_str(), 1);
    setenv("DOCKER_CONFIG", (scratch_.path() / "docker").c_str(), 1);
    unsetenv("AWS_PROFILE");
  }
  testing::ScratchDir scratch_;
};

TEST_F(RegistryFactory, EverySchemeOpensItsBackend) {
  struct Case {
    std::string url;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {"https://registry.example.com", "oci"},
      {"https://Registry.Example.com:8443/", "oci"},
      {"http://127.0.0.1:5000", "oci"},
      {"http://[::1]:5000", "oci"},
      {"http://localhost:65535", "oci"},
      {"ecr", "ecr"},
      {"ecr://eu-central-1", "ecr"},
      {"ecr://123456789012.dkr.ecr.eu-central-1.amazonaws.com", "ecr"},
      {"oci-layout:" + scratch_.path().string(), "oci-layout"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto opened = open_registry(settings(c.url));
    EXPECT_EQ(opened.kind(), c.kind);
    // Nothing was contacted while opening.
    EXPECT_EQ(opened.http_stats().requests, 0u);
  }
  EXPECT_EQ(cases.size(), 9u);
}

TEST_F(RegistryFactory, TheBackendDescribesWhatItOpened) {
  EXPECT_EQ(open_registry(settings("https://ghcr.io")).get().describe(), "https://ghcr.io");
  auto s = settings("oci-layout:layouts/prod");
  s.base_dir = scratch_.path();
  EXPECT_EQ(open_registry(s).get().describe(),
            "oci-layout:" + (scratch_.path() / "layouts/prod").string());
  auto absolute = settings("oci-layout:/srv/layouts");
  absolute.base_dir = scratch_.path();
  EXPECT_EQ(open_registry(absolute).get().describe(), "oci-layout:/srv/layouts");
}

TEST_F(RegistryFactory, UnknownSchemesListTheKnownOnes) {
  const std::string known =
      "has an unknown scheme; known: ecr, ecr://REGION, "
      "ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com, https://HOST[:PORT], http://HOST[:PORT], "
      "oci-layout:DIR";
  for (const std::string url :
       {"", "ftp://registry.example.com", "registry.example.com", "HTTPS://registry.example.com",
        "ECR", "ecr:eu-central-1", "oci:/srv/layouts", "docker://ghcr.io", "127.0.0.1:5000"}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(usage_error(settings(url)), "--registry '" + url + "' " + known);
  }
}

TEST_F(RegistryFactory, MalformedOciUrlsAreRefusedByName) {
  const auto message = [](std::string_view url, std::string_view why) {
    return "registry URL \"" + std::string(url) + "\": " + std::string(why) +
           "; expected https://HOST[:PORT] or http://HOST[:PORT]";
  };
  struct Case {
    std::string url;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"https://", "no host"},
      {"http:///", "no host"},
      {"https://registry.example.com/v2",
       "a path prefix is not supported (the API is always at /v2/)"},
      {"https://registry.example.com/team/",
       "a path prefix is not supported (the API is always at /v2/)"},
      {"https://registry.example.com?x=1", "a query or fragment is not supported"},
      {"https://registry.example.com#top", "a query or fragment is not supported"},
      {"https://registry example.com", "the host contains characters a host name cannot"},
      {"https://registry_example.com", "the host contains characters a host name cannot"},
      {"http://127.0.0.1:", "an empty port"},
      {"http://127.0.0.1:http", "the port is not 1 to 65535"},
      {"http://127.0.0.1:0", "the port is not 1 to 65535"},
      {"http://127.0.0.1:65536", "the port is not 1 to 65535"},
      {"http://127.0.0.1:99999999999999999999", "the port is not 1 to 65535"},
      {"http://:5000", "no host"},
      {"http://::1:5000", "more than one ':' (an IPv6 address goes in brackets)"},
      {"http://[::1", "a bracketed host needs ']'"},
      {"http://[]:5000", "a bracketed host needs ']'"},
      {"http://[::1]5000", "text after the bracketed host"},
      {"http://[::1]:", "an empty port"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(usage_error(settings(c.url)), message(c.url, c.why));
  }
}

TEST_F(RegistryFactory, CredentialsInTheUrlAreRefusedWithoutShowingThem) {
  const std::string error = usage_error(settings("https://ci:s3cr3t-in-url@registry.example.com"));
  EXPECT_NE(error.find("credentials in the URL are not supported (use docker config.json)"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("s3cr3t-in-url"), std::string::npos) << error;
}

TEST_F(RegistryFactory, MalformedEcrUrls) {
  const std::string accepted =
      "expected 'ecr', 'ecr://REGION' (e.g. ecr://eu-central-1) or "
      "'ecr://ACCOUNT.dkr.ecr.REGION.amazonaws.com' (ACCOUNT: 12 digits)";
  for (const std::string url : {"ecr://", "ecr://nowhere", "ecr://EU-CENTRAL-1",
                                "ecr://12345.dkr.ecr.eu-central-1.amazonaws.com",
                                "ecr://123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9",
                                "ecr://123456789012.dkr.ecr.nowhere.amazonaws.com"}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(usage_error(settings(url)), "--registry '" + url + "': " + accepted);
  }
}

TEST_F(RegistryFactory, TheRegionMustAgreeWithTheUrl) {
  auto s = settings("ecr://123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(usage_error(s),
            "--region 'eu-central-1' contradicts --registry "
            "'ecr://123456789012.dkr.ecr.eu-west-1.amazonaws.com' (region 'eu-west-1')");
  s.region = "eu-west-1";
  EXPECT_EQ(usage_error(s), "");
  s.region.reset();  // the URL's region is enough
  EXPECT_EQ(usage_error(s), "");
}

TEST_F(RegistryFactory, AnEmptyLayoutDirectory) {
  EXPECT_EQ(usage_error(settings("oci-layout:")),
            "--registry oci-layout: needs a directory: oci-layout:DIR");
}

TEST_F(RegistryFactory, ARegistryProfileIsForEcrOnly) {
  for (const std::string url : {"https://ghcr.io", "oci-layout:/srv/layouts", "ftp://x"}) {
    SCOPED_TRACE(url);
    auto s = settings(url);
    s.profile = "deploy";
    EXPECT_EQ(usage_error(s),
              "--registry-profile 'deploy' applies only to ECR registries, not '" + url + "'");
  }
  auto ecr = settings("ecr");
  ecr.profile = "deploy";
  EXPECT_EQ(usage_error(ecr).find("applies only to ECR"), std::string::npos);
}

TEST(DefaultRegistryUrl, TheManifestsRegistryThenEcrThenNone) {
  EXPECT_EQ(default_registry_url(std::string("https://ghcr.io"), true), "https://ghcr.io");
  EXPECT_EQ(default_registry_url(std::string("oci-layout:x"), false), "oci-layout:x");
  EXPECT_EQ(default_registry_url(std::nullopt, true), "ecr");
  EXPECT_EQ(default_registry_url(std::nullopt, false), std::nullopt);
}

}  // namespace
}  // namespace imagegate::registry
