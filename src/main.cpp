// CLI wiring only: parse the command line, build a command's options, run it, map to exit code.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "commands/gate.hpp"
#include "commands/pin.hpp"
#include "commands/tags.hpp"
#include "commands/validate.hpp"
#include "commands/verify.hpp"
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

  commands::ValidateOptions validate;
  commands::TagsOptions tags;
  commands::MatrixOptions matrix;
  commands::GateOptions gate;
  auto* validate_cmd = commands::add_validate_command(app, validate);
  auto* tags_cmd = commands::add_tags_command(app, tags);
  auto* matrix_cmd = commands::add_matrix_command(app, matrix);
  auto* gate_cmd = commands::add_gate_command(app, gate);
  commands::PinOptions pin;
  commands::VerifyOptions verify;
  auto* pin_cmd = commands::add_pin_command(app, pin);
  auto* verify_cmd = commands::add_verify_command(app, verify);

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
    if (validate_cmd->parsed()) return commands::run_validate(validate);
    if (tags_cmd->parsed()) return commands::run_tags(tags);
    if (matrix_cmd->parsed()) return commands::run_matrix(matrix);
    if (gate_cmd->parsed()) return commands::run_gate(gate);
    if (pin_cmd->parsed()) return commands::run_pin(pin);
    if (verify_cmd->parsed()) return commands::run_verify(verify);
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
