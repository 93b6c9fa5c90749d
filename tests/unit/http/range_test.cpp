#include "http/range.hpp"

#include <gtest/gtest.h>

using riptide::http::ByteRange;
using riptide::http::parse_range;
using riptide::http::RangeResult;

namespace {
RangeResult pr(std::string_view v, uint64_t len, std::vector<ByteRange>& out, uint32_t max = 64) {
    return parse_range(v, len, max, out);
}
}  // namespace

TEST(Range, Single) {
    std::vector<ByteRange> r;
    ASSERT_EQ(pr("bytes=0-9", 100, r), RangeResult::satisfiable);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].first, 0u);
    EXPECT_EQ(r[0].last, 9u);
    ASSERT_EQ(pr("bytes=90-", 100, r), RangeResult::satisfiable);
    EXPECT_EQ(r[0].first, 90u);
    EXPECT_EQ(r[0].last, 99u);
    ASSERT_EQ(pr("bytes=-5", 100, r), RangeResult::satisfiable);
    EXPECT_EQ(r[0].first, 95u);
    ASSERT_EQ(pr("bytes=-500", 100, r), RangeResult::satisfiable);
    EXPECT_EQ(r[0].first, 0u);
    ASSERT_EQ(pr("bytes=50-5000", 100, r), RangeResult::satisfiable);
    EXPECT_EQ(r[0].last, 99u);
    ASSERT_EQ(pr("Bytes = 1-2", 100, r), RangeResult::none);  // no spaces around '=' allowed
    ASSERT_EQ(pr("bytes=1-2", 100, r), RangeResult::satisfiable);
}

TEST(Range, Unsatisfiable) {
    std::vector<ByteRange> r;
    EXPECT_EQ(pr("bytes=100-", 100, r), RangeResult::unsatisfiable);
    EXPECT_EQ(pr("bytes=200-300", 100, r), RangeResult::unsatisfiable);
    EXPECT_EQ(pr("bytes=-0", 100, r), RangeResult::unsatisfiable);
    EXPECT_EQ(pr("bytes=0-", 0, r), RangeResult::unsatisfiable);
}

TEST(Range, InvalidIsIgnored) {
    std::vector<ByteRange> r;
    EXPECT_EQ(pr("bytes=abc", 100, r), RangeResult::none);
    EXPECT_EQ(pr("items=0-1", 100, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=5-1", 100, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=", 100, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=1", 100, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=--1", 100, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=+1-2", 100, r), RangeResult::none);
}

TEST(Range, MultipleInRequestOrderAndBounded) {
    std::vector<ByteRange> r;
    ASSERT_EQ(pr("bytes=0-1,5-6", 1000, r), RangeResult::satisfiable);
    EXPECT_EQ(r.size(), 2u);
    // the order asked for (RFC 9110 § 14.6, and nginx), overlaps kept as asked
    ASSERT_EQ(pr("bytes=500-509,0-9", 1000, r), RangeResult::satisfiable);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].first, 500u);
    EXPECT_EQ(r[1].first, 0u);
    ASSERT_EQ(pr("bytes=0-5,3-8", 1000, r), RangeResult::satisfiable);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].first, 3u);
    EXPECT_EQ(r[1].last, 8u);
    // over max_ranges: ignored
    EXPECT_EQ(pr("bytes=0-0,2-2,4-4", 1000, r, 2), RangeResult::none);
    // many tiny parts on a small file would amplify: whole file instead
    std::string many = "bytes=0-0";
    for (int i = 1; i < 50; ++i) many += "," + std::to_string(i * 2) + "-" + std::to_string(i * 2);
    EXPECT_EQ(pr(many, 200, r), RangeResult::none);
    // ranges adding up to more than the file (the same bytes asked many times): whole file
    std::string same = "bytes=0-99";
    for (int i = 0; i < 50; ++i) same += ",0-99";
    EXPECT_EQ(pr(same, 1000, r), RangeResult::none);
    EXPECT_EQ(pr("bytes=0-,0-", 100000, r), RangeResult::none);
    // overlapping parts that add up to the file's size are still allowed
    ASSERT_EQ(pr("bytes=0-499,400-899", 1000, r), RangeResult::satisfiable);
    EXPECT_EQ(r.size(), 2u);
}
