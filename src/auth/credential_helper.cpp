// The docker-credential-<name> protocol: `get` with the server URL on stdin, a JSON object
// {"ServerURL","Username","Secret"} on stdout. The helper's output holds the secret, so nothing
// of it is ever quoted in an error.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "auth/auth.hpp"
#include "util/process.hpp"

namespace imagegate::auth {

namespace {

constexpr std::size_t kMaxHelperOutput = 1024 * 1024;

std::optional<std::filesystem::path> find_on_path(const std::string& program,
                                                  const std::string& path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t colon = path.find(':', start);
    const std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      const auto candidate = std::filesystem::path(dir) / program;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return std::nullopt;
}

Result<util::ProcessRun> spawn_helper(const std::filesystem::path& program, std::string_view input,
                                      std::chrono::milliseconds timeout, const std::string& name) {
  auto run = util::run_process({program.string(), "get"}, input, timeout, kMaxHelperOutput);
  if (!run) return fail("AUTH_FAILED", fmt::format("credential helper {}: {}", name, run.error()));
  return *run;
}

}  // namespace

Result<std::optional<Credential>> run_credential_helper(const std::string& name,
                                                        std::string_view host,
                                                        const CredentialStoreOptions& options) {
  const std::string program = "docker-credential-" + name;
  // A helper name is a suffix, never a path.
  if (name.find('/') != std::string::npos) {
    return fail("AUTH_FAILED", fmt::format("credential helper name \"{}\" contains '/'", name));
  }
  const auto path = find_on_path(program, options.helper_path);
  if (!path) {
    return fail("AUTH_FAILED",
                fmt::format("credential helper {} for {} not found on PATH", program, host));
  }
  // Docker keys Docker Hub by its legacy v1 URL, and helpers store it under that name.
  const std::string server_url =
      host == "index.docker.io" ? std::string("https://index.docker.io/v1/") : std::string(host);
  auto run = spawn_helper(*path, server_url, options.helper_timeout, program);
  if (!run) return std::unexpected(run.error());
  if (run->timed_out) {
    return fail("AUTH_FAILED", fmt::format("credential helper {} for {} timed out after {} ms",
                                           program, host, options.helper_timeout.count()));
  }
  if (run->output_too_large) {
    return fail("AUTH_FAILED",
                fmt::format("credential helper {} for {}: output too large", program, host));
  }
  if (run->exit_status != 0) {
    // The protocol's one well-known answer: nothing stored for this server.
    if (run->output.find("credentials not found") != std::string::npos) {
      return std::optional<Credential>();
    }
    return fail("AUTH_FAILED", fmt::format("credential helper {} for {} failed (exit status {})",
                                           program, host, run->exit_status));
  }
  auto credential = parse_credential_helper_output(run->output, program, host);
  if (!credential) return std::unexpected(credential.error());
  return std::optional<Credential>(std::move(*credential));
}

Result<Credential> parse_credential_helper_output(std::string_view output, std::string_view program,
                                                  std::string_view host) {
  const auto doc = nlohmann::json::parse(output, nullptr, false);
  const auto bad_output = [&] {
    return fail("AUTH_FAILED",
                fmt::format("credential helper {} for {}: output is not a JSON object with "
                            "string Username and Secret",
                            program, host));
  };
  if (doc.is_discarded() || !doc.is_object()) return bad_output();
  const auto user = doc.find("Username");
  const auto secret = doc.find("Secret");
  if (user == doc.end() || secret == doc.end() || !user->is_string() || !secret->is_string()) {
    return bad_output();
  }
  Credential credential;
  if (user->get<std::string>() == "<token>") {
    credential.identity_token = secret->get<std::string>();
  } else {
    credential.username = user->get<std::string>();
    credential.password = secret->get<std::string>();
  }
  return credential;
}

}  // namespace imagegate::auth
