#include "http/path.hpp"

#include <cstring>

#include "core/strings.hpp"

namespace riptide::http {

namespace {
// The bytes the plain-path scan of normalize_path stops at: '%', NUL and '/'.
struct PathSpecial {
    bool t[256] = {};
    constexpr PathSpecial() { t[static_cast<unsigned char>('%')] = t[0] = t[static_cast<unsigned char>('/')] = true; }
};
constexpr PathSpecial kPathSpecial;
}  // namespace

PathError normalize_path(std::string_view raw, std::string& out) {
    out.clear();
    if (raw.empty() || raw.front() != '/') return PathError::not_absolute;
    // Decode first: "%2e%2e" and "%2f" are then seen as the dots and slashes they are,
    // so no encoding can smuggle a ".." past the segment walk below. Both steps work in
    // `out` (reused by the caller): no allocation per request once it has grown.
    // The usual path has no escape, no empty, "." or ".." segment (no "//" and no "/."
    // at all) and no NUL: it is its own normal form, copied in one piece.
    {
        const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
        const size_t n = raw.size();
        size_t i = 0;
        for (;;) {
            while (i < n && !kPathSpecial.t[p[i]]) ++i;
            if (i == n || p[i] != '/' || i + 1 == n || p[i + 1] == '/' || p[i + 1] == '.') break;
            ++i;
        }
        if (i == n) {
            out.assign(raw);
            return PathError::none;
        }
    }
    out.reserve(raw.size() + 1);
    for (size_t i = 0; i < raw.size();) {
        // Plain bytes go over in one piece; only an escape is decoded byte by byte.
        size_t j = i;
        while (j < raw.size() && raw[j] != '%' && raw[j] != '\0') ++j;
        out.append(raw.data() + i, j - i);
        if (j == raw.size()) break;
        if (raw[j] == '\0') return PathError::nul;
        if (j + 2 >= raw.size()) return PathError::bad_escape;
        int h = core::hex_value(raw[j + 1]), l = core::hex_value(raw[j + 2]);
        if (h < 0 || l < 0) return PathError::bad_escape;
        char c = static_cast<char>(h * 16 + l);
        if (c == '\0') return PathError::nul;
        out.push_back(c);
        i = j + 3;
    }
    // Walk segments in place: the write position never passes the read position.
    // "" and "." are dropped, ".." pops one, above the root is refused.
    const size_t n = out.size();
    size_t r = 0, w = 0;
    bool trailing_slash = false;
    while (r < n) {
        while (r < n && out[r] == '/') ++r;
        size_t start = r;
        while (r < n && out[r] != '/') ++r;
        size_t len = r - start;
        bool dot = len == 1 && out[start] == '.';
        bool dotdot = len == 2 && out[start] == '.' && out[start + 1] == '.';
        trailing_slash = r < n || len == 0 || dot || dotdot;
        if (len == 0 || dot) continue;
        if (dotdot) {
            if (w == 0) return PathError::above_root;
            while (w > 0 && out[w - 1] != '/') --w;
            --w;  // the slash before the popped segment
            continue;
        }
        out[w++] = '/';
        std::memmove(&out[w], &out[start], len);
        w += len;
    }
    out.resize(w);
    if (out.empty() || trailing_slash) out.push_back('/');
    return PathError::none;
}

std::string_view extension_of(std::string_view path) {
    size_t slash = path.rfind('/');
    size_t dot = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
    return path.substr(dot + 1);
}

namespace {
bool unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

// Percent-encodes every byte `keep` refuses.
template <typename Keep>
std::string escape(std::string_view s, Keep keep) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (keep(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}
}  // namespace

std::string escape_path(std::string_view path) {
    return escape(path, [](unsigned char c) {
        return unreserved(c) || c == '/' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' ||
               c == '*' || c == '+' || c == ',' || c == ';' || c == '=' || c == ':' || c == '@';
    });
}

std::string escape_segment(std::string_view name) { return escape(name, unreserved); }

}  // namespace riptide::http
