// Bearer token server for docker-registry's `auth: token` mode, so the e2e tests exercise the real
// registry's challenge/token flow on loopback. It issues RS256 JWTs whose header carries the
// signing certificate (x5c), which the registry checks against its rootcertbundle.
//
//   token_server --port 0 --user U --password P --key key.pem --cert cert.pem
//                --issuer ISS [--service SVC] [--allow pull,push] [--anonymous]
//                [--refresh-token T]...
//
// The first line on stdout is the port it listens on (127.0.0.1). GET /token answers
// {"token","access_token","expires_in","issued_at"}; wrong credentials get 401. GET /_fake/counters
// reports how many tokens were issued per scope, so tests can prove a client reuses its tokens.
// POST /token with grant_type=refresh_token and one of the --refresh-token values (docker's
// identity token) is the OAuth2 form of the same request. GET /_fake/issued lists every token
// issued, so a test can prove none of them reached an output.
#include <httplib.h>
// GCC 12 at -O2 reports a false -Wnull-dereference inside CLI11's argument splitting (a vector
// reallocation in CLI::detail::split); -Werror would turn it into a build failure.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

struct Options {
  int port = 0;
  std::string user;
  std::string password;
  std::string key_path;
  std::string cert_path;
  std::string issuer = "imagegate-e2e-token-issuer";
  std::string service;  // empty: any service is accepted
  std::string allow = "pull,push";
  bool anonymous = false;  // requests without credentials get pull-only tokens
  int expires_in = 300;
  std::vector<std::string> refresh_tokens;  // accepted by POST /token grant_type=refresh_token
};

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64(const std::string& s) {
  return base64(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// JWS uses the URL-safe alphabet without padding (RFC 7515 section 2).
std::string base64url(const std::string& s) {
  std::string out = base64(s);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

class Signer {
 public:
  Signer(const std::string& key_path, const std::string& cert_path) {
    std::unique_ptr<FILE, decltype(&std::fclose)> kf(std::fopen(key_path.c_str(), "r"),
                                                     &std::fclose);
    if (!kf) throw std::runtime_error("cannot open --key " + key_path);
    key_.reset(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr));
    if (!key_) throw std::runtime_error("--key " + key_path + " is not a PEM private key");
    std::unique_ptr<FILE, decltype(&std::fclose)> cf(std::fopen(cert_path.c_str(), "r"),
                                                     &std::fclose);
    if (!cf) throw std::runtime_error("cannot open --cert " + cert_path);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_X509(cf.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) throw std::runtime_error("--cert " + cert_path + " is not a PEM certificate");
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert.get(), &der);
    if (len <= 0) throw std::runtime_error("cannot encode --cert as DER");
    cert_der_b64_ = base64(der, static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }

  std::string sign_jwt(const json& claims) const {
    const json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", json::array({cert_der_b64_})}};
    const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t sig_len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
      throw std::runtime_error("RS256 signing failed");
    }
    std::string sig(sig_len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
      throw std::runtime_error("RS256 signing failed");
    }
    sig.resize(sig_len);
    return signing_input + "." + base64url(sig);
  }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::string cert_der_b64_;
};

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string rfc3339(long long epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class TokenService {
 public:
  TokenService(Options opts, const Signer& signer) : opts_(std::move(opts)), signer_(signer) {
    for (auto& action : split(opts_.allow, ',')) allowed_.insert(action);
  }

  void handle_token(const httplib::Request& req, httplib::Response& res) {
    const std::string expected = "Basic " + base64(opts_.user + ":" + opts_.password);
    bool has_auth = req.has_header("Authorization");
    bool authenticated = has_auth && req.get_header_value("Authorization") == expected;
    if (req.method == "POST") {  // OAuth2: the refresh token is the credential
      has_auth = req.has_param("refresh_token");
      const std::string given = req.get_param_value("refresh_token");
      authenticated = req.get_param_value("grant_type") == "refresh_token" && !given.empty() &&
                      std::find(opts_.refresh_tokens.begin(), opts_.refresh_tokens.end(), given) !=
                          opts_.refresh_tokens.end();
      if (authenticated) {
        std::lock_guard lock(mu_);
        ++refresh_grants_;
      }
    }
    if (!authenticated && (has_auth || !opts_.anonymous)) {
      std::lock_guard lock(mu_);
      ++denied_;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"imagegate-e2e-token\"");
      res.set_content(R"({"details":"invalid credentials"})", "application/json");
      return;
    }
    const std::string service = req.get_param_value("service");
    if (!opts_.service.empty() && service != opts_.service) {
      res.status = 400;
      res.set_content(R"({"details":"unknown service"})", "application/json");
      return;
    }

    json access = json::array();
    std::vector<std::string> scopes;
    for (std::size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
      // A client may put several scopes in one parameter, separated by spaces.
      std::stringstream in(req.get_param_value("scope", i));
      std::string scope;
      while (in >> scope) {
        scopes.push_back(scope);
        // type:name:actions, where the name itself may contain ':' (a registry host with port).
        const auto first = scope.find(':');
        const auto last = scope.rfind(':');
        if (first == std::string::npos || first == last) continue;
        json granted = json::array();
        for (const auto& action : split(scope.substr(last + 1), ',')) {
          const bool ok = authenticated ? allowed_.contains(action) : action == "pull";
          if (ok) granted.push_back(action);
        }
        access.push_back({{"type", scope.substr(0, first)},
                          {"name", scope.substr(first + 1, last - first - 1)},
                          {"actions", granted}});
      }
    }

    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const json claims = {{"iss", opts_.issuer},   {"sub", authenticated ? opts_.user : ""},
                         {"aud", service},        {"exp", now + opts_.expires_in},
                         {"nbf", now - 5},        {"iat", now},
                         {"jti", random_hex(16)}, {"access", access}};
    const std::string token = signer_.sign_jwt(claims);
    {
      std::lock_guard lock(mu_);
      ++issued_;
      tokens_.push_back(token);
      if (scopes.empty()) scopes.emplace_back("(none)");
      for (const auto& s : scopes) ++by_scope_[s];
    }
    const json body = {{"token", token},
                       {"access_token", token},
                       {"expires_in", opts_.expires_in},
                       {"issued_at", rfc3339(now)}};
    res.set_content(body.dump(), "application/json");
  }

  json counters() {
    std::lock_guard lock(mu_);
    return {{"tokens_issued", issued_},
            {"denied", denied_},
            {"refresh_grants", refresh_grants_},
            {"by_scope", by_scope_}};
  }

  json issued() {
    std::lock_guard lock(mu_);
    return tokens_;
  }

  void reset() {
    std::lock_guard lock(mu_);
    issued_ = 0;
    denied_ = 0;
    refresh_grants_ = 0;
    tokens_.clear();
    by_scope_.clear();
  }

 private:
  Options opts_;
  const Signer& signer_;
  std::set<std::string> allowed_;
  std::mutex mu_;
  long issued_ = 0;
  long denied_ = 0;
  long refresh_grants_ = 0;
  std::vector<std::string> tokens_;
  std::map<std::string, long> by_scope_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{"Bearer token server for docker-registry token auth (tests only)"};
  app.add_option("--port", opts.port, "port on 127.0.0.1; 0 picks a free one");
  app.add_option("--user", opts.user, "accepted Basic user")->required();
  app.add_option("--password", opts.password, "accepted Basic password")->required();
  app.add_option("--key", opts.key_path, "PEM RSA private key that signs tokens")->required();
  app.add_option("--cert", opts.cert_path, "PEM certificate of --key (sent as x5c)")->required();
  app.add_option("--issuer", opts.issuer, "iss claim");
  app.add_option("--service", opts.service, "only this service (aud) is accepted");
  app.add_option("--allow", opts.allow, "actions granted to the user, comma separated");
  app.add_flag("--anonymous", opts.anonymous, "grant pull to requests without credentials");
  app.add_option("--expires-in", opts.expires_in, "token lifetime in seconds");
  app.add_option("--refresh-token", opts.refresh_tokens,
                 "a refresh (identity) token POST /token accepts; repeatable");
  CLI11_PARSE(app, argc, argv);

  try {
    const Signer signer(opts.key_path, opts.cert_path);
    TokenService service(opts, signer);
    httplib::Server server;
    server.Get("/token", [&](const httplib::Request& req, httplib::Response& res) {
      service.handle_token(req, res);
    });
    server.Post("/token", [&](const httplib::Request& req, httplib::Response& res) {
      // The form's fields are the parameters (httplib parses only some bodies itself).
      httplib::Request form = req;
      if (form.params.empty()) httplib::detail::parse_query_text(req.body, form.params);
      service.handle_token(form, res);
    });
    server.Get("/_fake/issued", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.issued().dump(), "application/json");
    });
    server.Get("/_fake/counters", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.counters().dump(), "application/json");
    });
    server.Post("/_fake/reset", [&](const httplib::Request&, httplib::Response& res) {
      service.reset();
      res.set_content("{}", "application/json");
    });
    const int port = opts.port == 0
                         ? server.bind_to_any_port("127.0.0.1")
                         : (server.bind_to_port("127.0.0.1", opts.port) ? opts.port : -1);
    if (port <= 0) {
      std::cerr << "token_server: cannot listen on 127.0.0.1:" << opts.port << "\n";
      return 1;
    }
    std::cout << port << std::endl;
    return server.listen_after_bind() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "token_server: " << e.what() << "\n";
    return 2;
  }
}
