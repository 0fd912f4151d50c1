// JSON Schema validation with valijson against the schema compiled into the binary. valijson
// reports a violation at every level of the path (the array, the item, the field); only the
// deepest ones are kept, so each problem is reported once, at its JSON pointer.
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "manifest/manifest.hpp"
#include "util/embedded.hpp"
#include "util/text.hpp"

namespace imagegate::manifest {
namespace {

// valijson context ["<root>", "[images]", "[0]", "[id]"] -> "/images/0/id" (RFC 6901 escaping).
std::string json_pointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    std::string escaped;
    for (char c : token) {
      if (c == '~') {
        escaped += "~0";
      } else if (c == '/') {
        escaped += "~1";
      } else {
        escaped += c;
      }
    }
    pointer += "/" + escaped;
  }
  return pointer;
}

const valijson::Schema& manifest_schema() {
  static const std::unique_ptr<valijson::Schema> schema = [] {
    auto s = std::make_unique<valijson::Schema>();
    const auto text = embedded::schemas().at("images-manifest.schema.json");
    const auto doc = nlohmann::json::parse(text);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *schema;
}

std::string image_id_at(const Manifest& manifest, const std::string& pointer) {
  // "/images/3/..." -> the id of image 3 when it has one.
  static constexpr std::string_view kPrefix = "/images/";
  if (!pointer.starts_with(kPrefix)) return {};
  const auto rest = pointer.substr(kPrefix.size());
  std::size_t index = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
  if (ec != std::errc{} || ptr == rest.data()) return {};
  for (const auto& image : manifest.images) {
    if (image.index == index) return image.id;
  }
  return {};
}

}  // namespace

void check_schema(const Manifest& manifest, report::Findings& findings) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(manifest.document);
  if (validator.validate(manifest_schema(), target, &results)) return;

  struct Violation {
    std::string pointer;
    std::string description;
  };
  std::vector<Violation> violations;
  for (const auto& error : results) {
    violations.push_back({json_pointer(error.context), error.description});
  }
  for (const auto& v : violations) {
    // Skip a violation when a deeper one exists below it (it only summarises that one).
    bool has_deeper = false;
    for (const auto& other : violations) {
      if (other.pointer.size() > v.pointer.size() && other.pointer.starts_with(v.pointer) &&
          (v.pointer.empty() || other.pointer[v.pointer.size()] == '/')) {
        has_deeper = true;
        break;
      }
    }
    if (has_deeper) continue;
    const std::string subject = v.pointer.empty() ? "/" : v.pointer;
    findings.error("SCHEMA_VIOLATION", image_id_at(manifest, v.pointer), subject,
                   util::escape_display(v.description));
  }
}

report::Findings validate(const Manifest& manifest, const std::filesystem::path& root) {
  report::Findings findings;
  check_schema(manifest, findings);
  check_semantics(manifest, root, findings);
  return findings;
}

}  // namespace imagegate::manifest
