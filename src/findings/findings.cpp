#include "findings/findings.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace imagegate::findings {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "error";
}

void to_json(nlohmann::json& j, const Finding& finding) {
  j = nlohmann::json{{"severity", to_string(finding.severity)},
                     {"code", finding.code},
                     {"image", finding.image_id},
                     {"subject", finding.subject},
                     {"message", finding.message}};
}

void Findings::error(std::string code, std::string image_id, std::string subject,
                     std::string message) {
  add({Severity::kError, std::move(code), std::move(image_id), std::move(subject),
       std::move(message)});
}

void Findings::warning(std::string code, std::string image_id, std::string subject,
                       std::string message) {
  add({Severity::kWarning, std::move(code), std::move(image_id), std::move(subject),
       std::move(message)});
}

void Findings::append(const Findings& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Findings::has_errors() const {
  return count(Severity::kError) > 0;
}

std::size_t Findings::count(Severity severity) const {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [&](const Finding& f) { return f.severity == severity; }));
}

std::vector<Finding> Findings::for_image(std::string_view image_id) const {
  std::vector<Finding> out;
  for (const auto& f : items_) {
    if (f.image_id == image_id) out.push_back(f);
  }
  return out;
}

}  // namespace imagegate::findings
