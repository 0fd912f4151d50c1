#include "report/escape.hpp"

#include "util/text.hpp"

namespace imagegate::report {
namespace {

std::string entities(std::string_view text, std::string_view specials) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (specials.find(c) == std::string_view::npos) {
      out += c;
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else {
      out += "&#" + std::to_string(static_cast<unsigned char>(c)) + ";";
    }
  }
  return out;
}

// U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters.
std::string drop_xml_noncharacters(std::string text) {
  for (const std::string_view bad : {"\xef\xbf\xbe", "\xef\xbf\xbf"}) {
    for (auto pos = text.find(bad); pos != std::string::npos; pos = text.find(bad, pos)) {
      text.replace(pos, bad.size(), bad[2] == '\xbe' ? "\\uFFFE" : "\\uFFFF");
    }
  }
  return text;
}

std::string percent_encode(std::string_view text, std::string_view specials) {
  std::string out;
  for (char c : text) {
    switch (specials.find(c) == std::string_view::npos ? '\0' : c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += "%3A";
        break;
      case ',':
        out += "%2C";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  return entities(drop_xml_noncharacters(util::escape_display(text)), "&<>\"'");
}

std::string html_escape(std::string_view text) {
  return entities(util::escape_display(text), "&<>\"'");
}

std::string markdown_escape(std::string_view text) {
  // ':' and '@' are escaped too, and the '.' of "www.": GitHub turns bare URLs, www. names and
  // e-mail addresses into links, and a registry message must not add one.
  const std::string shown = util::escape_display(text);
  std::string out;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const bool www_dot =
        shown[i] == '.' && i >= 3 &&
        (shown.compare(i - 3, 3, "www") == 0 || shown.compare(i - 3, 3, "WWW") == 0);
    out += www_dot ? "&#46;" : entities(shown.substr(i, 1), "&<>\"'|`*_[]~\\#!:@");
  }
  return out;
}

// Inside a code span nothing is markup, but a backtick or a pipe would end the span or the
// cell: only values made of plain characters get one.
std::string markdown_code(std::string_view text) {
  const bool plain = !text.empty() && text.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789:._@/+-_") == std::string_view::npos;
  return plain ? "`" + std::string(text) + "`" : markdown_escape(text);
}

// escape_display already turns \r and \n into visible text; the percent-encoding below is what
// the runner decodes, kept so the contract holds even for text that bypassed it.
std::string annotation_data(std::string_view text) {
  return percent_encode(util::escape_display(text), "%\r\n");
}

std::string annotation_property(std::string_view text) {
  return percent_encode(util::escape_display(text), "%\r\n:,");
}

}  // namespace imagegate::report
