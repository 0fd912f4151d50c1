#include "support/local_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace imagegate::testing {

SelfSignedCert::SelfSignedCert() {
  std::string pattern = (std::filesystem::temp_directory_path() / "imagegate-cert-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  cert_file_ = dir_ + "/cert.pem";
  key_file_ = dir_ + "/key.pem";
  // An EC key keeps generation fast; the SANs let the client verify the host name.
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      " -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
      " -keyout '" +
      key_file_ + "' -out '" + cert_file_ + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("openssl could not create a test certificate");
  }
}

SelfSignedCert::~SelfSignedCert() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

LocalServer::LocalServer() : server_(std::make_unique<httplib::Server>()), scheme_("http") {
  configure();
}

LocalServer::LocalServer(const SelfSignedCert& cert)
    : server_(
          std::make_unique<httplib::SSLServer>(cert.cert_file().c_str(), cert.key_file().c_str())),
      scheme_("https") {
  if (!server_->is_valid()) throw std::runtime_error("TLS server could not load its certificate");
  configure();
}

void LocalServer::configure() {
  // Tests count connections: do not let the server close them after its default 5 requests.
  server_->set_keep_alive_max_count(100000);
  // Short, so a client that keeps an idle connection cannot hold up stop() for long.
  server_->set_keep_alive_timeout(2);
  // Without it, headers and body in separate writes meet the client's delayed ACK: +40 ms each.
  server_->set_tcp_nodelay(true);
  server_->new_task_queue = [] { return new httplib::ThreadPool(16); };
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("cannot bind a port on 127.0.0.1");
}

LocalServer::~LocalServer() {
  stop();
}

void LocalServer::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works on a running server, so wait until the accept loop has begun.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running()) {
    if (std::chrono::steady_clock::now() > give_up) {
      throw std::runtime_error("local server did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void LocalServer::stop() {
  if (!started_) return;
  started_ = false;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string LocalServer::url(std::string_view path) const {
  return scheme_ + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

int LocalServer::closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace imagegate::testing
