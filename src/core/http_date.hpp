// IMF-fixdate (RFC 9110 § 5.6.7) formatting and parsing of the three date forms a
// recipient must accept. Pure arithmetic: no locale, no time zone database.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace riptide::core {

constexpr size_t kHttpDateLen = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Writes exactly kHttpDateLen bytes at out.
void format_http_date(int64_t unix_seconds, char* out);
// Accepts IMF-fixdate, RFC 850 and asctime forms; nullopt for anything else.
std::optional<int64_t> parse_http_date(std::string_view s);

// Days since 1970-01-01 for a proleptic Gregorian date (month 1..12).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace riptide::core
