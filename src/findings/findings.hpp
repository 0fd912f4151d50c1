// The one findings model: every check of every command records Findings here, and every
// renderer (text, JSON, JUnit, Markdown, annotations) reads them from here.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace imagegate::findings {

enum class Severity { kError, kWarning, kInfo };

std::string_view to_string(Severity severity);

struct Finding {
  Severity severity = Severity::kError;
  std::string code;      // stable, e.g. TAG_MISSING, DIGEST_MISMATCH, SCHEMA_VIOLATION
  std::string image_id;  // manifest image id, or empty when the finding is not about one image
  std::string subject;   // what it is about: a field pointer, a tag, a container, a path
  std::string message;   // what is wrong and what is expected
};

void to_json(nlohmann::json& j, const Finding& finding);

// Collects findings; commands report them all, then exit once.
class Findings {
 public:
  void add(Finding finding) { items_.push_back(std::move(finding)); }
  void error(std::string code, std::string image_id, std::string subject, std::string message);
  void warning(std::string code, std::string image_id, std::string subject, std::string message);
  void append(const Findings& other);

  const std::vector<Finding>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  bool has_errors() const;
  std::size_t count(Severity severity) const;
  // Findings about one image (image_id equal).
  std::vector<Finding> for_image(std::string_view image_id) const;

 private:
  std::vector<Finding> items_;
};

}  // namespace imagegate::findings
