#include "evidence/timing.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace imagegate::evidence {
namespace {

using nlohmann::json;

// Milliseconds with microsecond resolution: enough to compare, short in the document.
double rounded_ms(double ms) {
  return static_cast<double>(static_cast<long long>(ms * 1000 + 0.5)) / 1000;
}

std::size_t count_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return 0;
  return j[key].get<std::size_t>();
}

std::map<std::string, std::size_t> counts_of(const json& j) {
  std::map<std::string, std::size_t> out;
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items()) {
    if (value.is_number_unsigned()) out[key] = value.get<std::size_t>();
  }
  return out;
}

// The order phases are listed in (json objects keep their keys sorted instead).
constexpr std::string_view kPhaseOrder[] = {"manifest", "registry", "provenance", "evidence"};

std::size_t phase_rank(std::string_view name) {
  return static_cast<std::size_t>(std::find(std::begin(kPhaseOrder), std::end(kPhaseOrder), name) -
                                  std::begin(kPhaseOrder));
}

std::string format_ms(double ms) {
  if (ms >= 10000) return fmt::format("{:.1f} s", ms / 1000);
  if (ms >= 10) return fmt::format("{:.0f} ms", ms);
  return fmt::format("{:.1f} ms", ms);
}

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

void PhaseClock::lap(Timing& timing, std::string name, std::size_t requests_so_far) {
  const auto now = Clock::now();
  PhaseTiming phase;
  phase.name = std::move(name);
  phase.ms = std::chrono::duration<double, std::milli>(now - last_).count();
  phase.requests = requests_so_far - std::min(requests_so_far, requests_);
  // A phase that runs in parts (the evidence is built, then completed after provenance) adds up.
  auto same = std::find_if(timing.phases.begin(), timing.phases.end(),
                           [&](const PhaseTiming& p) { return p.name == phase.name; });
  if (same != timing.phases.end()) {
    same->ms += phase.ms;
    same->requests += phase.requests;
  } else {
    timing.phases.push_back(std::move(phase));
  }
  timing.total_ms = std::chrono::duration<double, std::milli>(now - start_).count();
  last_ = now;
  requests_ = requests_so_far;
}

json timing_to_json(const Timing& t) {
  json phases = json::object();
  for (const auto& p : t.phases) {
    phases[p.name] = {{"ms", rounded_ms(p.ms)}, {"requests", p.requests}};
  }
  return json{{"totalMs", rounded_ms(t.total_ms)},
              {"phases", phases},
              {"requests",
               {{"total", t.http.requests},
                {"attempts", t.http.attempts},
                {"retries", t.http.retries},
                {"throttled", t.http.throttled},
                {"byKind", t.http.by_kind}}},
              {"connections", t.http.connections},
              {"protocols", t.http.by_protocol}};
}

Timing timing_from_json(const json& d) {
  Timing t;
  if (!d.is_object()) return t;
  if (d.contains("totalMs") && d["totalMs"].is_number()) t.total_ms = d["totalMs"].get<double>();
  if (d.contains("phases") && d["phases"].is_object()) {
    for (std::string_view name : kPhaseOrder) {
      if (!d["phases"].contains(name)) continue;
      const auto& p = d["phases"][std::string(name)];
      PhaseTiming phase{std::string(name), 0, count_of(p, "requests")};
      if (p.is_object() && p.contains("ms") && p["ms"].is_number()) phase.ms = p["ms"];
      t.phases.push_back(std::move(phase));
    }
  }
  if (d.contains("requests")) {
    const auto& r = d["requests"];
    t.http.requests = count_of(r, "total");
    t.http.attempts = count_of(r, "attempts");
    t.http.retries = count_of(r, "retries");
    t.http.throttled = count_of(r, "throttled");
    if (r.is_object() && r.contains("byKind")) t.http.by_kind = counts_of(r["byKind"]);
  }
  t.http.connections = count_of(d, "connections");
  if (d.contains("protocols")) t.http.by_protocol = counts_of(d["protocols"]);
  return t;
}

std::optional<Timing> timing_of(const std::optional<nlohmann::json>& document) {
  if (!document || !document->is_object() || !document->contains("timing")) return std::nullopt;
  return timing_from_json((*document)["timing"]);
}

std::string timing_summary(const Timing& t) {
  std::string out = format_ms(t.total_ms) + ":";
  std::vector<PhaseTiming> phases = t.phases;
  std::stable_sort(phases.begin(), phases.end(), [](const auto& a, const auto& b) {
    return phase_rank(a.name) < phase_rank(b.name);
  });
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const auto& p = phases[i];
    out += fmt::format("{} {} {}", i == 0 ? "" : ",", p.name, format_ms(p.ms));
    if (p.requests > 0) out += " (" + plural(p.requests, "request") + ")";
  }
  out += "; " + plural(t.http.requests, "request");
  if (!t.http.by_kind.empty()) {
    std::vector<std::pair<std::string, std::size_t>> kinds(t.http.by_kind.begin(),
                                                           t.http.by_kind.end());
    // Most frequent first: that is what the gate spends its round trips on.
    std::stable_sort(kinds.begin(), kinds.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string listed;
    for (const auto& [kind, n] : kinds) {
      listed += fmt::format("{}{} {}", listed.empty() ? "" : ", ", kind, n);
    }
    out += " (" + listed + ")";
  }
  out += ", " + plural(t.http.connections, "connection");
  for (const auto& [protocol, n] : t.http.by_protocol) out += fmt::format(", {} {}", protocol, n);
  out += fmt::format(", {} {}, {} throttled", t.http.retries,
                     t.http.retries == 1 ? "retry" : "retries", t.http.throttled);
  return out;
}

}  // namespace imagegate::evidence
