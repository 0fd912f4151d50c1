// Fault-injecting reverse proxy for the e2e tests: sits in front of a real server (the registry,
// the token server) and answers the next requests from a script, so tests can show how imagegate
// behaves on 5xx, throttling, redirects and slow answers without a fake registry.
//
//   fault_proxy --port 0 --upstream http://127.0.0.1:PORT [--script plan.json]
//   fault_proxy --port 0 --record-only
//
// The first line on stdout is the chosen port. A plan is a JSON list of actions applied in order
// to the next requests, then requests pass through again; or {"always": ACTION} for every request.
//   {"pass": true}                      forward unchanged
//   {"status": 503, "body": "...", "headers": {...}, "retry_after": "1"}
//   {"redirect": "http://127.0.0.1:P", "redirect_status": 302}   Location: that base + same target
//   {"delay_ms": 1500}                  wait, then forward (or apply "status"/"redirect" too)
//   {"truncate": true}                  forward, but cut the body off halfway and close
// Control: POST /_fault/plan (replaces the plan), GET /_fault/log, POST /_fault/reset.
// --record-only has no upstream: "pass" answers 200 "ok". The log records method, path, whether
// an Authorization header came, and the answer; never a header value, since those are secrets.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Hop-by-hop headers and the ones httplib computes itself are not copied between the two legs;
// REMOTE_ADDR and friends are pseudo-headers httplib adds to every server request.
bool is_managed_header(const std::string& name) {
  static const std::set<std::string> kNames = {
      "connection",      "keep-alive",  "transfer-encoding", "content-length",
      "accept-encoding", "te",          "upgrade",           "proxy-connection",
      "remote_addr",     "remote_port", "local_addr",        "local_port"};
  return kNames.contains(lower(name));
}

// Rejects a malformed plan when it is set, so a typo in a test fails loudly instead of turning
// into an unexpected 500 in the middle of the run.
void check_action(const json& action) {
  if (!action.is_object()) throw std::invalid_argument("each action must be a JSON object");
  static const std::set<std::string> kKeys = {"pass",     "status",      "body",
                                              "headers",  "redirect",    "redirect_status",
                                              "delay_ms", "retry_after", "truncate"};
  for (const auto& [key, value] : action.items()) {
    if (!kKeys.contains(key)) throw std::invalid_argument("unknown action key '" + key + "'");
  }
  const auto expect = [&](const char* key, bool ok, const char* type) {
    if (action.contains(key) && !ok) {
      throw std::invalid_argument(std::string("action key '") + key + "' must be " + type);
    }
  };
  expect("status", action.value("status", json(200)).is_number_integer(), "an integer");
  expect("redirect_status", action.value("redirect_status", json(302)).is_number_integer(),
         "an integer");
  expect("delay_ms", action.value("delay_ms", json(0)).is_number_unsigned(),
         "a non-negative integer");
  expect("redirect", action.value("redirect", json("")).is_string(), "a string");
  expect("retry_after", action.value("retry_after", json("")).is_string(), "a string");
  expect("body", action.value("body", json("")).is_string(), "a string");
  expect("truncate", action.value("truncate", json(false)).is_boolean(), "a boolean");
  expect("headers", action.value("headers", json::object()).is_object(), "an object");
  const json headers = action.value("headers", json::object());  // items() must not outlive it
  for (const auto& [name, value] : headers.items()) {
    if (!value.is_string()) throw std::invalid_argument("header '" + name + "' must be a string");
  }
}

class FaultPlan {
 public:
  // Accepts a list (one action per request, in order) or {"always": action}.
  void set(const json& plan) {
    // Checked completely before anything changes: a rejected plan leaves the current one active.
    std::deque<json> queue;
    std::optional<json> always;
    if (plan.is_array()) {
      for (const auto& action : plan) {
        check_action(action);
        queue.push_back(action);
      }
    } else if (plan.is_object() && plan.size() == 1 && plan.contains("always")) {
      check_action(plan.at("always"));
      always = plan.at("always");
    } else {
      throw std::invalid_argument("plan must be a JSON list of actions or {\"always\": action}");
    }
    std::lock_guard lock(mu_);
    queue_ = std::move(queue);
    always_ = std::move(always);
  }

  json next() {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) {
      json action = queue_.front();
      queue_.pop_front();
      return action;
    }
    return always_.value_or(json{{"pass", true}});
  }

  void log(json entry) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(entry));
  }

  json log_snapshot() {
    std::lock_guard lock(mu_);
    return log_;
  }

  void reset() {
    std::lock_guard lock(mu_);
    queue_.clear();
    always_.reset();
    log_ = json::array();
  }

 private:
  std::mutex mu_;
  std::deque<json> queue_;
  std::optional<json> always_;
  json log_ = json::array();
};

struct Options {
  int port = 0;
  std::string upstream;
  std::string script;
  bool record_only = false;
};

class FaultProxy {
 public:
  explicit FaultProxy(Options opts) : opts_(std::move(opts)) {}

  FaultPlan& plan() { return plan_; }

