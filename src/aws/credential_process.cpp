#include "aws/credential_process.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/process.hpp"

namespace imagegate::aws::process {
namespace {

// A credentials document is a few hundred bytes; anything far larger is not one.
constexpr std::size_t kMaxOutput = 64 * 1024;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::expected<std::vector<std::string>, std::string> split_command(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const auto close = line.find('\'', i + 1);
      if (close == std::string_view::npos) return std::unexpected(std::string("no closing quote"));
      word.append(line.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            std::string_view("\"\\$`\n").find(line[j + 1]) != std::string_view::npos) {
          ++j;
        }
        word.push_back(line[j]);
      }
      if (j >= line.size()) return std::unexpected(std::string("no closing quote"));
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) return std::unexpected(std::string("no escaped character"));
      word.push_back(line[++i]);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<Credentials> run(const CredentialChainOptions& options, const std::string& command,
                        const std::string& label) {
  auto words = split_command(command);
  if (!words) {
    return fail("AUTH_FAILED", fmt::format("{}: credential_process cannot be split into words: {}",
                                           label, words.error()));
  }
  if (words->empty()) return fail("AUTH_FAILED", label + ": credential_process is empty");
  // The program, never its arguments: those may carry secrets.
  const std::string what = fmt::format("{}: credential_process {}", label, words->front());
  auto run = util::run_process(*words, "", options.process_timeout, kMaxOutput);
  if (!run) return fail("AUTH_FAILED", fmt::format("{} {}", what, run.error()));
  if (run->timed_out) {
    return fail("AUTH_FAILED",
                fmt::format("{} did not finish within {:g} s and was stopped "
                            "(IMAGEGATE_CREDENTIAL_PROCESS_TIMEOUT)",
                            what, static_cast<double>(options.process_timeout.count()) / 1000.0));
  }
  if (run->output_too_large) {
    return fail("AUTH_FAILED",
                fmt::format("{}: output is larger than {} bytes, not a credentials document", what,
                            kMaxOutput));
  }
  if (run->exit_status != 0) {
    return fail("AUTH_FAILED", fmt::format("{} failed (exit status {}); its output is not shown",
                                           what, run->exit_status));
  }
  const auto doc = nlohmann::json::parse(run->output, nullptr, false);
  const auto bad_output = [&](std::string_view why) {
    return fail("AUTH_FAILED", fmt::format("{}: output is not a credentials document ({}); its "
                                           "output is not shown",
                                           what, why));
  };
  if (doc.is_discarded() || !doc.is_object()) return bad_output("not a JSON object");
  const auto version = doc.find("Version");
  if (version == doc.end()) return bad_output("no Version");
  if (!version->is_number_integer() || version->get<long long>() != 1) {
    return fail(
        "AUTH_FAILED",
        fmt::format("{}: output has Version {}; only Version 1 is supported", what,
                    version->is_number() ? version->dump() : std::string("(not a number)")));
  }
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto key_id = text("AccessKeyId");
  auto secret = text("SecretAccessKey");
  if (!key_id || key_id->empty()) return bad_output("no AccessKeyId");
  if (!secret || secret->empty()) return bad_output("no SecretAccessKey");
  Credentials credentials{*key_id, *secret, text("SessionToken").value_or(""), std::nullopt,
                          label + " credential_process"};
  if (auto expiration = text("Expiration")) {
    credentials.expiration = detail::parse_iso8601(*expiration);
    if (!credentials.expiration) return bad_output("unreadable Expiration");
    if (*credentials.expiration <= options.now()) {
      return fail("AUTH_FAILED",
                  fmt::format("{} gave credentials that expired at {:%Y-%m-%dT%H:%M:%SZ}", what,
                              std::chrono::floor<std::chrono::seconds>(*credentials.expiration)));
    }
  }
  return credentials;
}

}  // namespace imagegate::aws::process
