// Range requests (RFC 9110 § 14): "bytes=a-b, c-, -n" → ranges resolved against a length.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace riptide::http {

struct ByteRange {
    uint64_t first;
    uint64_t last;  // inclusive
    uint64_t size() const { return last - first + 1; }
};

enum class RangeResult {
    none,            // no usable Range: serve the whole representation (200)
    satisfiable,     // ranges holds one or more ranges (206)
    unsatisfiable,   // 416
};

// Parses a Range value against a representation of `length` bytes. Invalid syntax or a
// unit other than bytes yields none (the field is ignored, RFC 9110 § 14.2). More than
// `max_ranges` ranges yields none as well (nginx's max_ranges). Overlapping or adjacent
// ranges are merged, so a response never carries the same byte twice; when the merged
// ranges would still add more than the file's size in part headers, the whole file is
// sent instead.
RangeResult parse_range(std::string_view value, uint64_t length, uint32_t max_ranges,
                        std::vector<ByteRange>& ranges);

}  // namespace riptide::http
