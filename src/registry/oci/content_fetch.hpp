// Registry::fetch for the OCI backend: manifests, blobs and referrers of one batch, concurrently,
// through the auth session of the last resolve(). Internal to the OCI backend.
#pragma once

#include <vector>

#include "http/http.hpp"
#include "registry/oci/auth_session.hpp"
#include "registry/oci/oci.hpp"
#include "registry/registry.hpp"

namespace imagegate::registry::oci {

std::vector<ContentResult> fetch_content(const OciEndpoint& endpoint, http::Client& client,
                                         AuthSession& session,
                                         const std::vector<ContentRequest>& requests);

}  // namespace imagegate::registry::oci
