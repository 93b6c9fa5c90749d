#include "http/chunked.hpp"

#include "core/strings.hpp"

namespace riptide::http {

namespace {
bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '.': case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}
}  // namespace

void ChunkedDecoder::reset() {
    state_ = State::size;
    chunk_left_ = total_ = 0;
    line_len_ = trailer_len_ = 0;
    digits_ = 0;
    in_quote_ = quote_escape_ = false;
    error_ = "";
}

ChunkedDecoder::Status ChunkedDecoder::decode(const char* data, size_t n, size_t& consumed, size_t& data_off,
                                              size_t& data_len) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
    size_t i = 0;
    data_off = data_len = 0;
    while (i < n) {
        unsigned char c = p[i];
        switch (state_) {
            case State::size: {
                int h = core::hex_value(static_cast<char>(c));
                if (h >= 0) {
                    // 15 hex digits bound a chunk below 2^60: no overflow, and no client
                    // sends more.
                    if (++digits_ > 15) return fail("chunk size too large");
                    chunk_left_ = chunk_left_ * 16 + static_cast<uint64_t>(h);
                    ++i;
                    ++line_len_;
                    continue;
                }
                if (digits_ == 0) return fail("invalid chunk size");
                if (c == ';' || c == ' ' || c == '\t') {
                    state_ = State::ext;
                    continue;
                }
                if (c == '\r') {
                    state_ = State::size_lf;
                    ++i;
                    continue;
                }
                return fail("invalid chunk size");
            }
            case State::ext:
                // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ); checked for
                // the bytes it may contain, bounded in length, and ignored.
                if (++line_len_ > limits_.max_line) return fail("chunk extension too long");
                if (in_quote_) {
                    if (quote_escape_) {
                        quote_escape_ = false;
                    } else if (c == '\\') {
                        quote_escape_ = true;
                    } else if (c == '"') {
                        in_quote_ = false;
                    } else if (c < 0x20 && c != '\t') {
                        return fail("control character in chunk extension");
                    }
                    if (c == 0x7f) return fail("control character in chunk extension");
                    ++i;
                    continue;
                }
                if (c == '\r') {
                    state_ = State::size_lf;
                    ++i;
                    continue;
                }
                if (c == '"') {
                    in_quote_ = true;
                } else if (!(is_tchar(c) || c == ';' || c == '=' || c == ' ' || c == '\t')) {
                    return fail("invalid chunk extension");
                }
                ++i;
                continue;
            case State::size_lf:
                if (c != '\n') return fail("chunk size line not ended by CRLF");
                ++i;
                line_len_ = 0;
                digits_ = 0;
                if (chunk_left_ == 0) {
                    state_ = State::trailer_start;
                } else {
                    state_ = State::data;
                }
                continue;
            case State::data: {
                size_t take = n - i < chunk_left_ ? n - i : static_cast<size_t>(chunk_left_);
                data_off = i;
                data_len = take;
                chunk_left_ -= take;
                total_ += take;
                i += take;
                if (chunk_left_ == 0) state_ = State::data_cr;
                consumed = i;
                return Status::need_more;  // report one run of data at a time
            }
            case State::data_cr:
                if (c != '\r') return fail("chunk data not followed by CRLF");
                state_ = State::data_lf;
                ++i;
                continue;
            case State::data_lf:
                if (c != '\n') return fail("chunk data not followed by CRLF");
                state_ = State::size;
                ++i;
                continue;
            case State::trailer_start:
                if (c == '\r') {
                    state_ = State::last_lf;
                    ++i;
                    continue;
                }
                if (!is_tchar(c)) return fail("invalid trailer field");
                state_ = State::trailer;
                continue;
            case State::trailer:
                if (++trailer_len_ > limits_.max_trailers) return fail("trailer section too large");
                if (c == '\r') {
                    state_ = State::trailer_lf;
                } else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
                    return fail("invalid trailer field");
                }
                ++i;
                continue;
            case State::trailer_lf:
                if (c != '\n') return fail("trailer line not ended by CRLF");
                state_ = State::trailer_start;
                ++i;
                continue;
            case State::last_lf:
                if (c != '\n') return fail("chunked body not ended by CRLF");
                ++i;
                state_ = State::done;
                consumed = i;
                return Status::done;
            case State::done:
                consumed = i;
                return Status::done;
        }
    }
    consumed = i;
    return state_ == State::done ? Status::done : Status::need_more;
}

}  // namespace riptide::http
