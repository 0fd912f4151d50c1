// The fake AWS (tests/fakes/aws) in-process on 127.0.0.1 for unit tests: construct it with a state
// document (tests/fakes/README.md), point clients at url(), steer and inspect it through the same
// control API the fake_aws executable serves.
#pragma once

#include <httplib.h>

#include <map>
#include <stdexcept>
#include <string>

#include "fakes/aws/server.hpp"
#include "support/local_server.hpp"

namespace imagegate::testing {

class InProcessFakeAws {
 public:
  explicit InProcessFakeAws(const fake_aws::Json& state, bool verbose = false)
      : fake_(fake_aws::parse_state(state), verbose) {
    fake_.install(server_.server());
    server_.start();
  }

  int port() const { return server_.port(); }
  std::string url() const { return server_.url(); }

  // POSTs body to a control path such as "/_fake/faults"; throws unless the fake answers 200.
  fake_aws::Json control(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", port());
    auto res = client.Post(path.c_str(), body, "application/json");
    if (!res || res->status != 200) {
      throw std::runtime_error("fake AWS control " + path +
                               " failed: " + (res ? res->body : std::string("no answer")));
    }
    return fake_aws::Json::parse(res->body);
  }

  // Requests per AWS operation so far.
  std::map<std::string, int> counters() {
    httplib::Client client("127.0.0.1", port());
    auto res = client.Get("/_fake/counters");
    if (!res || res->status != 200) throw std::runtime_error("fake AWS counters: no answer");
    return fake_aws::Json::parse(res->body).get<std::map<std::string, int>>();
  }

 private:
  fake_aws::FakeAws fake_;  // declared first: the server, destroyed first, stops using it
  LocalServer server_;
};

}  // namespace imagegate::testing
