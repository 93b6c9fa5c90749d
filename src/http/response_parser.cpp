#include "http/response_parser.hpp"

#include <cstring>

#include "core/strings.hpp"

namespace riptide::http {

namespace {
bool tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}
}  // namespace

bool is_hop_by_hop(std::string_view n) {
    static const char* const kHop[] = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                                       "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization"};
    for (const char* h : kHop)
        if (core::iequals(n, h)) return true;
    return false;
}

bool listed_in_connection(std::string_view v, std::string_view name) {
    while (!v.empty()) {
        size_t comma = v.find(',');
        if (core::iequals(core::trim_ows(v.substr(0, comma)), name)) return true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return false;
}

ResponseParse parse_response_head(const char* p, size_t n, size_t max_head, UpstreamResponse& out) {
    std::string_view all(p, n);
    size_t end = all.find("\n\r\n");
    size_t term = 3;
    size_t end2 = all.find("\n\n");
    if (end2 != std::string_view::npos && (end == std::string_view::npos || end2 < end)) {
        end = end2;
        term = 2;
    }
    if (end == std::string_view::npos) return n > max_head ? ResponseParse::error : ResponseParse::incomplete;
    if (end + term > max_head) return ResponseParse::error;
    out = UpstreamResponse{};
    out.head_size = end + term;
    std::string_view head = all.substr(0, end + 1);

    auto next_line = [&](std::string_view& rest) -> std::string_view {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    std::string_view rest = head;
    std::string_view line = next_line(rest);
    // "HTTP/1.1 200 OK"
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' || line[7] < '0' || line[7] > '9')
        return ResponseParse::error;
    out.version_minor = line[7] - '0';
    auto code = core::parse_decimal(line.substr(9, 3), 999);
    if (!code || *code < 100 || (line.size() > 12 && line[12] != ' ')) return ResponseParse::error;
    out.status = static_cast<int>(*code);
    out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
    out.keep_alive = out.version_minor >= 1;
    bool te = false, conn_close = false, conn_keep = false;
    int lengths = 0;
    while (!rest.empty()) {
        line = next_line(rest);
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') return ResponseParse::error;  // obs-fold
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return ResponseParse::error;
        std::string_view name = line.substr(0, colon);
        for (char c : name)
            if (!tchar(static_cast<unsigned char>(c))) return ResponseParse::error;
        std::string_view value = core::trim_ows(line.substr(colon + 1));
        for (char c : value) {
            unsigned char u = static_cast<unsigned char>(c);
            if ((u < 0x20 && u != '\t') || u == 0x7f) return ResponseParse::error;
        }
        out.headers.push_back({name, value});
        if (core::iequals(name, "content-length")) {
            auto len = core::parse_decimal(value, uint64_t{1} << 62);
            if (!len || (lengths++ && *len != out.content_length)) return ResponseParse::error;
            out.has_length = true;
            out.content_length = *len;
        } else if (core::iequals(name, "transfer-encoding")) {
            te = true;
            // Only a final "chunked" frames the body; anything else reads to the close.
            std::string_view v = value;
            size_t comma = v.rfind(',');
            std::string_view last = core::trim_ows(comma == std::string_view::npos ? v : v.substr(comma + 1));
            out.chunked = core::iequals(last, "chunked");
        } else if (core::iequals(name, "connection")) {
            if (listed_in_connection(value, "close")) conn_close = true;
            if (listed_in_connection(value, "keep-alive")) conn_keep = true;
            if (listed_in_connection(value, "upgrade")) out.upgrade = true;
        }
    }
    if (te) {
        out.has_length = false;  // RFC 9112 § 6.3: Transfer-Encoding overrides Content-Length
        out.keep_alive = out.keep_alive && out.chunked;
    }
    if (conn_close) out.keep_alive = false;
    if (out.version_minor == 0 && conn_keep && !conn_close) out.keep_alive = true;
    out.upgrade = out.upgrade && out.status == 101;
    return ResponseParse::complete;
}

}  // namespace riptide::http
