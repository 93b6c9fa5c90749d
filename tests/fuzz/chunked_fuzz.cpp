// The chunked decoder: fed whole and one byte at a time, it must reach the same verdict,
// the same data and consume the same number of bytes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/chunked.hpp"

using riptide::http::ChunkedDecoder;

namespace {
struct Out {
    ChunkedDecoder::Status st;
    std::string data;
    size_t used;
};

Out run(const char* p, size_t n, size_t step) {
    ChunkedDecoder d;
    Out o{ChunkedDecoder::Status::need_more, {}, 0};
    size_t avail = 0;
    while (o.st == ChunkedDecoder::Status::need_more && o.used < n) {
        avail = step ? (avail + step < n ? avail + step : n) : n;
        while (o.used < avail) {
            size_t consumed = 0, off = 0, len = 0;
            o.st = d.decode(p + o.used, avail - o.used, consumed, off, len);
            if (off + len > avail - o.used) abort();
            o.data.append(p + o.used + off, len);
            o.used += consumed;
            if (o.st != ChunkedDecoder::Status::need_more || consumed == 0) break;
        }
        if (o.st != ChunkedDecoder::Status::need_more || avail == n) break;
    }
    return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* p = reinterpret_cast<const char*>(data);
    Out a = run(p, size, 0), b = run(p, size, 1);
    if (a.st != b.st) abort();
    if (a.st == ChunkedDecoder::Status::done && (a.data != b.data || a.used != b.used)) abort();
    return 0;
}
