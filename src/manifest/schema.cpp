// JSON Schema validation with valijson against the schema compiled into the binary. valijson
// reports a violation at every level of the path (the array, the item, the field); only the
// deepest ones are kept, so each problem is reported once, at its JSON pointer.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <system_error>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "manifest/manifest.hpp"
#include "manifest/schema_patterns.hpp"
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
    pointer += "/" + json_pointer_token(token);
  }
  return pointer;
}

const nlohmann::json& schema_document();

// The schema valijson checks: the embedded one without the patterns matched by hand
// (schema_patterns.hpp), and the schema nodes whose pattern check_hand_matched checks instead.
struct CompiledSchema {
  valijson::Schema schema;
  std::vector<const nlohmann::json*> hand_checked;
};

const CompiledSchema& manifest_schema() {
  static const std::unique_ptr<CompiledSchema> compiled = [] {
    auto c = std::make_unique<CompiledSchema>();
    std::vector<std::string> removed;
    const nlohmann::json for_valijson = without_hand_matched_patterns(schema_document(), &removed);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(for_valijson);
    parser.populateSchema(adapter, c->schema);
    for (const auto& at : removed) {
      c->hand_checked.push_back(&schema_document().at(nlohmann::json::json_pointer(at)));
    }
    return c;
  }();
  return *compiled;
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

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The known key `key` is a near miss of: same letters in another case, or a few edits away
// relative to its length (none for keys of 1 to 3 characters, 1 up to 7, 2 from 8 on).
std::string near_miss(const std::string& key, const nlohmann::json& properties) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& [known, unused] : properties.items()) {
    if (lower(known) == lower(key)) return known;
    const std::size_t allowed = known.size() >= 8 ? 2 : known.size() >= 4 ? 1 : 0;
    const std::size_t d = edit_distance(lower(key), lower(known));
    if (d <= allowed && d < best_distance) best = known, best_distance = d;
  }
  return best;
}

const nlohmann::json* resolve_ref(const nlohmann::json* node) {
  const auto& root = schema_document();
  while (node != nullptr && node->is_object() && node->contains("$ref")) {
    const auto ref = (*node)["$ref"].get<std::string>();
    if (!ref.starts_with("#")) return node;
    node = &root.at(nlohmann::json::json_pointer(ref.substr(1)));
  }
  return node;
}

// Walks the document beside the schema, following $ref, object items, properties and
// additionalProperties: on_value(value, schema, pointer) sees every value with the schema that
// describes it; on_unknown(key, pointer, properties) every member of an object whose schema has
// "properties" that neither names it nor takes it as additionalProperties. The known keys at each
// level are the schema's "properties" there, so a field the schema gains is known without a
// second list.
template <typename OnValue, typename OnUnknown>
void walk_beside_schema(const nlohmann::json& value, const nlohmann::json* schema,
                        const std::string& pointer, const OnValue& on_value,
                        const OnUnknown& on_unknown) {
  schema = resolve_ref(schema);
  if (schema == nullptr || !schema->is_object()) return;
  on_value(value, *schema, pointer);
  if (value.is_array()) {
    if (const auto items = schema->find("items"); items != schema->end()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        walk_beside_schema(value[i], &*items, fmt::format("{}/{}", pointer, i), on_value,
                           on_unknown);
      }
    }
    return;
  }
  if (!value.is_object()) return;
  const auto properties = schema->find("properties");
  const auto additional = schema->find("additionalProperties");
  for (const auto& [key, child] : value.items()) {
    const std::string at = pointer + "/" + json_pointer_token(key);
    if (properties != schema->end() && properties->contains(key)) {
      walk_beside_schema(child, &(*properties)[key], at, on_value, on_unknown);
    } else if (additional != schema->end() && additional->is_object()) {
      walk_beside_schema(child, &*additional, at, on_value, on_unknown);
    } else if (properties != schema->end()) {
      on_unknown(key, at, *properties);
    }
  }
}

