#include "http/parser.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/strings.hpp"

namespace riptide::http {

namespace {

// tchar (RFC 9110 § 5.6.2): "!#$%&'*+-.^_`|~" DIGIT ALPHA
struct Tables {
    bool tchar[256] = {};
    bool target[256] = {};  // bytes allowed in a request-target
    bool value[256] = {};   // field-content bytes besides the line end: VCHAR obs-text SP HTAB
    bool host[256] = {};
    constexpr Tables() {
        for (int c = '0'; c <= '9'; ++c) tchar[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) tchar[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) tchar[c] = true;
        for (char c : "!#$%&'*+-.^_`|~") if (c) tchar[static_cast<unsigned char>(c)] = true;
        // The target may hold any visible byte but '#' (a fragment is never sent); bytes
        // above 0x7f are accepted as nginx does (raw UTF-8 from real clients).
        for (int c = 0x21; c < 0x7f; ++c) target[c] = c != '#';
        for (int c = 0x80; c < 0x100; ++c) target[c] = true;
        for (int c = 0x20; c < 0x7f; ++c) value[c] = true;
        for (int c = 0x80; c < 0x100; ++c) value[c] = true;
        value['\t'] = true;
        for (int c = '0'; c <= '9'; ++c) host[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) host[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) host[c] = true;
        for (char c : "-._~!$&'()*+,;=%:[]") if (c) host[static_cast<unsigned char>(c)] = true;
    }
};
constexpr Tables kT;

inline unsigned char uc(char c) { return static_cast<unsigned char>(c); }

// Sixteen bytes at a time, the position of the first byte in [pos, n) that is a control
// byte (below 0x20, HTAB included) or DEL, or that equals `also` (NUL: nothing more), or
// the position where fewer than 16 bytes remain. The scalar loops after it decide what
// that byte means (HTAB is allowed in field values): this only skips the common bytes of
// long targets and values quickly.
inline size_t skip_visible16(const unsigned char* p, size_t pos, size_t n, unsigned char space_too, unsigned char also) {
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi8(static_cast<char>(space_too ? 0x20 : 0x1f));
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i extra = _mm_set1_epi8(static_cast<char>(also ? also : 0x7f));
    while (n - pos >= 16) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + pos));
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, low), x),
                                   _mm_or_si128(_mm_cmpeq_epi8(x, del), _mm_cmpeq_epi8(x, extra)));
        if (int m = _mm_movemask_epi8(bad)) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
        pos += 16;
    }
#else
    (void)p, (void)n, (void)space_too, (void)also;
#endif
    return pos;
}

struct MethodName {
    std::string_view name;
    Method m;
};
const MethodName kMethods[] = {{"GET", Method::get},         {"HEAD", Method::head},   {"POST", Method::post},
                               {"PUT", Method::put},         {"DELETE", Method::delete_}, {"OPTIONS", Method::options},
                               {"TRACE", Method::trace},     {"CONNECT", Method::connect}, {"PATCH", Method::patch}};

// Calls fn(token) for each non-empty element of a comma-separated list (RFC 9110 § 5.6.1).
template <typename F>
void for_each_token(std::string_view v, F fn) {
    while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view t = core::trim_ows(v.substr(0, comma));
        if (!t.empty()) fn(t);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
}

const char* limit_reason(int status) {
    return status == 414 ? "request line too long"
           : status == 494 ? "request header field too large" : "request header too large";
}

bool valid_host(std::string_view h) {
    // No early exit: one table load per byte, and the answer at the end.
    // ".." is no host name either and, where $host names a folder, a way out of it
    // (nginx: 400).
    const auto* p = reinterpret_cast<const unsigned char*>(h.data());
    bool ok = true, dot = false;
    for (size_t i = 0, n = h.size(); i < n; ++i) {
        bool d = p[i] == '.';
        ok &= kT.host[p[i]] & !(d & dot);
        dot = d;
    }
    return ok;
}

}  // namespace

std::string_view method_text(Method m) {
    for (const auto& k : kMethods)
        if (k.m == m) return k.name;
    return "";
}

std::string_view Request::header(std::string_view name) const {
    for (uint32_t i = 0; i < header_count; ++i)
        if (core::iequals(headers[i].name, name)) return headers[i].value;
    return {};
}

