// The manifest schema's "pattern" keywords, matched by hand instead of by std::regex.
//
// valijson compiles every pattern with std::regex once per process: for the seven patterns of the
// manifest schema that was 9.1 M of the 29.7 M instructions of a whole `validate` (libstdc++
// builds a 256-entry table per bracket expression through the locale). The patterns themselves
// stay in the schema (it is what users and editors read); the schema handed to valijson leaves
// out each one a matcher here knows, and the document is checked against those by hand, with the
// finding valijson would have given. A pattern without a matcher here stays with valijson, so a
// pattern added to the schema is never lost, only slower; so does one that a combinator (oneOf,
// anyOf, ...) could make optional. Each matcher equals ECMAScript's regex_search of its pattern:
// tests/unit/manifest/schema_patterns_test.cpp holds every one to std::regex over generated
// strings.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace imagegate::manifest {

using PatternMatcher = bool (*)(std::string_view);

// The hand-written matcher of a schema pattern, or nullptr when there is none.
PatternMatcher hand_matcher(std::string_view pattern);

// `schema` without the "pattern" keywords that are matched by hand: those with a matcher, reached
// from the root only through properties, object-valued items and additionalProperties, and $ref
// targets referenced only from such places. `removed` gets the JSON pointer of each removed one.
nlohmann::json without_hand_matched_patterns(const nlohmann::json& schema,
                                             std::vector<std::string>* removed = nullptr);

}  // namespace imagegate::manifest
