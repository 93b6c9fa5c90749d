// Small string helpers for protocol text: ASCII only, no locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace riptide::core {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim_ows(std::string_view s);  // strips SP and HTAB on both sides

// Parses a decimal number made only of digits; nullopt on empty input, any other byte, or
// a value above `max`.
std::optional<uint64_t> parse_decimal(std::string_view s, uint64_t max = UINT64_MAX);

int hex_value(char c);  // -1 if not a hex digit

// Appends the decimal / lowercase hex form of v.
void append_decimal(std::string& out, uint64_t v);
void append_hex(std::string& out, uint64_t v);
// Writes the decimal form of v at p (at least 20 bytes), returns the end.
char* format_decimal(char* p, uint64_t v);

// Escapes &, <, >, ", ' for HTML text and attributes.
std::string html_escape(std::string_view s);

}  // namespace riptide::core