void RequestParser::reset() {
    state_ = State::start;
    pos_ = mark_ = line_start_ = 0;
    leading_lines_ = 0;
    error_ = 0;
    reason_ = "";
    nfields_ = 0;
}

ParseStatus RequestParser::fail(int status, const char* reason) {
    error_ = status;
    reason_ = reason;
    state_ = State::done;
    return ParseStatus::error;
}

ParseStatus RequestParser::parse(const char* data, size_t len) {
    if (error_) return ParseStatus::error;
    if (state_ == State::done) return ParseStatus::complete;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
    size_t n = len;
    uint32_t pos = pos_;

    // Limits: a request line past its bound is 414, one field line past its bound 494 (400
    // with nginx's page: it must fit in one large header buffer), a head past its bound 431.
    auto over_limit = [&](uint32_t at) -> int {
        uint32_t used = at - line_start_;
        bool in_line = state_ == State::method || state_ == State::target || state_ == State::version ||
                       state_ == State::start;
        if (in_line && used > limits_.max_request_line) return 414;
        uint32_t field_start = state_ == State::field_name ? mark_
                               : (state_ == State::value_ows || state_ == State::value) ? spans_[nfields_].name.off
                                                                                        : at;
        if (at - field_start > limits_.max_field_line) return 494;
        if (used > limits_.max_header_bytes) return 431;
        return 0;
    };

    while (pos < n) {
        unsigned char c = p[pos];
        switch (state_) {
            case State::start:
                // RFC 9112 § 2.2: ignore at least one empty line before the request line.
                if (c == '\r' || c == '\n') {
                    if (c == '\r') {
                        if (pos + 1 >= n) goto need_more;
                        if (p[pos + 1] != '\n') return fail(400, "bare CR");
                        ++pos;
                    }
                    ++pos;
                    line_start_ = pos;
                    if (++leading_lines_ > 8) return fail(400, "too many empty lines before the request");
                    continue;
                }
                if (!kT.tchar[c]) return fail(400, "invalid method");
                mark_ = pos;
                state_ = State::method;
                [[fallthrough]];
            case State::method:
                while (pos < n && kT.tchar[p[pos]]) ++pos;
                if (pos >= n) break;
                if (p[pos] != ' ') return fail(400, "invalid method");
                method_ = {mark_, pos - mark_};
                ++pos;
                mark_ = pos;
                state_ = State::target;
                continue;
            case State::target:
                pos = static_cast<uint32_t>(skip_visible16(p, pos, n, 1, '#'));
                while (pos < n && kT.target[p[pos]]) ++pos;
                if (pos >= n) break;
                if (p[pos] != ' ' || pos == mark_) {
                    if (p[pos] == '#') return fail(400, "fragment in request target");
                    return fail(400, pos == mark_ ? "empty request target" : "invalid request target");
                }
                target_ = {mark_, pos - mark_};
                ++pos;
                mark_ = pos;
                state_ = State::version;
                continue;
            case State::version:
                if (pos == mark_ && n - pos >= 10 && std::memcmp(p + pos, "HTTP/1.", 7) == 0 &&
                    static_cast<unsigned>(p[pos + 7] - '0') <= 9 && p[pos + 8] == '\r' && p[pos + 9] == '\n') {
                    // "HTTP/1.x" CRLF all here: the usual line end, checked at once
                    version_ = {pos, 8};
                    pos += 10;
                } else {
                    while (pos < n && p[pos] != '\r' && p[pos] != '\n') {
                        if (pos - mark_ >= 8) return fail(400, "invalid HTTP version");
                        ++pos;
                    }
                    if (pos >= n) break;
                    if (p[pos] == '\r') {
                        if (pos + 1 >= n) goto need_more;
                        if (p[pos + 1] != '\n') return fail(400, "bare CR");
                        ++pos;
                    }
                    version_ = {mark_, (p[pos] == '\n' && p[pos - 1] == '\r' ? pos - 1 : pos) - mark_};
                    ++pos;
                    const char* v = data + version_.off;
                    if (version_.len != 8 || std::memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
                        v[6] != '.' || v[7] < '0' || v[7] > '9')
                        return fail(400, "invalid HTTP version");
                    if (v[5] != '1') return fail(505, "unsupported HTTP version");
                }
                if (pos - line_start_ > limits_.max_request_line + 2) return fail(414, "request line too long");
                state_ = State::field_start;
                continue;
            case State::field_start:
                if (c == '\r') {
                    if (pos + 1 >= n) goto need_more;
                    if (p[pos + 1] != '\n') return fail(400, "bare CR");
                    pos += 2;
                    state_ = State::done;
                    pos_ = pos;
                    return ParseStatus::complete;
                }
                if (c == '\n') {
                    ++pos;
                    state_ = State::done;
                    pos_ = pos;
                    return ParseStatus::complete;
                }
                if (c == ' ' || c == '\t') return fail(400, "obsolete line folding");
                if (!kT.tchar[c]) return fail(400, "invalid field name");
                if (nfields_ >= limits_.max_headers || nfields_ >= kMaxHeadersCap) return fail(431, "too many header fields");
                mark_ = pos;
                state_ = State::field_name;
                [[fallthrough]];
            case State::field_name:
                while (pos < n && kT.tchar[p[pos]]) ++pos;
                if (pos >= n) break;
                if (p[pos] != ':') return fail(400, "invalid field name");
                spans_[nfields_].name = {mark_, pos - mark_};
                ++pos;
                state_ = State::value_ows;
                continue;
            case State::value_ows:
                while (pos < n && (p[pos] == ' ' || p[pos] == '\t')) ++pos;
                if (pos >= n) break;
                mark_ = pos;
                state_ = State::value;
                [[fallthrough]];
            case State::value:
                pos = static_cast<uint32_t>(skip_visible16(p, pos, n, 0, 0));
                while (pos < n && kT.value[p[pos]]) ++pos;
                if (pos >= n) break;
                {
                    uint32_t end = pos;  // without the trailing OWS (RFC 9110 § 5.5)
                    while (end > mark_ && (p[end - 1] == ' ' || p[end - 1] == '\t')) --end;
                    spans_[nfields_].value = {mark_, end - mark_};
                }
                if (p[pos] == '\r') {
                    if (pos + 1 >= n) goto need_more;
                    if (p[pos + 1] != '\n') return fail(400, "bare CR in field value");
                    ++pos;
                } else if (p[pos] != '\n') {
                    return fail(400, "control character in field value");
                }
                ++pos;
                if (int s = over_limit(pos)) return fail(s, limit_reason(s));  // the line, CRLF included
                ++nfields_;
                state_ = State::field_start;
                continue;
            default:
                return fail(400, "parser state");
        }
        // A state's scan loop ran out of bytes.
        break;
    }
need_more:
    pos_ = pos;
    if (int s = over_limit(pos)) return fail(s, limit_reason(s));
    return ParseStatus::incomplete;
}

