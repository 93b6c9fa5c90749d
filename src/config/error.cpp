#include "config/error.hpp"

namespace riptide::config {

namespace {
const std::string& unknown_file() {
    static const std::string name = "<unknown>";
    return name;
}
}  // namespace

const std::string& Position::file_name() const { return file ? *file : unknown_file(); }

std::string Position::to_string() const {
    return file_name() + ":" + std::to_string(line) + ":" + std::to_string(col);
}

ConfigError::ConfigError(const Position& pos, const std::string& message)
    : std::runtime_error(pos.to_string() + ": " + message), pos_(pos), detail_(message) {}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        // Keep messages on one line and printable whatever bytes the config holds.
        auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace riptide::config
