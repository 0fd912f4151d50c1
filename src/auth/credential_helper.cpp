// The docker-credential-<name> protocol: `get` with the server URL on stdin, a JSON object
// {"ServerURL","Username","Secret"} on stdout. The helper's output holds the secret, so nothing
// of it is ever quoted in an error.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "auth/auth.hpp"

extern char** environ;

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

// Writes to a pipe whose reader may already be gone without dying of SIGPIPE: the signal is
// blocked for this thread and a pending one is consumed afterwards.
bool write_all_no_sigpipe(int fd, std::string_view data) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  bool ok = true;
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  const timespec zero{0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return ok;
}

struct HelperRun {
  int exit_status = -1;  // -1: killed or timed out
  bool timed_out = false;
  std::string output;
};

Result<HelperRun> spawn_helper(const std::filesystem::path& program, std::string_view input,
                               std::chrono::milliseconds timeout, const std::string& name) {
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return fail("AUTH_FAILED", fmt::format("credential helper {}: cannot create a pipe", name));
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return fail("AUTH_FAILED", fmt::format("credential helper {}: cannot create a pipe", name));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const std::string program_string = program.string();
  char* argv[] = {const_cast<char*>(program_string.c_str()), const_cast<char*>("get"), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program_string.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return fail("AUTH_FAILED", fmt::format("credential helper {}: cannot be started", name));
  }
  write_all_no_sigpipe(in_pipe[1], input);
  ::close(in_pipe[1]);

  HelperRun run;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      run.timed_out = ready == 0;
      break;
    }
    const ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    run.output.append(buffer, static_cast<std::size_t>(n));
    if (run.output.size() > kMaxHelperOutput) break;
  }
  ::close(out_pipe[0]);
  if (run.timed_out || run.output.size() > kMaxHelperOutput) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!run.timed_out && WIFEXITED(status)) run.exit_status = WEXITSTATUS(status);
  return run;
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
  if (run->output.size() > kMaxHelperOutput) {
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
  const auto doc = nlohmann::json::parse(run->output, nullptr, false);
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
  return std::optional<Credential>(std::move(credential));
}

}  // namespace imagegate::auth
