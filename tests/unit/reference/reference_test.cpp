#include "reference/reference.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace imagegate::reference {
namespace {

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDigest512 = "sha512:" + std::string(128, 'a');

ImageReference parsed(std::string_view text) {
  auto ref = parse_reference(text);
  EXPECT_TRUE(ref) << text << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : ImageReference{};
}

std::string error_of(std::string_view text) {
  auto ref = parse_reference(text);
  if (ref) return "(parsed as " + ref->to_string() + ")";
  EXPECT_EQ(ref.error().code, "REFERENCE_INVALID");
  return ref.error().message;
}

TEST(ParseReference, AllForms) {
  EXPECT_EQ(parsed("nginx"), (ImageReference{"", "nginx", "", ""}));
  EXPECT_EQ(parsed("afu9/control-center:prod-latest"),
            (ImageReference{"", "afu9/control-center", "prod-latest", ""}));
  EXPECT_EQ(parsed("afu9/x@" + kDigest), (ImageReference{"", "afu9/x", "", kDigest}));
  EXPECT_EQ(parsed("afu9/x:v1@" + kDigest), (ImageReference{"", "afu9/x", "v1", kDigest}));
  EXPECT_EQ(parsed("registry.example.com:5000/team/app:1.2.3"),
            (ImageReference{"registry.example.com:5000", "team/app", "1.2.3", ""}));
  EXPECT_EQ(
      parsed("123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/x:tag"),
      (ImageReference{"123456789012.dkr.ecr.eu-central-1.amazonaws.com", "afu9/x", "tag", ""}));
  EXPECT_EQ(parsed("localhost:5000/x"), (ImageReference{"localhost:5000", "x", "", ""}));
  EXPECT_EQ(parsed("localhost/x:1"), (ImageReference{"localhost", "x", "1", ""}));
  EXPECT_EQ(parsed("127.0.0.1:5000/afu9/x@" + kDigest512),
            (ImageReference{"127.0.0.1:5000", "afu9/x", "", kDigest512}));
  EXPECT_EQ(parsed("[::1]:5000/x:t"), (ImageReference{"[::1]:5000", "x", "t", ""}));
  EXPECT_EQ(parsed("Registry.Example.COM/x"),
            (ImageReference{"Registry.Example.COM", "x", "", ""}));
  // Separators of the grammar: '.', '_', '__' and runs of '-'.
  EXPECT_EQ(parsed("x/a.b_c__d---e/f").repository, "x/a.b_c__d---e/f");
  // A first component with a '.' is a registry, as docker reads it.
  EXPECT_EQ(parsed("a.b/c").registry, "a.b");
  // Without a registry-looking first component, "localhost:5000" is repository + tag.
  EXPECT_EQ(parsed("localhost:5000"), (ImageReference{"", "localhost", "5000", ""}));
  EXPECT_EQ(parsed("x:" + std::string(128, 'v')).tag.size(), 128u);
}

TEST(ParseReference, RoundTripsAsWritten) {
  for (const std::string& text : std::vector<std::string>{
           "nginx", "docker.io/library/nginx:1", "localhost:5000/a/b:c@" + kDigest,
           "123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/x@" + kDigest}) {
    EXPECT_EQ(parsed(text).to_string(), text);
  }
  EXPECT_EQ(parsed("localhost:5000/a/b:c").name(), "localhost:5000/a/b");
}

TEST(ParseReference, BadInputsSayWhatIsWrong) {
  EXPECT_EQ(error_of(""), "image reference is empty");
  EXPECT_EQ(error_of("afu9/Control-Center:v1"),
            "image reference 'afu9/Control-Center:v1' is invalid: repository "
            "'afu9/Control-Center' must be lower-case");
  EXPECT_EQ(error_of("UPPER"),
            "image reference 'UPPER' is invalid: repository 'UPPER' must be lower-case");
  EXPECT_EQ(error_of("afu9/x:v1 "),
            "image reference 'afu9/x:v1 ' is invalid: it contains whitespace or a control "
            "character");
  EXPECT_EQ(error_of("afu9/x\n::error::y"),
            "image reference 'afu9/x\\n::error::y' is invalid: it contains whitespace or a "
            "control character");
  EXPECT_EQ(error_of("a::b"),
            "image reference 'a::b' is invalid: repository path component 'a:' is not "
            "[a-z0-9]+ joined by '.', '_', '__' or '-'");
  EXPECT_EQ(error_of("host:5000/x::t"),
            "image reference 'host:5000/x::t' is invalid: repository path component 'x:' is not "
            "[a-z0-9]+ joined by '.', '_', '__' or '-'");
  EXPECT_EQ(error_of("x:"), "image reference 'x:' is invalid: the tag after ':' is empty");
  EXPECT_EQ(error_of("x:-bad"),
            "image reference 'x:-bad' is invalid: tag '-bad' is not "
            "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  EXPECT_EQ(error_of("x:" + std::string(129, 'v')),
            "image reference 'x:" + std::string(129, 'v') + "' is invalid: tag '" +
                std::string(129, 'v') + "' is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  EXPECT_EQ(error_of("x@"), "image reference 'x@' is invalid: the digest after '@' is empty");
  EXPECT_EQ(error_of("x@sha256:abc"),
            "image reference 'x@sha256:abc' is invalid: digest 'sha256:abc' is not "
            "sha256:<64 lower-case hex> or sha512:<128 lower-case hex>");
  EXPECT_NE(error_of("x@md5:" + std::string(32, 'a')).find("digest 'md5:"), std::string::npos);
  EXPECT_NE(error_of("x@sha256:" + std::string(64, 'A')).find("is not sha256:<64"),
            std::string::npos);
  EXPECT_NE(error_of("x@sha256:" + std::string(63, 'a')).find("is not sha256:<64"),
            std::string::npos);
  EXPECT_EQ(
      error_of("x@" + kDigest + "@" + kDigest),
      "image reference 'x@" + kDigest + "@" + kDigest + "' is invalid: it has more than one '@'");
  EXPECT_EQ(error_of("@" + kDigest),
            "image reference '@" + kDigest + "' is invalid: the repository name is empty");
  EXPECT_EQ(error_of(":tag"), "image reference ':tag' is invalid: the repository name is empty");
  EXPECT_EQ(error_of("a//b"),
            "image reference 'a//b' is invalid: repository 'a//b' has an empty path component");
  EXPECT_EQ(error_of("localhost:5000/"),
            "image reference 'localhost:5000/' is invalid: the repository name is empty");
  EXPECT_EQ(error_of("a/b/"),
            "image reference 'a/b/' is invalid: repository 'a/b/' has an empty path component");
  EXPECT_EQ(error_of("-a/b"),
            "image reference '-a/b' is invalid: repository path component '-a' is not "
            "[a-z0-9]+ joined by '.', '_', '__' or '-'");
  EXPECT_EQ(error_of("a/b_"),
            "image reference 'a/b_' is invalid: repository path component 'b_' is not "
            "[a-z0-9]+ joined by '.', '_', '__' or '-'");
  EXPECT_NE(error_of("a/b___c").find("repository path component 'b___c' is not"),
            std::string::npos);
  EXPECT_EQ(error_of("host:99999/x"),
            "image reference 'host:99999/x' is invalid: registry 'host:99999' is not host[:port]");
  EXPECT_EQ(error_of("host:/x"),
            "image reference 'host:/x' is invalid: registry 'host:' is not host[:port]");
  EXPECT_EQ(error_of("-host.com/x"),
            "image reference '-host.com/x' is invalid: registry '-host.com' is not host[:port]");
  EXPECT_EQ(error_of("[zz]:5000/x"),
            "image reference '[zz]:5000/x' is invalid: registry '[zz]:5000' is not host[:port]");
  EXPECT_EQ(error_of(std::string(250, 'a') + "/bcdef"),
            "image reference '" + std::string(250, 'a') +
                "/bcdef' is invalid: the name is longer than 255 characters");
}

TEST(Digest, Validation) {
  EXPECT_TRUE(is_valid_digest(kDigest));
  EXPECT_TRUE(is_valid_digest(kDigest512));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(128, 'a')));
  EXPECT_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(is_valid_digest("SHA256:" + std::string(64, 'a')));
  EXPECT_FALSE(is_valid_digest(""));
}

