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

const nlohmann::json& schema_document();

const valijson::Schema& manifest_schema() {
  static const std::unique_ptr<valijson::Schema> schema = [] {
    auto s = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema_document());
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

// The subschema that describes the value at `pointer`, following properties, items and $ref.
const nlohmann::json* subschema_at(const nlohmann::json& root, const std::string& pointer) {
  const nlohmann::json* node = &root;
  auto resolve = [&](const nlohmann::json* n) {
    while (n != nullptr && n->is_object() && n->contains("$ref")) {
      const auto ref = (*n)["$ref"].get<std::string>();
      if (!ref.starts_with("#")) return n;
      n = &root.at(nlohmann::json::json_pointer(ref.substr(1)));
    }
    return n;
  };
  std::size_t pos = 1;
  while (node != nullptr && pos <= pointer.size() && !pointer.empty()) {
    const auto next = pointer.find('/', pos);
    const auto token =
        pointer.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    node = resolve(node);
    if (node->contains("properties") && (*node)["properties"].contains(token)) {
      node = &(*node)["properties"][token];
    } else if (node->contains("items")) {
      node = &(*node)["items"];
    } else if (node->contains("additionalProperties") &&
               (*node)["additionalProperties"].is_object()) {
      node = &(*node)["additionalProperties"];
    } else {
      return nullptr;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return resolve(node);
}

// "; expected string matching ^...$, found number 42" from the schema and the document.
std::string expected_and_found(const nlohmann::json& schema, const nlohmann::json& document,
                               const std::string& pointer, const std::string& description) {
  std::string out;
  // A missing property or an unknown one is already said precisely by the description.
  if (description.starts_with("Missing required property") ||
      description.find("additional") != std::string::npos) {
    return out;
  }
  if (const auto* sub = subschema_at(schema, pointer); sub != nullptr && sub->is_object()) {
    std::string expected;
    if (sub->contains("type")) expected = (*sub)["type"].dump();
    if (sub->contains("pattern")) expected += " matching " + (*sub)["pattern"].get<std::string>();
    if (sub->contains("minItems"))
      expected += fmt::format(" with at least {} item(s)", (*sub)["minItems"].get<int>());
    if (!expected.empty()) out += "; expected " + expected;
  }
  try {
    const auto& value = document.at(nlohmann::json::json_pointer(pointer));
    std::string shown = value.dump();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    out += fmt::format("; found {} {}", value.type_name(), shown);
  } catch (const nlohmann::json::exception&) {
  }
  return out;
}

std::string trim_period(std::string text) {
  if (text.ends_with('.')) text.pop_back();
  return text;
}

const nlohmann::json& schema_document() {
  static const nlohmann::json doc =
      nlohmann::json::parse(embedded::schemas().at("images-manifest.schema.json"));
  return doc;
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
    // Same leaf reported twice (e.g. through allOf) is one finding.
    bool seen = false;
    for (const auto& f : findings.items()) {
      seen = seen || (f.code == "SCHEMA_VIOLATION" && f.subject == subject &&
                      f.message.starts_with(util::escape_display(trim_period(v.description))));
    }
    if (seen) continue;
    findings.error("SCHEMA_VIOLATION", image_id_at(manifest, v.pointer), subject,
                   util::escape_display(trim_period(v.description) +
                                        expected_and_found(schema_document(), manifest.document,
                                                           v.pointer, v.description)));
  }
}

report::Findings validate(const Manifest& manifest, const std::filesystem::path& root) {
  report::Findings findings;
  check_schema(manifest, findings);
  check_semantics(manifest, root, findings);
  return findings;
}

}  // namespace imagegate::manifest
