// Registry authentication: credentials from the docker config.json (inline auths, credential
// helpers, the default credential store) and the Distribution token flow (Basic and Bearer
// challenges). Secrets read here never appear in an error message.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/http.hpp"
#include "util/error.hpp"

namespace imagegate::auth {

struct Credential {
  std::string username;
  std::string password;
  // OAuth2 refresh token (docker's "identitytoken", or a helper answering Username "<token>"):
  // exchanged at the Bearer realm with grant_type=refresh_token instead of Basic credentials.
  std::string identity_token;
};

struct CredentialStoreOptions {
  // The config.json to read. Empty: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
  std::filesystem::path config_file;
  std::string docker_config_dir;  // value of DOCKER_CONFIG ("" when unset)
  std::string home;               // value of HOME
  // Colon-separated directories searched for docker-credential-<name> (normally $PATH).
  std::string helper_path;
  std::chrono::milliseconds helper_timeout{30000};
};

// Options from the process environment (DOCKER_CONFIG, HOME, PATH).
CredentialStoreOptions credential_store_options_from_environment();

// Looks up credentials per registry host. Lookup order: credHelpers[host], then an inline
// auths[host] entry (auth, username/password or identitytoken), then credsStore. A missing
// config.json means no credentials; a broken one or a failing helper is AUTH_FAILED.
class CredentialStore {
 public:
  explicit CredentialStore(CredentialStoreOptions options);
  // host is "HOST[:PORT]"; nullopt when nothing is configured for it.
  Result<std::optional<Credential>> find(std::string_view host);
  // The config.json this store reads (for messages; it holds no secret itself).
  std::filesystem::path config_file() const;

 private:
  Result<void> load();
  Result<std::optional<Credential>> lookup(const std::string& host);

  CredentialStoreOptions options_;
  bool loaded_ = false;
  std::optional<Error> load_error_;
  std::map<std::string, Credential> inline_;    // normalized host -> credential
  std::map<std::string, std::string> helpers_;  // normalized host -> helper name
  std::string default_store_;                   // credsStore
  std::map<std::string, std::optional<Credential>> cache_;
};

// What a docker config.json says, as CredentialStore keeps it.
struct DockerConfig {
  std::map<std::string, Credential> inline_credentials;  // normalized host -> credential
  std::map<std::string, std::string> helpers;            // normalized host -> helper name
  std::string default_store;                             // credsStore
};

// Parses config.json's text (CredentialStore reads the file on first use); AUTH_FAILED naming
// `where` and the entry, never quoting the bytes (they may hold a secret).
Result<DockerConfig> parse_docker_config(std::string_view text, std::string_view where);

// Normalizes a config.json key the way docker does: "https://host/", "host/v1/", "http://host"
// all become "host" (port kept); docker.io names map to index.docker.io.
std::string normalize_registry_key(std::string_view key);

// Runs `docker-credential-<name> get` with host on stdin; nullopt when the helper says the
// credentials are not found. Errors name the helper, never its output.
Result<std::optional<Credential>> run_credential_helper(const std::string& name,
                                                        std::string_view host,
                                                        const CredentialStoreOptions& options);

// A helper's `get` answer: a JSON object with string Username and Secret (Username "<token>":
// Secret is an identity token). AUTH_FAILED naming the program and host, never the output.
Result<Credential> parse_credential_helper_output(std::string_view output, std::string_view program,
                                                  std::string_view host);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// "Basic base64(username:password)".
std::string basic_authorization(const Credential& credential);

enum class Scheme { kBasic, kBearer };

struct Challenge {
  Scheme scheme = Scheme::kBearer;
  std::string realm;    // Bearer: token endpoint URL
  std::string service;  // Bearer: optional
  std::string scope;    // Bearer: optional, e.g. "repository:afu9/x:pull"
};

// Parses the WWW-Authenticate values of a 401 (Basic or Bearer; the first one understood wins).
Result<Challenge> parse_challenge(const http::Response& response);

// Policy: a Bearer realm must be https, except when the registry itself is plain http on a
// loopback host and the realm is plain http on a loopback host too. Credentials and tokens are
// never sent over plain http to another machine.
Result<void> check_realm(std::string_view realm, std::string_view registry_scheme,
                         std::string_view registry_host);

struct UrlParts {
  std::string scheme;  // "http" or "https", lower-case
  std::string host;    // "HOST[:PORT]" as written (IPv6 in brackets), lower-cased
  std::string path;    // from the first '/' on, query included; may be empty
};

// Splits an absolute http(s) URL; BAD_RESPONSE-free: the caller picks the error code.
std::optional<UrlParts> split_url(std::string_view url);

// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string url_encode(std::string_view text);

// True for localhost, 127.0.0.0/8 and ::1 (host with or without port, IPv6 in brackets).
bool is_loopback_host(std::string_view host);

// The token request for one scope: GET realm?service=..&scope=.. (Basic when credentials are
// known), or the OAuth2 refresh-token POST when the credential carries an identity token.
http::Request token_request(const Challenge& challenge, std::string_view scope,
                            const std::optional<Credential>& credential);

// The token from a token endpoint answer ("token" or "access_token"); AUTH_FAILED /
// UNREACHABLE / BAD_RESPONSE otherwise, without the token or the body in the message.
Result<std::string> parse_token_response(const http::Response& response, std::string_view scope);

}  // namespace imagegate::auth
