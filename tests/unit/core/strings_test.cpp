#include "core/strings.hpp"

#include <gtest/gtest.h>

#include "core/buffer.hpp"

using namespace riptide::core;

TEST(Strings, ParseDecimal) {
    EXPECT_EQ(parse_decimal("0"), 0u);
    EXPECT_EQ(parse_decimal("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_decimal("18446744073709551616"));
    EXPECT_FALSE(parse_decimal(""));
    EXPECT_FALSE(parse_decimal("1 "));
    EXPECT_FALSE(parse_decimal("-1"));
    EXPECT_FALSE(parse_decimal("+1"));
    EXPECT_EQ(parse_decimal("100", 100), 100u);
    EXPECT_FALSE(parse_decimal("101", 100));
}

TEST(Strings, CaseAndTrim) {
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_FALSE(iequals("a", "ab"));
    EXPECT_EQ(trim_ows(" \t x y \t"), "x y");
    EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    std::string s;
    append_hex(s, 0x264);
    EXPECT_EQ(s, "264");
}

TEST(Buffer, GrowsCompactsAndConsumes) {
    Buffer b(8);
    b.append("abcdef");
    b.consume(4);
    EXPECT_EQ(b.view(), "ef");
    b.append("ghijklmnop");  // needs compaction and growth
    EXPECT_EQ(b.view(), "efghijklmnop");
    b.consume(b.size());
    EXPECT_TRUE(b.empty());
    Buffer moved(std::move(b));
    EXPECT_FALSE(b.allocated());
    EXPECT_TRUE(moved.allocated());
}
