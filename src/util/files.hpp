// Writing output files so that a reader (a later CI step, a deploy) never sees half a document.
#pragma once

#include <string>
#include <string_view>

namespace imagegate::util {

// Writes content to a temporary file beside path and renames it over path. Returns false (and
// leaves path as it was) when it cannot.
bool write_file_atomically(const std::string& path, std::string_view content);

}  // namespace imagegate::util
