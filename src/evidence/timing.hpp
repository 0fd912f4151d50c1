// The evidence's `timing` object (written next to evidence::to_json's fields by gate): where a
// gate's wall time went (per phase) and what it asked of the network (requests by kind, retries,
// throttles, connections, protocols), so teams can watch their gates over time. Informational: pin
// and verify never judge by it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/stats.hpp"

namespace imagegate::evidence {

struct PhaseTiming {
  std::string name;  // "manifest" | "registry" | "provenance" | "evidence"
  double ms = 0;
  std::size_t requests = 0;  // HTTP requests finished during the phase
};

struct Timing {
  double total_ms = 0;              // from the start of the command to the evidence
  std::vector<PhaseTiming> phases;  // in the order they ran
  http::ClientStats http;           // the whole gate's HTTP requests
};

// Measures phases one after the other: each lap() closes the phase that ran since the last one.
class PhaseClock {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PhaseClock(Clock::time_point start = Clock::now()) : start_(start), last_(start) {}
  // Closes the phase `name` (added to an earlier lap of the same name); requests_so_far is the
  // client's running total of finished requests.
  void lap(Timing& timing, std::string name, std::size_t requests_so_far);

 private:
  Clock::time_point start_;
  Clock::time_point last_;
  std::size_t requests_ = 0;
};

nlohmann::json timing_to_json(const Timing& timing);
// Lenient: timing is informational, so a missing or odd field reads as zero.
Timing timing_from_json(const nlohmann::json& document);

// The timing of a gate's JSON document (ReportInput::document), when it has one.
std::optional<Timing> timing_of(const std::optional<nlohmann::json>& document);

// One line for the reports, e.g. "812 ms: manifest 3 ms, registry 790 ms (601 requests), ...;
// 601 requests (HEAD manifest 600, GET ping 1), 1 connection, HTTP/2 601, 0 retries, 0 throttled".
std::string timing_summary(const Timing& timing);

}  // namespace imagegate::evidence
