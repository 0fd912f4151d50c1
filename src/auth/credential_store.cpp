#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/auth.hpp"

namespace imagegate::auth {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

CredentialStoreOptions credential_store_options_from_environment() {
  CredentialStoreOptions options;
  options.docker_config_dir = env_or_empty("DOCKER_CONFIG");
  options.home = env_or_empty("HOME");
  options.helper_path = env_or_empty("PATH");
  return options;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string compact;
  for (const char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') compact.push_back(c);
  }
  // Padding only at the end, at most two '=' (docker writes padded base64; tolerate it missing).
  std::size_t data = compact.size();
  while (data > 0 && compact[data - 1] == '=' && compact.size() - data < 2) --data;
  const auto is_alphabet = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  for (std::size_t i = 0; i < data; ++i) {
    if (!is_alphabet(compact[i])) return std::nullopt;
  }
  const std::size_t padding = compact.size() - data;
  if (data % 4 == 1 || (padding > 0 && (data % 4 == 0 || data % 4 + padding > 4))) {
    return std::nullopt;
  }
  compact.resize(data);
  if (compact.empty()) return std::string();
  const std::size_t size = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
  // EVP_DecodeBlock wants padded input and counts the padding as zero bytes.
  while (compact.size() % 4 != 0) compact.push_back('=');
  std::string out(3 * compact.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (n < 0 || static_cast<std::size_t>(n) < size) return std::nullopt;
  out.resize(size);
  return out;
}

std::string basic_authorization(const Credential& credential) {
  return "Basic " + base64_encode(credential.username + ":" + credential.password);
}

std::string normalize_registry_key(std::string_view key) {
  std::string_view k = key;
  if (k.starts_with("https://")) {
    k.remove_prefix(8);
  } else if (k.starts_with("http://")) {
    k.remove_prefix(7);
  }
  k = k.substr(0, k.find('/'));
  std::string host(k);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  // Docker Hub's API host is registry-1.docker.io while docker stores its credentials under
  // https://index.docker.io/v1/.
  if (host == "docker.io" || host == "registry-1.docker.io") return "index.docker.io";
  return host;
}

CredentialStore::CredentialStore(CredentialStoreOptions options) : options_(std::move(options)) {}

std::filesystem::path CredentialStore::config_file() const {
  if (!options_.config_file.empty()) return options_.config_file;
  if (!options_.docker_config_dir.empty()) {
    return std::filesystem::path(options_.docker_config_dir) / "config.json";
  }
  if (!options_.home.empty()) return std::filesystem::path(options_.home) / ".docker/config.json";
  return {};
}

Result<DockerConfig> parse_docker_config(std::string_view text, std::string_view where) {
  DockerConfig config;
  // No parser message: it quotes the bytes near the error, which may be a secret.
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("AUTH_FAILED", fmt::format("docker config {}: not a JSON object", where));
  }
  if (const auto auths = doc.find("auths"); auths != doc.end()) {
    if (!auths->is_object()) {
      return fail("AUTH_FAILED",
                  fmt::format("docker config {}: \"auths\" is not an object", where));
    }
    for (const auto& [key, entry] : auths->items()) {
      if (!entry.is_object()) {
        return fail("AUTH_FAILED",
                    fmt::format("docker config {}: auths[\"{}\"] is not an object", where, key));
      }
      Credential credential;
      credential.username = string_field(entry, "username");
      credential.password = string_field(entry, "password");
      credential.identity_token = string_field(entry, "identitytoken");
      if (const std::string encoded = string_field(entry, "auth"); !encoded.empty()) {
        const auto decoded = base64_decode(encoded);
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (!decoded || colon == std::string::npos) {
          return fail("AUTH_FAILED",
                      fmt::format("docker config {}: auths[\"{}\"].auth is not base64 of "
                                  "username:password",
                                  where, key));
        }
        credential.username = decoded->substr(0, colon);
        credential.password = decoded->substr(colon + 1);
      }
      // Entries docker writes as {} when a credential store holds the secret are no credential.
      if (credential.username.empty() && credential.password.empty() &&
          credential.identity_token.empty()) {
        continue;
      }
      config.inline_credentials.emplace(normalize_registry_key(key), std::move(credential));
    }
  }
  if (const auto helpers = doc.find("credHelpers"); helpers != doc.end()) {
    if (!helpers->is_object()) {
      return fail("AUTH_FAILED",
                  fmt::format("docker config {}: \"credHelpers\" is not an object", where));
    }
    for (const auto& [key, name] : helpers->items()) {
      if (!name.is_string() || name.get<std::string>().empty()) {
        return fail(
            "AUTH_FAILED",
            fmt::format("docker config {}: credHelpers[\"{}\"] is not a helper name", where, key));
      }
      config.helpers.emplace(normalize_registry_key(key), name.get<std::string>());
    }
  }
  if (const auto store = doc.find("credsStore"); store != doc.end()) {
    if (!store->is_string()) {
      return fail("AUTH_FAILED",
                  fmt::format("docker config {}: \"credsStore\" is not a string", where));
    }
    config.default_store = store->get<std::string>();
  }
  return config;
}

Result<void> CredentialStore::load() {
  const auto path = config_file();
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return {};
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("AUTH_FAILED", fmt::format("docker config {}: cannot be read", where));
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_docker_config(text.str(), where);
  if (!config) return std::unexpected(config.error());
  inline_ = std::move(config->inline_credentials);
  helpers_ = std::move(config->helpers);
  default_store_ = std::move(config->default_store);
  return {};
}

Result<std::optional<Credential>> CredentialStore::find(std::string_view host) {
  if (!loaded_) {
    loaded_ = true;
    if (auto loaded = load(); !loaded) load_error_ = loaded.error();
  }
  if (load_error_) return std::unexpected(*load_error_);
  const std::string key = normalize_registry_key(host);
  if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
  auto found = lookup(key);
  if (found) cache_.emplace(key, *found);
  return found;
}

Result<std::optional<Credential>> CredentialStore::lookup(const std::string& host) {
  if (const auto it = helpers_.find(host); it != helpers_.end()) {
    return run_credential_helper(it->second, host, options_);
  }
  if (const auto it = inline_.find(host); it != inline_.end()) return it->second;
  if (!default_store_.empty()) return run_credential_helper(default_store_, host, options_);
  return std::optional<Credential>();
}

}  // namespace imagegate::auth
