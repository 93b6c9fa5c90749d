// The chunked transfer coding decoder (RFC 9112 § 7.1), incremental. Strict: every line
// of the framing ends in CRLF; sizes are bounded hex; extensions and trailers are checked
// and bounded, then dropped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace riptide::http {

class ChunkedDecoder {
public:
    enum class Status { need_more, done, error };
    struct Limits {
        uint32_t max_line = 4096;       // a chunk-size line with its extensions
        uint32_t max_trailers = 32768;  // the trailer section
    };

    ChunkedDecoder() = default;
    explicit ChunkedDecoder(Limits limits) : limits_(limits) {}
    void reset();

    // Decodes from p[0..n). Sets `consumed` to the bytes used. Chunk data found is reported
    // through data_off/data_len (at most one run per call, relative to p): the caller calls
    // again with the rest. Returns done after the last chunk and the trailer section.
    Status decode(const char* p, size_t n, size_t& consumed, size_t& data_off, size_t& data_len);
    uint64_t body_size() const { return total_; }
    const char* error() const { return error_; }

private:
    enum class State : uint8_t { size, ext, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf, last_lf, done };
    Status fail(const char* why) {
        error_ = why;
        return Status::error;
    }

    Limits limits_;
    State state_ = State::size;
    uint64_t chunk_left_ = 0;
    uint64_t total_ = 0;
    uint32_t line_len_ = 0;
    uint32_t trailer_len_ = 0;
    uint8_t digits_ = 0;
    bool in_quote_ = false;
    bool quote_escape_ = false;
    const char* error_ = "";
};

}  // namespace riptide::http
