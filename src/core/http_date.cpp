#include "core/http_date.hpp"

#include <cstring>

#include "core/strings.hpp"

namespace riptide::core {

namespace {

const char kDays[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);
}

void put2(char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

int month_index(std::string_view s) {
    for (int i = 0; i < 12; ++i)
        if (s == kMonths[i]) return i + 1;
    return -1;
}

bool digits(std::string_view s, size_t n, unsigned& out) {
    if (s.size() != n) return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

std::optional<int64_t> make_time(int64_t y, unsigned mon, unsigned day, std::string_view hms) {
    unsigned h, mi, s;
    if (hms.size() != 8 || hms[2] != ':' || hms[5] != ':') return std::nullopt;
    if (!digits(hms.substr(0, 2), 2, h) || !digits(hms.substr(3, 2), 2, mi) || !digits(hms.substr(6, 2), 2, s))
        return std::nullopt;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    return days_from_civil(y, mon, day) * 86400 + h * 3600 + mi * 60 + s;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void format_http_date(int64_t t, char* out) {
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    int64_t wd = days % 7;
    if (wd < 0) wd += 7;
    std::memcpy(out, kDays[wd], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, d);
    out[7] = ' ';
    std::memcpy(out + 8, kMonths[m - 1], 3);
    out[11] = ' ';
    unsigned yy = static_cast<unsigned>(y < 0 ? 0 : (y > 9999 ? 9999 : y));
    put2(out + 12, yy / 100);
    put2(out + 14, yy % 100);
    out[16] = ' ';
    put2(out + 17, static_cast<unsigned>(secs / 3600));
    out[19] = ':';
    put2(out + 20, static_cast<unsigned>(secs / 60 % 60));
    out[22] = ':';
    put2(out + 23, static_cast<unsigned>(secs % 60));
    std::memcpy(out + 25, " GMT", 4);
}

std::optional<int64_t> parse_http_date(std::string_view s) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (s.size() == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
        s.substr(25) == " GMT") {
        unsigned d, y;
        int mon = month_index(s.substr(8, 3));
        if (mon < 0 || !digits(s.substr(5, 2), 2, d) || !digits(s.substr(12, 4), 4, y)) return std::nullopt;
        return make_time(y, static_cast<unsigned>(mon), d, s.substr(17, 8));
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
        unsigned d, y;
        int mon = month_index(s.substr(4, 3));
        std::string_view dd = s.substr(8, 2);
        if (dd[0] == ' ') dd.remove_prefix(1);
        if (mon < 0 || !digits(dd, dd.size(), d) || !digits(s.substr(20, 4), 4, y)) return std::nullopt;
        return make_time(y, static_cast<unsigned>(mon), d, s.substr(11, 8));
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    size_t comma = s.find(", ");
    if (comma != std::string_view::npos && comma >= 6 && s.size() == comma + 24) {
        std::string_view r = s.substr(comma + 2);
        if (r[2] != '-' || r[6] != '-' || r[9] != ' ' || r.substr(18) != " GMT") return std::nullopt;
        unsigned d, y;
        int mon = month_index(r.substr(3, 3));
        if (mon < 0 || !digits(r.substr(0, 2), 2, d) || !digits(r.substr(7, 2), 2, y)) return std::nullopt;
        // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
        int64_t year = y < 70 ? 2000 + y : 1900 + y;
        return make_time(year, static_cast<unsigned>(mon), d, r.substr(10, 8));
    }
    return std::nullopt;
}

}  // namespace riptide::core
