// In-process HTTP(S) servers for tests: a cpp-httplib server bound to a random port on 127.0.0.1,
// served from its own thread and stopped and joined on destruction, plus the TLS material
// (a throwaway self-signed certificate) such servers need.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace imagegate::testing {

// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI in a fresh
// temporary directory that is removed on destruction. Throws when openssl fails.
class SelfSignedCert {
 public:
  SelfSignedCert();
  ~SelfSignedCert();
  SelfSignedCert(const SelfSignedCert&) = delete;
  SelfSignedCert& operator=(const SelfSignedCert&) = delete;

  const std::string& cert_file() const { return cert_file_; }  // PEM; also the CA to trust
  const std::string& key_file() const { return key_file_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string cert_file_;
  std::string key_file_;
};

// Usage: construct (binds, so port() is known), register handlers on server(), then start().
// Destroy HTTP clients first: an idle keep-alive connection delays the server's shutdown.
class LocalServer {
 public:
  LocalServer();                                     // plain HTTP
  explicit LocalServer(const SelfSignedCert& cert);  // HTTPS
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  httplib::Server& server() { return *server_; }
  // Starts serving and returns once the server accepts connections.
  void start();
  void stop();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (https for a TLS server).
  std::string url(std::string_view path = "") const;

  // A port on 127.0.0.1 that was bound and closed again: connecting to it is refused.
  static int closed_port();

 private:
  void configure();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string scheme_;
  int port_ = -1;
  bool started_ = false;
};

}  // namespace imagegate::testing
