#include "config/units.hpp"

#include <gtest/gtest.h>

namespace riptide::config {
namespace {

TEST(Units, Sizes) {
    EXPECT_EQ(parse_size("0"), 0);
    EXPECT_EQ(parse_size("512"), 512);
    EXPECT_EQ(parse_size("10k"), 10 * 1024);
    EXPECT_EQ(parse_size("10K"), 10 * 1024);
    EXPECT_EQ(parse_size("10m"), 10 * 1024 * 1024);
    EXPECT_EQ(parse_size("10M"), 10 * 1024 * 1024);
    EXPECT_EQ(parse_size("1g"), 1024LL * 1024 * 1024);
    EXPECT_EQ(parse_size("2G"), 2LL * 1024 * 1024 * 1024);
}

TEST(Units, InvalidSizes) {
    for (const char* s : {"", "k", "-1", "1.5m", "10kb", "10 k", "1t", "m10", "99999999999999999999",
                          "9223372036854775807k", "0x10"}) {
        EXPECT_FALSE(parse_size(s).has_value()) << s;
    }
}

TEST(Units, Times) {
    EXPECT_EQ(parse_time_ms("0"), 0);
    EXPECT_EQ(parse_time_ms("75"), 75'000);
    EXPECT_EQ(parse_time_ms("75s"), 75'000);
    EXPECT_EQ(parse_time_ms("500ms"), 500);
    EXPECT_EQ(parse_time_ms("1m"), 60'000);
    EXPECT_EQ(parse_time_ms("1h"), 3'600'000);
    EXPECT_EQ(parse_time_ms("1d"), 86'400'000);
    EXPECT_EQ(parse_time_ms("1w"), 7 * 86'400'000LL);
    EXPECT_EQ(parse_time_ms("1M"), 30 * 86'400'000LL);
    EXPECT_EQ(parse_time_ms("1y"), 365 * 86'400'000LL);
    EXPECT_EQ(parse_time_ms("1h30m"), 5'400'000);
    EXPECT_EQ(parse_time_ms("1d2h3m4s5ms"), 86'400'000LL + 7'200'000 + 180'000 + 4'000 + 5);
    EXPECT_EQ(parse_time_ms("1m30"), 90'000);  // a trailing bare number is seconds
}

TEST(Units, InvalidTimes) {
    for (const char* s : {"", "s", "-1", "1.5s", "10x", "1 h", "30m1h", "1s1s", "1s30", "5msx", "1hh",
                          "99999999999999999999", "9999999999999999y"}) {
        EXPECT_FALSE(parse_time_ms(s).has_value()) << s;
    }
}

TEST(Units, Counts) {
    EXPECT_EQ(parse_count("0"), 0);
    EXPECT_EQ(parse_count("65535", 65535), 65535);
    EXPECT_FALSE(parse_count("65536", 65535));
    EXPECT_FALSE(parse_count("+1"));
    EXPECT_FALSE(parse_count(""));
    EXPECT_FALSE(parse_count("1a"));
}

}  // namespace
}  // namespace riptide::config
