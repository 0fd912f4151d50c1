// Writing output files so that a reader (a later CI step, a deploy) never sees half a document,
// and reading input up to a bound.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

namespace imagegate::util {

// Writes content to a temporary file beside path and renames it over path. Returns false (and
// leaves path as it was) when it cannot.
bool write_file_atomically(const std::string& path, std::string_view content);

// Reads `in` to its end or to max_bytes, whichever comes first; nullopt when the stream fails.
// The buffer starts at expected + 1 bytes (the size the file had when asked), not at max_bytes,
// and doubles when the stream has more, so a small file costs no more than its size and a file
// that grew since is still read whole up to the bound.
std::optional<std::string> read_at_most(std::istream& in, std::size_t expected,
                                        std::size_t max_bytes);

}  // namespace imagegate::util
