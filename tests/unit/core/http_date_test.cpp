#include "core/http_date.hpp"

#include <gtest/gtest.h>

using namespace riptide::core;

TEST(HttpDate, FormatsImfFixdate) {
    char buf[kHttpDateLen];
    format_http_date(784111777, buf);
    EXPECT_EQ(std::string(buf, kHttpDateLen), "Sun, 06 Nov 1994 08:49:37 GMT");
    format_http_date(0, buf);
    EXPECT_EQ(std::string(buf, kHttpDateLen), "Thu, 01 Jan 1970 00:00:00 GMT");
    format_http_date(951782400, buf);  // leap day 2000
    EXPECT_EQ(std::string(buf, kHttpDateLen), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, ParsesTheThreeForms) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
}

TEST(HttpDate, RejectsGarbage) {
    EXPECT_FALSE(parse_http_date(""));
    EXPECT_FALSE(parse_http_date("yesterday"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
}

TEST(HttpDate, RoundTrip) {
    char buf[kHttpDateLen];
    for (int64_t t = 0; t < 4102444800; t += 86400 * 37 + 3607) {
        format_http_date(t, buf);
        ASSERT_EQ(parse_http_date(std::string_view(buf, kHttpDateLen)), t);
    }
}