void report_unknown_key(const Manifest& manifest, const std::string& key, const std::string& at,
                        const nlohmann::json& properties, bool strict,
                        findings::Findings& findings) {
  const std::string shown = util::quote(key);
  const std::string image = image_id_at(manifest, at);
  if (const auto guess = near_miss(key, properties); !guess.empty()) {
    findings.error("UNKNOWN_FIELD", image, at,
                   fmt::format("key {} is not a known field; did you mean {}? (a misspelt key "
                               "would silently switch its check off)",
                               shown, util::quote(guess)));
  } else if (strict) {
    findings.error("UNKNOWN_FIELD", image, at,
                   fmt::format("key {} is not a known field (--strict)", shown));
  } else {
    findings.warning(
        "UNKNOWN_FIELD", image, at,
        fmt::format("key {} is not a known field; it is ignored (--strict makes it an error)",
                    shown));
  }
}

struct Violation {
  std::string pointer;
  std::string description;
};

// The patterns valijson was not given (`checked`: their schema nodes), with valijson's own words.
void check_hand_matched(const nlohmann::json& value, const nlohmann::json& schema,
                        const std::string& pointer,
                        const std::vector<const nlohmann::json*>& checked,
                        std::vector<Violation>& violations) {
  if (!value.is_string()) return;
  const auto pattern = schema.find("pattern");
  if (pattern == schema.end() || !pattern->is_string() ||
      std::find(checked.begin(), checked.end(), &schema) == checked.end()) {
    return;
  }
  const auto matcher = hand_matcher(pattern->get_ref<const std::string&>());
  if (matcher != nullptr && !matcher(value.get_ref<const std::string&>())) {
    violations.push_back({pointer, "Failed to match regex specified by 'pattern' constraint."});
  }
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions, adjacent transpositions.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

void check_keys(const Manifest& manifest, bool strict, findings::Findings& findings) {
  for (const auto& dup : manifest.duplicate_keys) {
    findings.error(
        "DUPLICATE_KEY", image_id_at(manifest, dup.pointer), dup.pointer,
        fmt::format("key {} appears twice in one object, at line {}, column {} and "
                    "line {}, column {}; parsers disagree on which one counts, so "
                    "keep one",
                    util::quote(dup.key), dup.first_line, dup.first_column, dup.line, dup.column));
  }
  walk_beside_schema(
      manifest.document, &schema_document(), "",
      [](const nlohmann::json&, const nlohmann::json&, const std::string&) {},
      [&](const std::string& key, const std::string& at, const nlohmann::json& properties) {
        report_unknown_key(manifest, key, at, properties, strict, findings);
      });
}

std::jthread compile_schema_in_background() {
  try {
    return std::jthread([] {
      try {
        (void)manifest_schema();
      } catch (...) {  // NOLINT(bugprone-empty-catch): check_schema compiles again and reports it
      }
    });
  } catch (const std::system_error&) {
    // No thread to be had (a process limit): an empty one, and check_schema compiles the schema.
    return {};
  }
}

void check_schema(const Manifest& manifest, findings::Findings& findings) {
  const auto& compiled = manifest_schema();
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(manifest.document);
  std::vector<Violation> violations;
  if (!validator.validate(compiled.schema, target, &results)) {
    for (const auto& error : results) {
      violations.push_back({json_pointer(error.context), error.description});
    }
  }
  walk_beside_schema(
      manifest.document, &schema_document(), "",
      [&](const nlohmann::json& value, const nlohmann::json& schema, const std::string& pointer) {
        check_hand_matched(value, schema, pointer, compiled.hand_checked, violations);
      },
      [](const std::string&, const std::string&, const nlohmann::json&) {});
  if (violations.empty()) return;
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

findings::Findings validate(const Manifest& manifest, const std::filesystem::path& root,
                            const CheckOptions& options) {
  findings::Findings findings;
  check_keys(manifest, options.strict, findings);
  check_schema(manifest, findings);
  check_semantics(manifest, root, findings, options.check_files);
  return findings;
}

}  // namespace imagegate::manifest
