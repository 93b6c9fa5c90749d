// The request-head parser: table cases, each also fed at every split point and one byte
// at a time; the buffer sits against the end of its allocation so an over-read shows
// under AddressSanitizer.
#include "http/parser.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

using riptide::http::Method;
using riptide::http::ParseStatus;
using riptide::http::ParserLimits;
using riptide::http::Request;
using riptide::http::RequestParser;

namespace {

struct Outcome {
    ParseStatus status;
    int error = 0;       // status code after error (parse or build)
    size_t head = 0;
};

// Feeds `text` to a fresh parser in the given pieces; the bytes are copied into an exact-size
// allocation each time (so reading past `len` touches memory that is not there).
Outcome feed(const std::string& text, const std::vector<size_t>& cuts, Request* out = nullptr,
             ParserLimits limits = {}) {
    auto p = std::make_unique<RequestParser>(limits);
    size_t avail = 0;
    std::unique_ptr<char[]> buf;
    std::vector<size_t> points = cuts;
    points.push_back(text.size());
    ParseStatus st = ParseStatus::incomplete;
    for (size_t end : points) {
        if (end < avail) continue;
        avail = end;
        buf.reset(new char[avail ? avail : 1]);
        std::memcpy(buf.get(), text.data(), avail);
        st = p->parse(buf.get(), avail);
        if (st != ParseStatus::incomplete) break;
    }
    Outcome o{st, p->error_status(), p->head_size()};
    if (st == ParseStatus::complete) {
        Request r;
        // build() views point into buf, which stays alive through *out only in this scope:
        // copy out what the tests check.
        if (!p->build(buf.get(), r)) {
            o.status = ParseStatus::error;
            o.error = p->error_status();
        } else if (out) {
            *out = r;
        }
    }
    return o;
}

Outcome whole(const std::string& t, ParserLimits l = {}) { return feed(t, {}, nullptr, l); }

// Every split point and one byte at a time must give the same outcome as one piece.
void expect_same_everywhere(const std::string& t) {
    Outcome w = whole(t);
    for (size_t cut = 0; cut <= t.size(); ++cut) {
        Outcome o = feed(t, {cut});
        ASSERT_EQ(o.status, w.status) << "split at " << cut << " of: " << t;
        ASSERT_EQ(o.error, w.error) << "split at " << cut;
    }
    std::vector<size_t> bytes;
    for (size_t i = 1; i < t.size(); ++i) bytes.push_back(i);
    Outcome b = feed(t, bytes);
    ASSERT_EQ(b.status, w.status) << "byte by byte: " << t;
    ASSERT_EQ(b.error, w.error);
    if (w.status == ParseStatus::complete) {
        ASSERT_EQ(b.head, w.head);
    }
}

struct Case {
    const char* name;
    std::string text;
    ParseStatus status;
    int error;
};

const Case kCases[] = {
    {"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::complete, 0},
    {"bare LF accepted", "GET / HTTP/1.1\nHost: a\n\n", ParseStatus::complete, 0},
    {"leading CRLF ignored", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::complete, 0},
    {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", ParseStatus::complete, 0},
    {"missing Host", "GET / HTTP/1.1\r\n\r\n", ParseStatus::error, 400},
    {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", ParseStatus::error, 400},
    {"invalid Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ParseStatus::error, 400},
    {"dot-dot Host", "GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", ParseStatus::error, 400},
    {"dot-dot absolute-form", "GET http://../x HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseStatus::error, 400},
    {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n", ParseStatus::error, 400},
    {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36), ParseStatus::error, 400},
    {"control in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", ParseStatus::error, 400},
    {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", ParseStatus::error, 400},
    {"bare CR after version", "GET / HTTP/1.1\rHost: a\r\n\r\n", ParseStatus::error, 400},
    {"empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", ParseStatus::error, 400},
    {"invalid name char", "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", ParseStatus::error, 400},
    {"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"trailing space in line", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"HTTP/0.9 style", "GET /\r\n\r\n", ParseStatus::error, 400},
    {"lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", ParseStatus::error, 505},
    {"HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", ParseStatus::error, 505},
    {"HTTP/1.2 served as 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", ParseStatus::complete, 0},
    {"unknown method", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 501},
    {"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 501},
    {"invalid method char", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"relative target", "GET a HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"absolute form", "GET http://example.com/x?y HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::complete, 0},
    {"absolute form userinfo", "GET http://u@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"other scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"asterisk with OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::complete, 0},
    {"asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::error, 400},
    {"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseStatus::error, 400},
    {"two CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", ParseStatus::error, 400},
    {"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", ParseStatus::error, 400},
    {"CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", ParseStatus::error, 400},
    {"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\n", ParseStatus::error, 400},
    {"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     ParseStatus::error, 400},
    {"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", ParseStatus::error, 400},
    {"TE chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus::complete, 0},
    {"TE case", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n", ParseStatus::complete, 0},
    {"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ParseStatus::error, 501},
    {"TE final not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     ParseStatus::error, 400},
    {"TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseStatus::error, 400},
    {"TE unknown", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", ParseStatus::error, 400},
    {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus::error, 400},
    {"Expect other", "GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", ParseStatus::error, 417},
    {"incomplete", "GET / HTTP/1.1\r\nHost: a\r\n", ParseStatus::incomplete, 0},
};

}  // namespace

TEST(RequestParser, Table) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.name);
        Outcome o = whole(c.text);
        EXPECT_EQ(o.status, c.status);
        EXPECT_EQ(o.error, c.error);
    }
}

TEST(RequestParser, SameResultAtEverySplitAndByteByByte) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.name);
        expect_same_everywhere(c.text);
    }
}

TEST(RequestParser, FieldsAreViews) {
    std::string t = "GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent:  ua  \r\n"
                    "Connection: close\r\nRange: bytes=0-1\r\nIf-None-Match: \"x\"\r\n\r\nNEXT";
    RequestParser p;
    ASSERT_EQ(p.parse(t.data(), t.size()), ParseStatus::complete);
    EXPECT_EQ(p.head_size(), t.size() - 4);
    Request r;
    ASSERT_TRUE(p.build(t.data(), r));
    EXPECT_EQ(r.method, Method::get);
    EXPECT_EQ(r.path, "/a/b");
    EXPECT_EQ(r.query, "x=1&y");
    EXPECT_TRUE(r.has_query);
    EXPECT_EQ(r.host, "example.com:8080");
    EXPECT_EQ(r.user_agent, "ua");  // OWS trimmed on both sides
    EXPECT_FALSE(r.keep_alive);
    EXPECT_EQ(r.range, "bytes=0-1");
    EXPECT_EQ(r.if_none_match, "\"x\"");
    EXPECT_EQ(r.header_count, 5u);
    EXPECT_EQ(r.header("USER-AGENT"), "ua");
    // views point into the caller's buffer: no copies
    EXPECT_GE(r.path.data(), t.data());
    EXPECT_LT(r.path.data(), t.data() + t.size());
}

TEST(RequestParser, KeepAliveRules) {
    auto ka = [](const std::string& t) {
        RequestParser p;
        EXPECT_EQ(p.parse(t.data(), t.size()), ParseStatus::complete);
        Request r;
        EXPECT_TRUE(p.build(t.data(), r));
        return r.keep_alive;
    };
    EXPECT_TRUE(ka("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"));
    EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"));
    EXPECT_FALSE(ka("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
}

TEST(RequestParser, AbsoluteFormHostWins) {
    std::string t = "GET http://Other.example:81?q HTTP/1.1\r\nHost: a\r\n\r\n";
    RequestParser p;
    ASSERT_EQ(p.parse(t.data(), t.size()), ParseStatus::complete);
    Request r;
    ASSERT_TRUE(p.build(t.data(), r));
    EXPECT_EQ(r.host, "Other.example:81");
    EXPECT_EQ(r.path, "/");
    EXPECT_EQ(r.query, "q");
}

TEST(RequestParser, Body) {
    std::string t = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n";
    RequestParser p;
    ASSERT_EQ(p.parse(t.data(), t.size()), ParseStatus::complete);
    Request r;
    ASSERT_TRUE(p.build(t.data(), r));
    EXPECT_EQ(r.content_length, 12u);
    EXPECT_TRUE(r.has_body());
    EXPECT_TRUE(r.expect_continue);
}

TEST(RequestParser, Limits) {
    ParserLimits l;
    l.max_request_line = 64;
    l.max_header_bytes = 256;
    l.max_headers = 4;
    EXPECT_EQ(whole("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", l).error, 414);
    // incomplete but already too long
    EXPECT_EQ(whole("GET /" + std::string(100, 'a'), l).error, 414);
    // one field line longer than a large buffer: 494 (400 on the wire), complete or not (nginx)
    l.max_field_line = 64;
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'a') + "\r\n\r\n", l).error, 494);
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'a'), l).error, 494);
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nX" + std::string(100, 'a'), l).error, 494);
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(58, 'a') + "\r\n\r\n", l).status,
              ParseStatus::complete);
    // short lines that add up past the head's bound: 431
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 3; ++i) many += "X" + std::to_string(i) + ": " + std::string(50, 'a') + "\r\n";
    l.max_headers = 10;
    l.max_header_bytes = 150;
    EXPECT_EQ(whole(many + "\r\n", l).error, 431);
    EXPECT_EQ(whole(many, l).error, 431);
    l.max_headers = 4;
    l.max_header_bytes = 256;
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", l).error, 431);
    EXPECT_EQ(whole("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\n\r\n", l).status, ParseStatus::complete);
    // too many empty lines before the request
    EXPECT_EQ(whole(std::string(20, '\n') + "GET / HTTP/1.1\r\nHost: a\r\n\r\n").error, 400);
}

TEST(RequestParser, ResetParsesTheNextPipelinedRequest) {
    std::string t = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    RequestParser p;
    ASSERT_EQ(p.parse(t.data(), t.size()), ParseStatus::complete);
    size_t first = p.head_size();
    p.reset();
    ASSERT_EQ(p.parse(t.data() + first, t.size() - first), ParseStatus::complete);
    Request r;
    ASSERT_TRUE(p.build(t.data() + first, r));
    EXPECT_EQ(r.path, "/2");
}

// Targets and values longer than 16 bytes are scanned 16 bytes at a time: a byte that is
// not allowed must be caught at every position of such a block and in the tail after it,
// whatever the split, and the allowed bytes (HTAB and obs-text in values, bytes above 0x7f
// in targets) must still pass.
TEST(RequestParser, LongTargetsAndValuesAtEveryPosition) {
    const std::string tail = " HTTP/1.1\r\nHost: a\r\n\r\n";
    for (size_t at = 0; at < 40; ++at) {
        SCOPED_TRACE(at);
        for (char bad : {'\x01', '\x7f', '#', '\0', '\t', '\r'}) {
            std::string path = "/" + std::string(40, 'p');
            path[1 + at] = bad;
            Outcome o = whole("GET " + path + tail);
            EXPECT_EQ(o.status, ParseStatus::error) << static_cast<int>(bad);
            EXPECT_EQ(o.error, 400);
        }
        std::string high = "/" + std::string(40, 'p');
        high[1 + at] = '\xe9';
        EXPECT_EQ(whole("GET " + high + tail).status, ParseStatus::complete);

        for (char bad : {'\x01', '\x7f', '\0', '\x1f', '\r'}) {
            std::string value(40, 'v');
            value[at] = bad;
            std::string t = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "\r\n\r\n";
            Outcome o = whole(t);
            EXPECT_EQ(o.status, ParseStatus::error) << static_cast<int>(bad);
            EXPECT_EQ(o.error, 400);
        }
        for (char ok : {'\t', ' ', '\x80', '\xff', '~'}) {
            std::string value(40, 'v');
            value[at] = ok;
            std::string t = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "\r\n\r\n";
            Request r;
            ASSERT_EQ(feed(t, {}, &r).status, ParseStatus::complete) << static_cast<int>(ok);
        }
    }
    for (size_t cut : {5, 17, 21, 33, 40}) {
        std::string t = "GET /" + std::string(40, 'p') + "\x7f" + tail;
        EXPECT_EQ(feed(t, {cut}).error, 400);
    }
}

TEST(RequestParser, LongValueKeepsInnerWhitespaceAndLosesTheTrailingOws) {
    std::string v = "Mozilla/5.0 (X11; Linux x86_64)\tGecko/20100101 Firefox/120.0";
    std::string t = "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: \t " + v + " \t \t\r\n\r\n";
    for (size_t cut = 0; cut <= t.size(); ++cut) {
        RequestParser p;
        std::string buf = t.substr(0, cut);
        ParseStatus st = p.parse(buf.data(), buf.size());
        if (st == ParseStatus::incomplete) {
            buf = t;
            st = p.parse(buf.data(), buf.size());
        }
        ASSERT_EQ(st, ParseStatus::complete) << cut;
        Request r;
        ASSERT_TRUE(p.build(buf.data(), r));
        ASSERT_EQ(r.user_agent, v) << cut;
    }
}

TEST(RequestParser, VersionLineEndsAtEverySplit) {
    for (const char* version : {"HTTP/1.1", "HTTP/1.0", "HTTP/1.9"}) {
        std::string t = std::string("GET / ") + version + "\r\nHost: a\r\n\r\n";
        expect_same_everywhere(t);
        Request r;
        ASSERT_EQ(feed(t, {}, &r).status, ParseStatus::complete) << version;
        EXPECT_EQ(r.version_minor, version[7] == '0' ? 0 : 1);
    }
    for (const char* bad : {"HTTP/1.x", "HTTP/1.1 ", "HTTP/1.11", "HTTP/1.", "HTTPS/1.1", "HTTP/1.1\r\r"}) {
        std::string t = std::string("GET / ") + bad + "\r\nHost: a\r\n\r\n";
        EXPECT_EQ(whole(t).status, ParseStatus::error) << bad;
        expect_same_everywhere(t);
    }
}
