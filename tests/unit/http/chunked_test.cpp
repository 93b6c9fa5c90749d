#include "http/chunked.hpp"

#include <gtest/gtest.h>

#include <string>

using riptide::http::ChunkedDecoder;

namespace {

struct Decoded {
    ChunkedDecoder::Status status;
    std::string data;
    size_t consumed;
};

// Feeds `text` in pieces of `step` bytes (0: all at once).
Decoded run(const std::string& text, size_t step = 0) {
    ChunkedDecoder d;
    std::string data;
    size_t pos = 0;
    size_t avail = step ? 0 : text.size();
    ChunkedDecoder::Status st = ChunkedDecoder::Status::need_more;
    while (true) {
        if (step) avail = std::min(text.size(), avail + step);
        for (;;) {
            size_t consumed = 0, off = 0, len = 0;
            std::string piece = text.substr(pos, avail - pos);
            st = d.decode(piece.data(), piece.size(), consumed, off, len);
            data.append(piece, off, len);
            pos += consumed;
            if (st != ChunkedDecoder::Status::need_more || consumed == 0 || pos == avail) break;
        }
        if (st != ChunkedDecoder::Status::need_more || avail == text.size()) break;
    }
    return {st, data, pos};
}

}  // namespace

TEST(Chunked, Decodes) {
    std::string body = "5\r\nhello\r\n6;ext=1;q=\"a;b\"\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t step : {0, 1, 2, 3, 7}) {
        SCOPED_TRACE(step);
        Decoded d = run(body, step);
        EXPECT_EQ(d.status, ChunkedDecoder::Status::done);
        EXPECT_EQ(d.data, "hello world");
        EXPECT_EQ(d.consumed, body.size() - 4);  // stops before the next request
    }
}

TEST(Chunked, UppercaseHexAndLeadingZeros) {
    Decoded d = run("0000A\r\n0123456789\r\n0\r\n\r\n");
    EXPECT_EQ(d.status, ChunkedDecoder::Status::done);
    EXPECT_EQ(d.data.size(), 10u);
}

TEST(Chunked, Rejects) {
    const char* bad[] = {
        "zz\r\n",                          // not hex
        "\r\n",                            // empty size
        "-1\r\n",                          // negative
        "1234567890abcdef0\r\n",           // overflow (more than 15 digits)
        "5\nhello\r\n0\r\n\r\n",           // bare LF after size
        "5\r\nhelloX\r\n0\r\n\r\n",        // data longer than the size
        "5\r\nhello\n0\r\n\r\n",           // bare LF after data
        "5;\x01\r\nhello\r\n0\r\n\r\n",    // control char in extension
        "5 ;a=b\rX\r\nhello\r\n0\r\n\r\n", // bare CR in extension
        "0\r\nBad Trailer\n\r\n",          // bare LF in trailers
        "0\r\n\rX",                        // bad final CRLF
    };
    for (const char* b : bad) {
        SCOPED_TRACE(b);
        EXPECT_EQ(run(b).status, ChunkedDecoder::Status::error);
        EXPECT_EQ(run(b, 1).status, ChunkedDecoder::Status::error);
    }
}

TEST(Chunked, ExtensionLengthIsBounded) {
    std::string b = "5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(run(b).status, ChunkedDecoder::Status::error);
}

TEST(Chunked, Incomplete) {
    EXPECT_EQ(run("5\r\nhel").status, ChunkedDecoder::Status::need_more);
    EXPECT_EQ(run("0\r\n").status, ChunkedDecoder::Status::need_more);
}
