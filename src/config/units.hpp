// Sizes, times and counts written the nginx way ("10m", "1h30m", "500ms").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace riptide::config {

// "512", "10k"/"10K", "10m"/"10M", "1g"/"1G" → bytes. nullopt on anything else or on
// overflow of a signed 64-bit value.
std::optional<std::int64_t> parse_size(std::string_view s);

// "75" (seconds), "75s", "500ms", "1m", "1h", "1d", "1w", "1M" (30 days), "1y" (365
// days), and combinations with units in decreasing order ("1h30m", "1m30") →
// milliseconds. nullopt on anything else or on overflow.
std::optional<std::int64_t> parse_time_ms(std::string_view s);

// A decimal integer without sign, at most `max`.
std::optional<std::int64_t> parse_count(std::string_view s, std::int64_t max = INT64_MAX);

}  // namespace riptide::config
