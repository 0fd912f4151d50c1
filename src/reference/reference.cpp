#include "reference/reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "util/text.hpp"

namespace imagegate::reference {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_hex_lower(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool is_path_component(std::string_view s) {
  std::size_t i = 0;
  auto alnum_run = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), is_digit)) return false;
  const int port = std::stoi(std::string(s));
  return port >= 1 && port <= 65535;
}

// host [':' port], host := domain-name | IPv4 | '[' IPv6 ']'
bool is_registry(std::string_view s) {
  std::string_view host = s;
  std::string_view rest;
  if (s.starts_with('[')) {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    const auto inside = s.substr(1, close - 1);
    const bool ipv6 = std::all_of(inside.begin(), inside.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
    if (!ipv6 || inside.find(':') == std::string_view::npos) return false;
    rest = s.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && is_port(rest.substr(1));
  }
  const auto colon = s.find(':');
  if (colon != std::string_view::npos) {
    host = s.substr(0, colon);
    if (!is_port(s.substr(colon + 1))) return false;
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    if (!is_domain_component(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!(is_alnum(s.front()) || s.front() == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// The first path component names a registry when it looks like a host: it has a '.' or ':', is
// "localhost", or has upper-case letters (which repository names never have). This is the rule
// docker and containerd use, so "afu9/x" stays a Docker Hub repository.
bool looks_like_registry(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         std::any_of(first.begin(), first.end(),
                     [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_docker_hub(std::string_view registry) {
  const std::string r = lower(registry);
  return r.empty() || r == "docker.io" || r == "index.docker.io" || r == "registry-1.docker.io";
}

}  // namespace

std::string ImageReference::name() const {
  return registry.empty() ? repository : registry + "/" + repository;
}

std::string ImageReference::to_string() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

bool is_repository_path(std::string_view path) {
  while (true) {
    const auto slash = path.find('/');
    if (!is_path_component(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_valid_digest(std::string_view digest) {
  std::size_t hex_length = 0;
  if (digest.starts_with("sha256:")) {
    hex_length = 64;
  } else if (digest.starts_with("sha512:")) {
    hex_length = 128;
  } else {
    return false;
  }
  const auto hex = digest.substr(7);
  return hex.size() == hex_length && std::all_of(hex.begin(), hex.end(), is_hex_lower);
}

Result<ImageReference> parse_reference(std::string_view text) {
  auto invalid = [&](std::string what) {
    return fail("REFERENCE_INVALID",
                fmt::format("image reference {} is invalid: {}", util::quote(text), what));
  };
  if (text.empty()) return fail("REFERENCE_INVALID", "image reference is empty");
  if (std::any_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return invalid("it contains whitespace or a control character");
  }
  ImageReference ref;
  std::string_view name = text;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    name = text.substr(0, at);
    const auto digest = text.substr(at + 1);
    if (digest.find('@') != std::string_view::npos) return invalid("it has more than one '@'");
    if (digest.empty()) return invalid("the digest after '@' is empty");
    if (!is_valid_digest(digest)) {
      return invalid(
          fmt::format("digest {} is not sha256:<64 lower-case hex> or sha512:<128 lower-case hex>",
                      util::quote(digest)));
    }
    ref.digest = std::string(digest);
  }
  if (name.empty()) return invalid("the repository name is empty");
  const auto last_slash = name.rfind('/');
  const auto last_colon = name.rfind(':');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    const auto tag = name.substr(last_colon + 1);
    if (tag.empty()) return invalid("the tag after ':' is empty");
    if (!is_tag(tag)) {
      return invalid(
          fmt::format("tag {} is not [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}", util::quote(tag)));
    }
    ref.tag = std::string(tag);
    name = name.substr(0, last_colon);
  }
  if (name.empty()) return invalid("the repository name is empty");
  if (name.size() > kMaxNameLength) {
    return invalid(fmt::format("the name is longer than {} characters", kMaxNameLength));
  }
  std::string_view repository = name;
  if (const auto slash = name.find('/');
      slash != std::string_view::npos && looks_like_registry(name.substr(0, slash))) {
    const auto registry = name.substr(0, slash);
    if (!is_registry(registry)) {
      return invalid(fmt::format("registry {} is not host[:port]", util::quote(registry)));
    }
    ref.registry = std::string(registry);
    repository = name.substr(slash + 1);
  }
  if (repository.empty()) return invalid("the repository name is empty");
  if (std::any_of(repository.begin(), repository.end(),
                  [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; })) {
    return invalid(fmt::format("repository {} must be lower-case", util::quote(repository)));
  }
  std::size_t start = 0;
  while (true) {
    const auto slash = repository.find('/', start);
    const auto component = repository.substr(start, slash - start);
    if (component.empty()) {
      return invalid(
          fmt::format("repository {} has an empty path component", util::quote(repository)));
    }
    if (!is_path_component(component)) {
      return invalid(fmt::format(
          "repository path component {} is not [a-z0-9]+ joined by '.', '_', '__' or '-'",
          util::quote(component)));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  ref.repository = std::string(repository);
  return ref;
}

bool same_repository(const ImageReference& a, const ImageReference& b) {
  auto canonical = [](const ImageReference& r) {
    if (!is_docker_hub(r.registry)) return lower(r.registry) + "/" + r.repository;
    const bool official = r.repository.find('/') == std::string::npos;
    return "docker.io/" + (official ? "library/" + r.repository : r.repository);
  };
  return canonical(a) == canonical(b);
}

}  // namespace imagegate::reference
