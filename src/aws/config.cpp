#include "aws/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace imagegate::aws {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string expand_home(const std::string& path, const Environment& env) {
  if (!path.starts_with("~/") && path != "~") return path;
  return env.get_or("HOME", "") + path.substr(1);
}

// Missing file: nullopt. Unreadable file: UsageError (silently ignoring it could pick other
// credentials than the ones the user configured).
std::optional<std::string> read_optional_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!std::filesystem::is_regular_file(path, ec) || !in) {
    throw UsageError(fmt::format("cannot read the AWS {} {}", what, path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw UsageError(fmt::format("cannot read the AWS {} {}", what, path));
  return out.str();
}

// Accepts scheme://host[:port][/path]; the host must not be empty.
bool is_http_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  return !rest.empty() && rest.front() != '/' && rest.front() != ':' &&
         rest.find_first_of(" \t\r\n") == std::string_view::npos;
}

std::string strip_trailing_slash(std::string url) {
  while (url.ends_with('/')) url.pop_back();
  return url;
}

}  // namespace

Environment Environment::system() {
  return Environment([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

Environment Environment::from_map(std::map<std::string, std::string> variables) {
  return Environment([vars = std::move(variables)](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

std::optional<std::string> Environment::get(const std::string& name) const {
  auto value = lookup_(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string Environment::get_or(const std::string& name, std::string_view fallback) const {
  auto value = get(name);
  return value ? *value : std::string(fallback);
}

bool Environment::get_bool(const std::string& name, bool fallback) const {
  auto value = get(name);
  if (!value) return fallback;
  std::string lower = to_lower(trim(*value));
  if (lower == "true") return true;
  if (lower == "false") return false;
  throw UsageError(fmt::format("{} must be true or false, got '{}'", name, *value));
}

std::optional<std::string> SharedConfig::value(const std::string& key) const {
  for (const auto* section : {&credentials_section, &config_section}) {
    if (!*section) continue;
    auto it = (*section)->find(key);
    if (it != (*section)->end() && !it->second.empty()) return it->second;
  }
  return std::nullopt;
}

namespace {

// Walks the INI text; header_matches(name) says whether a section "[name]" is the one wanted.
template <typename Matches>
std::optional<Profile> parse_ini_section(std::string_view text, Matches header_matches) {
  std::optional<Profile> found;
  bool in_section = false;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) continue;  // sub-setting
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      std::string_view name = trim(
          line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      in_section = header_matches(name);
      if (in_section && !found) found.emplace();
      continue;
    }
    if (!in_section) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    (*found)[to_lower(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  return found;
}

}  // namespace

std::optional<Profile> parse_section(std::string_view text, std::string_view header) {
  // "[sso-session  name]" and "[sso-session name]" are the same section, as in botocore.
  const auto space = header.find(' ');
  return parse_ini_section(text, [&](std::string_view name) {
    if (space == std::string_view::npos) return name == header;
    const std::string_view kind = header.substr(0, space);
    if (!name.starts_with(kind)) return false;
    const std::string_view rest = name.substr(kind.size());
    return !rest.empty() && (rest.front() == ' ' || rest.front() == '\t') &&
           trim(rest) == trim(header.substr(space));
  });
}

std::optional<Profile> parse_profile(std::string_view text, std::string_view profile_name,
                                     bool config_style) {
  std::optional<Profile> found;
  bool in_section = false;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) continue;  // sub-setting
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      std::string_view name = trim(
          line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      if (config_style && name != "default") {
        if (!name.starts_with("profile ") && !name.starts_with("profile\t")) {
          in_section = false;
          continue;
        }
        name = trim(name.substr(8));
      }
      in_section = name == profile_name;
      if (in_section && !found) found.emplace();
      continue;
    }
    if (!in_section) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = to_lower(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    (*found)[key] = std::string(value);
  }
  return found;
}

std::optional<std::string> SharedConfig::credentials_value(const std::string& key) const {
  if (!credentials_section) return std::nullopt;
  auto it = credentials_section->find(key);
  if (it == credentials_section->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::optional<std::string> SharedConfig::config_value(const std::string& key) const {
  if (!config_section) return std::nullopt;
  auto it = config_section->find(key);
  if (it == config_section->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

SharedConfig SharedConfig::with_profile(const std::string& name) const {
  SharedConfig other = *this;
  other.profile_name = name;
  other.profile_from_env = true;
  other.credentials_section = parse_profile(credentials_text, name, false);
  other.config_section = parse_profile(config_text, name, true);
  return other;
}

std::optional<Profile> SharedConfig::sso_session(const std::string& name) const {
  return parse_section(config_text, "sso-session " + name);
}

SharedConfig load_shared_config(const Environment& env,
                                const std::optional<std::string>& profile_override) {
  SharedConfig shared;
  shared.credentials_file =
      expand_home(env.get_or("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), env);
  shared.config_file = expand_home(env.get_or("AWS_CONFIG_FILE", "~/.aws/config"), env);
  auto profile =
      profile_override && !profile_override->empty() ? profile_override : env.get("AWS_PROFILE");
  shared.profile_from_env = profile.has_value();
  shared.profile_name = profile.value_or("default");
  if (profile_override && !profile_override->empty()) {
    shared.profile_origin = "--registry-profile";
    shared.profile_explicit = true;
  }
  if (auto text = read_optional_file(shared.credentials_file, "shared credentials file")) {
    shared.credentials_text = std::move(*text);
    shared.credentials_section = parse_profile(shared.credentials_text, shared.profile_name, false);
  }
  if (auto text = read_optional_file(shared.config_file, "config file")) {
    shared.config_text = std::move(*text);
    shared.config_section = parse_profile(shared.config_text, shared.profile_name, true);
  }
  return shared;
}

std::string resolve_region(const std::optional<std::string>& flag, const Environment& env,
                           const SharedConfig& shared) {
  if (flag && !flag->empty()) return *flag;
  if (auto region = env.get("AWS_REGION")) return *region;
  if (auto region = env.get("AWS_DEFAULT_REGION")) return *region;
  if (auto region = shared.value("region")) return *region;
  throw UsageError(fmt::format(
      "no AWS region: set --region, AWS_REGION or AWS_DEFAULT_REGION, or region in profile {} "
      "of {} (looked at --region, AWS_REGION, AWS_DEFAULT_REGION, {}, {})",
      shared.profile_name, shared.config_file, shared.credentials_file, shared.config_file));
}

std::string resolve_endpoint(std::string_view service, const std::string& region,
                             const std::optional<std::string>& flag, const Environment& env) {
  auto checked = [](const std::string& url, const std::string& source) {
    if (!is_http_url(url)) {
      throw UsageError(fmt::format("{} must be an http:// or https:// URL, got '{}'", source, url));
    }
    return strip_trailing_slash(url);
  };
  if (flag && !flag->empty()) return checked(*flag, "--endpoint-url");
  if (!env.get_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", false)) {
    const std::string service_var = "AWS_ENDPOINT_URL_" + to_upper(service);
    if (auto url = env.get(service_var)) return checked(*url, service_var);
    if (auto url = env.get("AWS_ENDPOINT_URL")) return checked(*url, "AWS_ENDPOINT_URL");
  }
  const std::string suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  if (service == "ecr") return fmt::format("https://api.ecr.{}.{}", region, suffix);
  if (service == "sso") return fmt::format("https://portal.sso.{}.{}", region, suffix);
  return fmt::format("https://{}.{}.{}", service, region, suffix);
}

int resolve_max_attempts(const Environment& env) {
  auto value = env.get("AWS_MAX_ATTEMPTS");
  if (!value) return 3;
  int attempts = 0;
  std::size_t used = 0;
  try {
    attempts = std::stoi(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value->size() || attempts < 1 || attempts > 20) {
    throw UsageError(
        fmt::format("AWS_MAX_ATTEMPTS must be a whole number from 1 to 20, got '{}'", *value));
  }
  return attempts;
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return text;
}

}  // namespace imagegate::aws
