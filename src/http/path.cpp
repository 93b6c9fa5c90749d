#include "http/path.hpp"

#include "core/strings.hpp"

namespace riptide::http {

PathError normalize_path(std::string_view raw, std::string& out) {
    out.clear();
    if (raw.empty() || raw.front() != '/') return PathError::not_absolute;
    // Decode first: "%2e%2e" and "%2f" are then seen as the dots and slashes they are,
    // so no encoding can smuggle a ".." past the segment walk below.
    std::string decoded;
    decoded.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size()) return PathError::bad_escape;
            int h = core::hex_value(raw[i + 1]), l = core::hex_value(raw[i + 2]);
            if (h < 0 || l < 0) return PathError::bad_escape;
            c = static_cast<char>(h * 16 + l);
            i += 2;
        }
        if (c == '\0') return PathError::nul;
        decoded.push_back(c);
    }
    // Walk segments: "" and "." are dropped, ".." pops one, above the root is refused.
    out.reserve(decoded.size());
    size_t i = 0;
    const size_t n = decoded.size();
    bool trailing_slash = false;
    while (i < n) {
        while (i < n && decoded[i] == '/') ++i;
        size_t start = i;
        while (i < n && decoded[i] != '/') ++i;
        std::string_view seg(decoded.data() + start, i - start);
        trailing_slash = i < n || seg.empty() || seg == "." || seg == "..";
        if (seg.empty() || seg == ".") continue;
        if (seg == "..") {
            if (out.empty()) return PathError::above_root;
            out.resize(out.rfind('/'));
            continue;
        }
        out.push_back('/');
        out.append(seg);
    }
    if (out.empty() || trailing_slash) out.push_back('/');
    return PathError::none;
}

std::string escape_path(std::string_view path) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(path.size());
    for (char ch : path) {
        unsigned char c = static_cast<unsigned char>(ch);
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '/' || c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '$' ||
                     c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' ||
                     c == ';' || c == '=' || c == ':' || c == '@';
        if (plain) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace riptide::http
