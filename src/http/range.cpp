#include "http/range.hpp"

#include <algorithm>
#include <cstdint>

#include "core/strings.hpp"

namespace riptide::http {

RangeResult parse_range(std::string_view v, uint64_t length, uint32_t max_ranges, std::vector<ByteRange>& out) {
    out.clear();
    v = core::trim_ows(v);
    if (!core::istarts_with(v, "bytes=")) return RangeResult::none;
    v.remove_prefix(6);
    bool any_valid_syntax = false;
    uint32_t count = 0;
    std::vector<ByteRange> ranges;
    while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view spec = core::trim_ows(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
        if (spec.empty()) continue;
        if (++count > max_ranges) return RangeResult::none;
        size_t dash = spec.find('-');
        if (dash == std::string_view::npos) return RangeResult::none;
        std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
        if (a.empty()) {
            // suffix range "-n": the last n bytes
            auto n = core::parse_decimal(b);
            if (!n) return RangeResult::none;
            any_valid_syntax = true;
            if (*n == 0 || length == 0) continue;
            uint64_t take = std::min(*n, length);
            ranges.push_back({length - take, length - 1});
            continue;
        }
        auto first = core::parse_decimal(a);
        if (!first) return RangeResult::none;
        uint64_t last = UINT64_MAX;
        if (!b.empty()) {
            auto l = core::parse_decimal(b);
            if (!l || *l < *first) return RangeResult::none;
            last = *l;
        }
        any_valid_syntax = true;
        if (*first >= length) continue;  // unsatisfiable on its own
        ranges.push_back({*first, std::min(last, length - 1)});
    }
    if (!any_valid_syntax) return RangeResult::none;
    if (ranges.empty()) return RangeResult::unsatisfiable;
    if (ranges.size() > 1) {
        // As nginx: the parts in the order they were asked for (RFC 9110 § 14.6), none
        // merged; but ranges that add up to more than the file (overlaps, repeats) get the
        // whole file instead, as do many tiny parts whose part headers (~100 bytes each)
        // would outweigh it: a small request cannot make a large answer.
        uint64_t total = 0;
        for (const ByteRange& r : ranges) total += r.size();
        if (total > length || ranges.size() * 100 > length) return RangeResult::none;
    }
    out.swap(ranges);
    return RangeResult::satisfiable;
}

}  // namespace riptide::http