TEST(SameRepository, ComparesRegistryAndRepositoryOnly) {
  EXPECT_TRUE(same_repository(parsed("afu9/x:v1"), parsed("afu9/x@" + kDigest)));
  EXPECT_TRUE(same_repository(parsed("nginx"), parsed("docker.io/library/nginx:1")));
  EXPECT_TRUE(same_repository(parsed("index.docker.io/library/nginx"), parsed("nginx")));
  EXPECT_TRUE(same_repository(parsed("registry-1.docker.io/afu9/x"), parsed("afu9/x")));
  EXPECT_TRUE(same_repository(parsed("Localhost:5000/x"), parsed("localhost:5000/x:t")));
  EXPECT_FALSE(same_repository(parsed("localhost:5000/x"), parsed("localhost:5001/x")));
  EXPECT_FALSE(same_repository(parsed("localhost:5000/x"), parsed("x")));
  EXPECT_FALSE(same_repository(parsed("afu9/x"), parsed("afu9/y")));
  EXPECT_FALSE(same_repository(parsed("docker.io/nginx"), parsed("ghcr.io/nginx")));
  EXPECT_FALSE(same_repository(parsed("ghcr.io/nginx"), parsed("ghcr.io/library/nginx")));
  EXPECT_FALSE(same_repository(parsed("123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/x"),
                               parsed("123456789012.dkr.ecr.eu-west-1.amazonaws.com/afu9/x")));
}

}  // namespace
}  // namespace imagegate::reference
