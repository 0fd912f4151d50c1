// Loading is strict about the file (size, encoding, JSON syntax: exit 2) and lenient about the
// content: the model takes every field that has the right type, so one run can report schema
// violations and semantic findings together.
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

#include "manifest/manifest.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

namespace imagegate::manifest {
namespace {

using nlohmann::json;

std::string string_or_empty(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::vector<std::string> strings_of(const json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& item : value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// 1-based line and column of a byte offset.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line, column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// Fields of a "provenance" object over `base`; a field of the wrong type keeps the base's value
// (the schema reports it).
Provenance read_provenance(const json& value, Provenance base) {
  if (!value.is_object()) return base;
  base.declared = true;
  if (const auto r = value.find("revision"); r != value.end() && r->is_string()) {
    base.revision = r->get<std::string>();
  }
  if (const auto s = value.find("signatures"); s != value.end() && s->is_object()) {
    if (const auto k = s->find("keys"); k != s->end()) {
      base.keys = strings_of(*k);
      base.signatures_required = !base.keys.empty();
    }
    if (const auto q = s->find("required"); q != s->end() && q->is_boolean()) {
      base.signatures_required = q->get<bool>();
    }
  }
  if (const auto ids = value.find("identities"); ids != value.end() && ids->is_array()) {
    base.identities.clear();
    for (const auto& item : *ids) {
      if (!item.is_object()) continue;
      base.identities.push_back({string_or_empty(item, "issuer"), string_or_empty(item, "subject"),
                                 string_or_empty(item, "subjectRegExp")});
    }
  }
  if (const auto a = value.find("attestations"); a != value.end() && a->is_array()) {
    base.attestations.clear();
    for (const auto& item : *a) {
      if (!item.is_object()) continue;
      AttestationRule rule;
      rule.predicate_type = string_or_empty(item, "predicateType");
      if (const auto q = item.find("required"); q != item.end() && q->is_boolean()) {
        rule.required = q->get<bool>();
      }
      if (!rule.predicate_type.empty()) base.attestations.push_back(std::move(rule));
    }
  }
  return base;
}

void build_model(Manifest& m) {
  const json& doc = m.document;
  m.version = string_or_empty(doc, "version");
  if (const auto it = doc.find("platforms"); it != doc.end()) m.default_platforms = strings_of(*it);
  if (const auto it = doc.find("provenance"); it != doc.end()) {
    m.default_provenance = read_provenance(*it, {});
  }
  if (const auto it = doc.find("scan"); it != doc.end()) {
    m.scan.declared = true;
    m.scan.max_severity = string_or_empty(*it, "maxSeverity");
    m.scan.well_formed =
        it->is_object() && it->contains("maxSeverity") && (*it)["maxSeverity"].is_string();
  }
  if (const auto it = doc.find("registry"); it != doc.end() && it->is_string()) {
    m.registry = it->get<std::string>();
  }
  if (const auto it = doc.find("ecrRepositories"); it != doc.end() && it->is_array()) {
    m.ecr_repositories = strings_of(*it);
  }
  if (const auto it = doc.find("images"); it != doc.end() && it->is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& item = (*it)[i];
      if (!item.is_object()) continue;
      Image image;
      image.index = i;
      image.id = string_or_empty(item, "id");
      image.name = string_or_empty(item, "name");
      image.dockerfile = string_or_empty(item, "dockerfile");
      image.context = string_or_empty(item, "context");
      image.container = string_or_empty(item, "taskDefContainerName");
      if (const auto r = item.find("required"); r != item.end() && r->is_boolean()) {
        image.required = r->get<bool>();
      }
      const auto p = item.find("platforms");
      image.platforms = p != item.end() ? strings_of(*p) : m.default_platforms;
      if (const auto b = item.find("buildArgs"); b != item.end()) image.build_args = strings_of(*b);
      image.health_check = string_or_empty(item, "healthCheck");
      if (const auto c = item.find("conditionalOn"); c != item.end() && c->is_object()) {
        if (const auto e = c->find("environments"); e != c->end() && e->is_array()) {
          image.only_environments = strings_of(*e);
        }
        image.only_feature = string_or_empty(*c, "feature");
      }
      const auto prov = item.find("provenance");
      image.provenance =
          prov != item.end() ? read_provenance(*prov, m.default_provenance) : m.default_provenance;
      m.images.push_back(std::move(image));
    }
  }
  if (const auto t = doc.find("tagging"); t != doc.end() && t->is_object()) {
    m.tagging.strategy = string_or_empty(*t, "strategy");
    if (const auto p = t->find("prefixes"); p != t->end() && p->is_object()) {
      for (const auto& [env, prefix] : p->items()) {
        if (prefix.is_string()) m.tagging.prefixes.emplace_back(env, prefix.get<std::string>());
      }
    }
    if (const auto a = t->find("alwaysTag"); a != t->end()) m.tagging.templates = strings_of(*a);
  }
}

// A forward iterator over the text that counts how far the parser has read, so a key event
// knows where in the file it is (nlohmann reads one character at a time, no look-ahead past a
// string's closing quote).
class CountingIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* at, std::size_t* consumed) : at_(at), consumed_(consumed) {}
  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    ++at_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    auto copy = *this;
    ++*this;
    return copy;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  std::size_t* consumed_;
};

// Start of the string token that ends just before `end` (the byte after its closing quote).
std::size_t string_start(std::string_view text, std::size_t end) {
  if (end < 2) return 0;
  for (std::size_t i = end - 1; i-- > 0;) {
    if (text[i] != '"') continue;
    std::size_t backslashes = 0;
    while (i >= backslashes + 1 && text[i - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return i;
  }
  return 0;
}

// Parses the document and records every key that appears twice in one object.
json parse_recording_duplicates(std::string_view text, std::vector<DuplicateKey>& duplicates) {
  struct Frame {
    bool array = false;
    std::size_t index = 0;
    std::string key;
    std::map<std::string, std::size_t> keys;  // key -> offset of its first occurrence
  };
  std::vector<Frame> stack;
  std::size_t consumed = 0;
  auto element_done = [&] {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
  };
  const json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        stack.push_back({});
        break;
      case json::parse_event_t::array_start:
        stack.push_back({true, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
      case json::parse_event_t::key: {
        if (stack.empty() || !parsed.is_string()) break;
        Frame& top = stack.back();
        top.key = parsed.get<std::string>();
        const std::size_t at = string_start(text, consumed);
        const auto [it, inserted] = top.keys.emplace(top.key, at);
        if (inserted) break;
        std::string pointer;
        for (const auto& f : stack) {
          pointer += "/" + (f.array ? std::to_string(f.index) : json_pointer_token(f.key));
        }
        const auto [line, column] = line_column(text, at);
        const auto [first_line, first_column] = line_column(text, it->second);
        duplicates.push_back({pointer, top.key, line, column, first_line, first_column});
        break;
      }
    }
    return true;
  };
  const CountingIterator first(text.data(), &consumed);
  std::size_t unused = 0;
  const CountingIterator last(text.data() + text.size(), &unused);
  return json::parse(first, last, callback);
}

}  // namespace

std::string json_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

const std::string* Tagging::prefix_for(std::string_view env) const {
  for (const auto& [name, prefix] : prefixes) {
    if (name == env) return &prefix;
  }
  return nullptr;
}

const Image* Manifest::find_image(std::string_view id) const {
  for (const auto& image : images) {
    if (image.id == id) return &image;
  }
  return nullptr;
}

Result<Manifest> parse(std::string_view text, const std::filesystem::path& path) {
  const std::string shown = util::quote(path.string());
  if (text.size() > kMaxManifestBytes) {
    return fail("MANIFEST_TOO_LARGE",
                fmt::format("manifest {} is {} bytes; the limit is {} (1 MiB)", shown, text.size(),
                            kMaxManifestBytes));
  }
  if (!util::is_valid_utf8(text)) {
    return fail("MANIFEST_NOT_UTF8", fmt::format("manifest {} is not valid UTF-8", shown));
  }
  Manifest m;
  m.path = path;
  m.sha256 = util::sha256_hex(text);
  try {
    m.document = parse_recording_duplicates(text, m.duplicate_keys);
  } catch (const json::parse_error& e) {
    const auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line..";
    // keep only the description after the last ": ".
    const auto pos = what.rfind(": ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return fail("MANIFEST_INVALID_JSON",
                fmt::format("manifest {} is not valid JSON at line {}, column {}: {}", shown, line,
                            column, util::escape_display(what)));
  } catch (const json::out_of_range& e) {
    // A number past what a double holds (1e400): valid JSON text, but not a value we can keep.
    std::string what = e.what();
    const auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return fail("MANIFEST_INVALID_JSON", fmt::format("manifest {} is not valid JSON: {}", shown,
                                                     util::escape_display(what)));
  }
  build_model(m);
  return m;
}

Result<Manifest> load(const std::filesystem::path& path) {
  const std::string shown = util::quote(path.string());
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail("MANIFEST_NOT_FOUND",
                fmt::format("manifest {} does not exist (give one with -m/--manifest)", shown));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail("MANIFEST_UNREADABLE", fmt::format("manifest {} is not a regular file", shown));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxManifestBytes) {
    return fail("MANIFEST_TOO_LARGE",
                fmt::format("manifest {} is {} bytes; the limit is {} (1 MiB)", shown, size,
                            kMaxManifestBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail("MANIFEST_UNREADABLE", fmt::format("manifest {} cannot be read", shown));
  }
  // At most one byte past the limit, in case the file grew since the size check; the buffer
  // starts at the file's size (a whole MiB zeroed for every run was 1 M instructions a start).
  const auto text =
      util::read_at_most(in, ec ? 0 : static_cast<std::size_t>(size), kMaxManifestBytes + 1);
  if (!text) {
    return fail("MANIFEST_UNREADABLE", fmt::format("manifest {} cannot be read", shown));
  }
  return parse(*text, path);
}

}  // namespace imagegate::manifest
