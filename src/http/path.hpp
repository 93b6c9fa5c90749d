// Request path → file path beneath the root: percent-decoding, then dot-segment removal
// (RFC 3986 § 5.2.4) with merged slashes. A path that climbs above the root, holds an
// encoded NUL or a bad escape is refused.
#pragma once

#include <string>
#include <string_view>

namespace riptide::http {

enum class PathError { none, bad_escape, nul, above_root, not_absolute };

// Writes the normalized absolute path ("/a/b", trailing slash kept) into out.
PathError normalize_path(std::string_view raw, std::string& out);

// What follows the last '.' of the last segment ("" when there is none): for types.
std::string_view extension_of(std::string_view path);

// Percent-encodes what a path may not hold as-is (for Location headers and listings).
std::string escape_path(std::string_view path);
// Percent-encodes all but the unreserved bytes (ALPHA DIGIT - . _ ~), '/' included: one
// path segment, as nginx's autoindex writes its links.
std::string escape_segment(std::string_view name);

}  // namespace riptide::http