  void handle(const httplib::Request& req, httplib::Response& res) {
    const json action = plan_.next();
    if (action.contains("delay_ms")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(action.at("delay_ms").get<int>()));
    }
    std::string what;
    if (action.contains("redirect")) {
      res.status = action.value("redirect_status", 302);
      res.set_header("Location", action.at("redirect").get<std::string>() + req.target);
      what = "redirect";
    } else if (action.contains("status")) {
      res.status = action.at("status").get<int>();
      if (action.contains("retry_after")) {
        res.set_header("Retry-After", action.at("retry_after").get<std::string>());
      }
      std::string content_type = "application/json";
      const json headers = action.value("headers", json::object());  // items() must not outlive it
      for (const auto& [name, value] : headers.items()) {
        if (lower(name) == "content-type") {
          content_type = value.get<std::string>();
        } else {
          res.set_header(name, value.get<std::string>());
        }
      }
      res.set_content(action.value("body", std::string{}), content_type);
      what = "status";
    } else if (opts_.record_only) {
      res.status = 200;
      res.set_content("ok", "text/plain");
      what = "record";
    } else {
      forward(req, res);
      what = "pass";
      if (action.value("truncate", false) && req.method != "HEAD") {
        truncate(res);
        what = "truncate";
      }
    }
    plan_.log({{"method", req.method},
               {"path", req.path},
               {"authorization", req.has_header("Authorization")},
               {"action", what},
               {"status", res.status}});
  }

 private:
  // Announces the full Content-Length but sends only the first half of the body, then closes the
  // connection: the client sees a response cut off in the middle.
  static void truncate(httplib::Response& res) {
    auto body = std::make_shared<std::string>(std::move(res.body));
    res.body.clear();
    std::string content_type = res.get_header_value("Content-Type");
    res.headers.erase("Content-Type");
    const std::size_t length = body->size();
    res.set_content_provider(length, content_type,
                             [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               if (offset == 0 && body->size() > 1) {
                                 sink.write(body->data(), body->size() / 2);
                               }
                               return offset == 0 && body->size() > 1;
                             });
  }

  void forward(const httplib::Request& req, httplib::Response& res) {
    httplib::Client client(opts_.upstream);
    client.set_decompress(false);
    client.set_url_encode(false);  // req.target is already the client's encoded target
    client.set_connection_timeout(5);
    client.set_read_timeout(60);
    httplib::Request out;
    out.method = req.method;
    out.path = req.target;
    out.body = req.body;
    // Host passes unchanged so upstream-made URLs (upload Location) point back at the proxy.
    for (const auto& [name, value] : req.headers) {
      if (!is_managed_header(name)) out.headers.emplace(name, value);
    }
    auto result = client.send(out);
    if (!result) {
      res.status = 502;
      res.set_content("fault_proxy: upstream " + httplib::to_string(result.error()), "text/plain");
      return;
    }
    res.status = result->status;
    std::string content_type;
    for (const auto& [name, value] : result->headers) {
      if (is_managed_header(name)) continue;
      if (lower(name) == "content-type") {
        content_type = value;
        continue;
      }
      res.headers.emplace(name, value);
    }
    if (req.method == "HEAD") {
      // A HEAD answer has no body but must keep upstream's Content-Length; httplib sends the
      // declared length of a content provider without calling it for HEAD.
      const auto length = result->get_header_value<std::uint64_t>("Content-Length");
      if (length > 0) {
        res.set_content_provider(
            length, content_type,
            [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
        return;
      }
    }
    res.body = result->body;
    if (!content_type.empty()) res.set_header("Content-Type", content_type);
  }

  Options opts_;
  FaultPlan plan_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{"Fault-injecting reverse proxy (tests only)"};
  app.add_option("--port", opts.port, "port on 127.0.0.1; 0 picks a free one");
  auto* upstream =
      app.add_option("--upstream", opts.upstream, "http://127.0.0.1:PORT to forward to");
  auto* record = app.add_flag("--record-only", opts.record_only, "no upstream: answer 200, log");
  upstream->excludes(record);
  app.add_option("--script", opts.script, "initial plan (JSON file)");
  CLI11_PARSE(app, argc, argv);
  if (opts.upstream.empty() && !opts.record_only) {
    std::cerr << "fault_proxy: --upstream URL or --record-only is required\n";
    return 2;
  }

  FaultProxy proxy(opts);
  try {
    if (!opts.script.empty()) {
      std::ifstream in(opts.script);
      if (!in) throw std::invalid_argument("cannot read --script " + opts.script);
      proxy.plan().set(json::parse(in));
    }
  } catch (const std::exception& e) {
    std::cerr << "fault_proxy: " << e.what() << "\n";
    return 2;
  }

  httplib::Server server;
  server.Post("/_fault/plan", [&](const httplib::Request& req, httplib::Response& res) {
    try {
      proxy.plan().set(json::parse(req.body));
      res.set_content("{}", "application/json");
    } catch (const std::exception& e) {
      res.status = 400;
      res.set_content(json{{"error", e.what()}}.dump(), "application/json");
    }
  });
  server.Get("/_fault/log", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(proxy.plan().log_snapshot().dump(), "application/json");
  });
  server.Post("/_fault/reset", [&](const httplib::Request&, httplib::Response& res) {
    proxy.plan().reset();
    res.set_content("{}", "application/json");
  });
  const auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    proxy.handle(req, res);
  };
  server.Get(".*", handler);  // GET and HEAD
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  server.Options(".*", handler);

  const int port = opts.port == 0 ? server.bind_to_any_port("127.0.0.1")
                                  : (server.bind_to_port("127.0.0.1", opts.port) ? opts.port : -1);
  if (port <= 0) {
    std::cerr << "fault_proxy: cannot listen on 127.0.0.1:" << opts.port << "\n";
    return 1;
  }
  std::cout << port << std::endl;
  return server.listen_after_bind() ? 0 : 1;
}
