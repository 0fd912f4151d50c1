// Escaping of untrusted strings (image ids, tags, registry messages) for each report format, so
// no value can change the structure of the document it lands in: no XML/HTML markup, no Markdown
// table breaks or links, no GitHub workflow command. Every function first neutralises control
// characters and invalid UTF-8 the way util::escape_display does (shown as \n, \x1b, ...), so no
// format can carry a terminal escape or a line break that the renderer did not put there.
#pragma once

#include <string>
#include <string_view>

namespace imagegate::report {

// XML 1.0 text and attribute values: & < > " ' as entities; characters XML 1.0 forbids
// (most C0 controls, U+FFFE, U+FFFF) and invalid UTF-8 shown escaped instead.
std::string xml_escape(std::string_view text);

// HTML text and attribute values: & < > " ' as entities, controls shown escaped.
std::string html_escape(std::string_view text);

// Markdown (GitHub-flavoured) inline text, safe inside a table cell: every character that can
// start markup (| < > ` * _ [ ] ~ \ & and the : @ www. of autolinks) becomes a numeric entity;
// line breaks are shown as \n.
std::string markdown_escape(std::string_view text);

// A Markdown code span for short machine values (digests, codes); falls back to escaped text
// when the value holds anything but [A-Za-z0-9:._@/+_-].
std::string markdown_code(std::string_view text);

// Workflow-command data (after "::"): % \r \n percent-encoded.
std::string annotation_data(std::string_view text);

// Workflow-command property values (title=...): additionally : and , percent-encoded.
std::string annotation_property(std::string_view text);

}  // namespace imagegate::report
