// The oci-layout backend: DIR/<repository>/ is one OCI image layout (oci-layout, index.json,
// blobs/sha256/...), tags are the org.opencontainers.image.ref.name annotations of index.json
// (as `skopeo copy ... oci:DIR/<repository>:<tag>` writes them). No server needed; every blob
// read is checked against its digest.
#pragma once

#include <filesystem>
#include <memory>

#include "registry/registry.hpp"

namespace imagegate::registry {

// `dir` holds one layout per repository; it need not exist (every repository is then missing).
std::unique_ptr<Registry> make_layout_registry(std::filesystem::path dir);

}  // namespace imagegate::registry
