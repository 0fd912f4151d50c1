// CLI wiring only: parse the command line, build a command's options, run it, map to exit code.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "commands/gate.hpp"
#include "commands/pin.hpp"
#include "commands/tags.hpp"
#include "commands/validate.hpp"
#include "commands/verify.hpp"
#include "http/http.hpp"
#include "manifest/manifest.hpp"
#include "util/embedded.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

int main(int argc, char** argv) {
  using namespace imagegate;
  CLI::App app{
      "imagegate: deterministic container deploys. Proves every image of a deploy was built, "
      "pushed with every tag on one digest, pinned, and is what the service runs."};
  app.require_subcommand(1);
  app.set_version_flag(
      "--version", fmt::format("imagegate {} (commit {})", embedded::kVersion, embedded::kCommit));
  app.footer("Exit codes: 0 verified, 1 failed or could not verify, 2 usage or input error.");

  // Only the command asked for is built when the first argument names one: CLI11 builds every
  // option object up front, and the other five commands' options were 1.1 M instructions of each
  // start. Help, --version and a mistyped command get every command, so their output is whole.
  const std::string_view first = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  const bool named = first == "validate" || first == "tags" || first == "matrix" ||
                     first == "gate" || first == "pin" || first == "verify";
  const auto wanted = [&](std::string_view command) { return !named || first == command; };

  // Every command checks a manifest against the schema; compiling it takes a few milliseconds
  // that run on another core while the command line is parsed and the command starts. The
  // allocator is set up first: mallopt is not safe once a second thread exists.
  http::prepare_allocator();
  std::jthread schema;
  if (named) schema = manifest::compile_schema_in_background();

  commands::ValidateOptions validate;
  commands::TagsOptions tags;
  commands::MatrixOptions matrix;
  commands::GateOptions gate;
  commands::PinOptions pin;
  commands::VerifyOptions verify;
  auto* validate_cmd = wanted("validate") ? commands::add_validate_command(app, validate) : nullptr;
  auto* tags_cmd = wanted("tags") ? commands::add_tags_command(app, tags) : nullptr;
  auto* matrix_cmd = wanted("matrix") ? commands::add_matrix_command(app, matrix) : nullptr;
  auto* gate_cmd = wanted("gate") ? commands::add_gate_command(app, gate) : nullptr;
  auto* pin_cmd = wanted("pin") ? commands::add_pin_command(app, pin) : nullptr;
  auto* verify_cmd = wanted("verify") ? commands::add_verify_command(app, verify) : nullptr;
  const auto parsed = [](const CLI::App* command) {
    return command != nullptr && command->parsed();
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "imagegate: " << util::escape_display(e.what()) << "\n";
    std::cerr << "Run with --help for usage.\n";
    return kExitUsage;
  }

  const std::string name = app.get_subcommands().front()->get_name();
  try {
    if (parsed(validate_cmd)) return commands::run_validate(validate);
    if (parsed(tags_cmd)) return commands::run_tags(tags);
    if (parsed(matrix_cmd)) return commands::run_matrix(matrix);
    if (parsed(gate_cmd)) return commands::run_gate(gate);
    if (parsed(pin_cmd)) return commands::run_pin(pin);
    if (parsed(verify_cmd)) return commands::run_verify(verify);
  } catch (const UsageError& e) {
    std::cerr << "imagegate " << name << ": " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // Anything unexpected could not be verified: fail closed.
    std::cerr << "imagegate " << name << ": internal error: " << util::escape_display(e.what())
              << "\n";
    return kExitFailed;
  }
  return kExitUsage;
}