bool RequestParser::build(const char* data, Request& r) {
    r = Request{};
    r.method_name = {data + method_.off, method_.len};
    r.method = Method::other;
    for (const auto& k : kMethods)
        if (r.method_name == k.name) {
            r.method = k.m;
            break;
        }
    r.target = {data + target_.off, target_.len};
    r.version_minor = data[version_.off + 7] - '0';
    if (r.version_minor > 1) r.version_minor = 1;  // a higher minor version is served as 1.1
    r.header_bytes = pos_;

    for (uint32_t i = 0; i < nfields_; ++i) {
        fields_[i].name = {data + spans_[i].name.off, spans_[i].name.len};
        fields_[i].value = {data + spans_[i].value.off, spans_[i].value.len};
    }
    r.headers = fields_;
    r.header_count = nfields_;

    // The target's form (RFC 9112 § 3.2).
    std::string_view t = r.target;
    std::string_view abs_host;
    bool has_abs_host = false;
    if (t.front() == '/') {
        // origin-form
    } else if (core::istarts_with(t, "http://") || core::istarts_with(t, "https://")) {
        t.remove_prefix(t[4] == ':' ? 7 : 8);
        size_t end = t.find_first_of("/?");
        abs_host = t.substr(0, end);
        if (abs_host.empty() || abs_host.find('@') != std::string_view::npos || !valid_host(abs_host)) {
            fail(400, "invalid authority in absolute-form target");
            return false;
        }
        has_abs_host = true;
        t = end == std::string_view::npos ? std::string_view("/") : t.substr(end);
        if (t.front() == '?') {
            // "http://host?q": the path is empty, so "/" with the query
            r.path = "/";
            r.query = t.substr(1);
            r.has_query = true;
            t = {};
        }
    } else if (t == "*" && r.method == Method::options) {
        r.path = "*";
        t = {};
    } else if (r.method == Method::connect) {
        r.path = t;  // authority-form; answered 405 by the static handler
        t = {};
    } else {
        fail(400, "invalid request target");
        return false;
    }
    if (!t.empty()) {
        size_t q = t.find('?');
        r.path = t.substr(0, q);
        if (q != std::string_view::npos) {
            r.query = t.substr(q + 1);
            r.has_query = true;
        }
    }

    int hosts = 0, lengths = 0, te_count = 0;
    bool te_chunked_last = false, te_other = false;
    int chunked_seen = 0;
    bool conn_close = false, conn_keep_alive = false;
    for (uint32_t i = 0; i < nfields_; ++i) {
        std::string_view name = fields_[i].name, v = fields_[i].value;
        switch (core::ascii_lower(name[0])) {
            case 'h':
                if (core::iequals(name, "host")) {
                    if (++hosts > 1) {
                        fail(400, "duplicate Host");
                        return false;
                    }
                    if (!valid_host(v)) {
                        fail(400, "invalid Host");
                        return false;
                    }
                    r.host = v;
                }
                break;
            case 'c':
                if (core::iequals(name, "content-length")) {
                    auto len = core::parse_decimal(v, uint64_t{1} << 62);
                    if (++lengths > 1 || !len) {
                        fail(400, lengths > 1 ? "duplicate Content-Length" : "invalid Content-Length");
                        return false;
                    }
                    r.content_length = *len;
                } else if (core::iequals(name, "connection")) {
                    for_each_token(v, [&](std::string_view tok) {
                        if (core::iequals(tok, "close")) conn_close = true;
                        else if (core::iequals(tok, "keep-alive")) conn_keep_alive = true;
                    });
                }
                break;
            case 't':
                if (core::iequals(name, "transfer-encoding")) {
                    ++te_count;
                    for_each_token(v, [&](std::string_view tok) {
                        if (core::iequals(tok, "chunked")) {
                            ++chunked_seen;
                            te_chunked_last = true;
                        } else {
                            te_other = true;
                            te_chunked_last = false;
                        }
                    });
                }
                break;
            case 'e':
                if (core::iequals(name, "expect")) {
                    if (core::iequals(v, "100-continue")) {
                        r.expect_continue = r.version_minor >= 1;
                    } else {
                        fail(417, "unsupported expectation");
                        return false;
                    }
                }
                break;
            case 'i':
                if (core::iequals(name, "if-none-match")) r.if_none_match = v;
                else if (core::iequals(name, "if-modified-since")) r.if_modified_since = v;
                else if (core::iequals(name, "if-match")) r.if_match = v;
                else if (core::iequals(name, "if-unmodified-since")) r.if_unmodified_since = v;
                else if (core::iequals(name, "if-range")) r.if_range = v;
                break;
            case 'r':
                if (core::iequals(name, "range")) r.range = v;
                else if (core::iequals(name, "referer")) r.referer = v;
                break;
            case 'u':
                if (core::iequals(name, "user-agent")) r.user_agent = v;
                break;
            case 'a':
                if (core::iequals(name, "authorization")) r.authorization = v;
                break;
            default:
                break;
        }
    }
    if (has_abs_host) r.host = abs_host;  // RFC 9112 § 3.2.2: the target's authority wins
    if (r.version_minor == 1 && hosts == 0) {
        fail(400, "missing Host");
        return false;
    }
    if (te_count > 0) {
        // RFC 9112 § 6.1 and § 6.3: Transfer-Encoding with Content-Length, in HTTP/1.0, or
        // whose final coding is not chunked is faulty framing: 400 and close.
        if (lengths > 0) {
            fail(400, "Content-Length with Transfer-Encoding");
            return false;
        }
        if (r.version_minor == 0) {
            fail(400, "Transfer-Encoding in HTTP/1.0");
            return false;
        }
        if (!te_chunked_last || chunked_seen > 1) {
            fail(400, "final transfer coding is not chunked");
            return false;
        }
        if (te_other) {
            fail(501, "unsupported transfer coding");
            return false;
        }
        r.chunked = true;
    }
    if (r.method == Method::other) {
        fail(501, "unknown method");
        return false;
    }
    r.keep_alive = r.version_minor >= 1 ? !conn_close : (conn_keep_alive && !conn_close);
    return true;
}

}  // namespace riptide::http
