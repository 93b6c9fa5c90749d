#include "config/units.hpp"

#include <limits>

namespace riptide::config {

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads digits at s[i...]; false on overflow or when there are none.
bool read_digits(std::string_view s, std::size_t& i, std::int64_t& value) {
    std::size_t start = i;
    value = 0;
    while (i < s.size() && is_digit(s[i])) {
        int d = s[i] - '0';
        if (value > (kMax - d) / 10) return false;
        value = value * 10 + d;
        ++i;
    }
    return i > start;
}

}  // namespace

std::optional<std::int64_t> parse_count(std::string_view s, std::int64_t max) {
    std::size_t i = 0;
    std::int64_t v = 0;
    if (!read_digits(s, i, v) || i != s.size() || v > max) return std::nullopt;
    return v;
}

std::optional<std::int64_t> parse_size(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t scale = 1;
    switch (s.back()) {
        case 'k':
        case 'K':
            scale = 1024;
            break;
        case 'm':
        case 'M':
            scale = 1024 * 1024;
            break;
        case 'g':
        case 'G':
            scale = 1024 * 1024 * 1024;
            break;
        default:
            break;
    }
    if (scale != 1) s.remove_suffix(1);
    auto v = parse_count(s);
    if (!v || *v > kMax / scale) return std::nullopt;
    return *v * scale;
}

std::optional<std::int64_t> parse_time_ms(std::string_view s) {
    // Longer names first where one is a prefix of another ("ms" before "m"). Each
    // step of a combination must use a smaller unit than the one before it.
    struct Unit {
        std::string_view name;
        std::int64_t ms;
    };
    static constexpr Unit units[] = {
        {"y", 365LL * 24 * 3600 * 1000}, {"M", 30LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
        {"d", 24LL * 3600 * 1000},       {"h", 3600LL * 1000},           {"ms", 1},
        {"m", 60LL * 1000},              {"s", 1000},
    };
    if (s.empty()) return std::nullopt;
    std::int64_t total = 0;
    std::int64_t last_unit = kMax;
    std::size_t i = 0;
    while (i < s.size()) {
        std::int64_t value = 0;
        if (!read_digits(s, i, value)) return std::nullopt;
        std::int64_t unit_ms = 1000;  // a bare number is seconds
        if (i < s.size()) {
            const Unit* found = nullptr;
            for (const auto& u : units) {
                if (s.substr(i).starts_with(u.name)) {
                    found = &u;
                    break;
                }
            }
            if (found == nullptr) return std::nullopt;
            unit_ms = found->ms;
            i += found->name.size();
        } else if (last_unit <= 1000) {
            return std::nullopt;  // "1s30": a trailing bare number needs a larger unit before it
        }
        if (unit_ms >= last_unit) return std::nullopt;
        last_unit = unit_ms;
        if (value > kMax / unit_ms) return std::nullopt;
        std::int64_t add = value * unit_ms;
        if (total > kMax - add) return std::nullopt;
        total += add;
    }
    return total;
}

}  // namespace riptide::config
