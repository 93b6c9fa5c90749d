// Feeds arbitrary bytes to the request parser, whole and split in two at a point taken
// from the input: both must agree, and nothing may read outside the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "http/parser.hpp"

using namespace riptide::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t cut = data[0] % (size + 1);
    const char* text = reinterpret_cast<const char*>(data + 1);
    size_t n = size - 1;
    if (cut > n) cut = n;

    ParserLimits limits;
    limits.max_request_line = 512;
    limits.max_header_bytes = 2048;
    limits.max_headers = 16;

    std::unique_ptr<char[]> whole(new char[n ? n : 1]);
    std::memcpy(whole.get(), text, n);
    RequestParser a(limits);
    ParseStatus sa = a.parse(whole.get(), n);
    Request ra;
    bool built_a = sa == ParseStatus::complete && a.build(whole.get(), ra);

    RequestParser b(limits);
    std::unique_ptr<char[]> first(new char[cut ? cut : 1]);
    std::memcpy(first.get(), text, cut);
    ParseStatus sb = b.parse(first.get(), cut);
    if (sb == ParseStatus::incomplete) sb = b.parse(whole.get(), n);
    Request rb;
    bool built_b = sb == ParseStatus::complete && b.build(whole.get(), rb);

    if (sa != sb || a.error_status() != b.error_status() || built_a != built_b) abort();
    if (sa == ParseStatus::complete && a.head_size() != b.head_size()) abort();
    if (built_a) {
        if (ra.path != rb.path || ra.host != rb.host || ra.content_length != rb.content_length ||
            ra.chunked != rb.chunked || ra.keep_alive != rb.keep_alive)
            abort();
        if (ra.chunked && ra.content_length != 0) abort();  // never both framings
    }
    return 0;
}
