// `imagegate tags` and `imagegate matrix`: what the build must push, from the manifest alone.
#pragma once

#include "commands/common.hpp"

namespace imagegate::commands {

// --build-arg values and the deploy: what the matrix and `tags --with-build-args` give every
// build argument an image names.
struct BuildArgOptions {
  std::vector<std::string> given;  // --build-arg NAME=VALUE, repeatable
};

struct TagsOptions {
  CommonOptions common;
  std::string env;
  std::string sha;
  std::string version;
  std::vector<std::string> features;
  BuildArgOptions build_args;
  bool with_build_args = false;  // --format docker: also --build-arg NAME=VALUE
  std::string format = "text";   // text | json | github | docker
  std::string image;             // only this image id
  std::string registry_host;     // prepended to repositories: HOST/name:tag
};

struct MatrixOptions {
  CommonOptions common;
  std::string env;
  std::string sha;
  std::string version;
  std::vector<std::string> features;
  BuildArgOptions build_args;
  std::string format = "github";  // github | bake | json
  std::string registry_host;
  bool github_output = false;  // also append `matrix` to $GITHUB_OUTPUT
};

CLI::App* add_tags_command(CLI::App& app, TagsOptions& options);
int run_tags(const TagsOptions& options);

CLI::App* add_matrix_command(CLI::App& app, MatrixOptions& options);
int run_matrix(const MatrixOptions& options);

}  // namespace imagegate::commands
