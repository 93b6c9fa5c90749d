// The HTTP/1.1 request-head parser (RFC 9112 §§ 2-5): an incremental state machine that
// resumes where it stopped, so a head that arrives one byte at a time costs no rescans.
// It never copies: it records offsets from the start of the request, and `request()`
// turns them into views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request.hpp"

namespace riptide::http {

struct ParserLimits {
    uint32_t max_request_line = 8192;    // longer: 414
    uint32_t max_header_bytes = 32768;   // request line + fields: longer: 431
    uint32_t max_field_line = 8192;      // one field line, CRLF included: longer: 494 (nginx)
    uint32_t max_headers = 100;          // more fields: 431
};

enum class ParseStatus { incomplete, complete, error };

class RequestParser {
public:
    static constexpr uint32_t kMaxHeadersCap = 256;

    explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}
    void reset();

    // `data` starts at the first byte of the request (the same address on every call
    // unless the caller moved the bytes); `len` is how many bytes are available.
    ParseStatus parse(const char* data, size_t len);
    // The status code to answer with after ParseStatus::error (400, 414, 431, 501, 505; 494
    // is nginx's internal code for a header line too long: answered 400 with its own page).
    int error_status() const { return error_; }
    const char* error_reason() const { return reason_; }
    // Bytes of the head (request line + fields + empty line) once complete.
    size_t head_size() const { return pos_; }
    // Valid after complete; views into `data`. Applies the semantic checks of RFC 9112
    // (framing, Host) and may turn a complete parse into an error: check error_status().
    bool build(const char* data, Request& out);
    // Headers, for Request::headers (filled by build).
    const HeaderField* fields() const { return fields_; }

private:
    enum class State : uint8_t {
        start, method, target, version, line_cr, field_start, field_name, value_ows, value, value_cr,
        head_cr, done
    };
    ParseStatus fail(int status, const char* reason);

    struct Span {
        uint32_t off, len;
    };
    struct FieldSpan {
        Span name, value;
    };

    ParserLimits limits_;
    State state_ = State::start;
    uint32_t pos_ = 0;
    uint32_t mark_ = 0;         // start of the current token
    uint32_t line_start_ = 0;   // after leading empty lines
    uint16_t leading_lines_ = 0;
    int error_ = 0;
    const char* reason_ = "";
    Span method_{}, target_{}, version_{};
    uint32_t nfields_ = 0;
    FieldSpan spans_[kMaxHeadersCap];
    HeaderField fields_[kMaxHeadersCap];
};

}  // namespace riptide::http
