// Range parsing: every satisfiable range lies inside the representation, and several ranges
// (kept in the order asked, as nginx) never add up to more than the representation's size
// nor to more parts than its size allows (~100 bytes of part headers each).
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/range.hpp"

using namespace riptide::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    uint64_t length = static_cast<uint64_t>(data[0]) * 257 + data[1];
    std::string_view v(reinterpret_cast<const char*>(data + 2), size - 2);
    std::vector<ByteRange> ranges;
    RangeResult r = parse_range(v, length, 64, ranges);
    if (r != RangeResult::satisfiable) return 0;
    if (ranges.empty()) abort();
    uint64_t total = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
        if (ranges[i].first > ranges[i].last || ranges[i].last >= length) abort();
        total += ranges[i].size();
    }
    if (total > length) abort();
    if (ranges.size() > 1 && ranges.size() * 100 > length) abort();
    return 0;
}
