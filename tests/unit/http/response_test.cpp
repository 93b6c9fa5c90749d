#include "http/response.hpp"

#include <gtest/gtest.h>

#include "http/mime.hpp"

using namespace riptide::http;

TEST(Response, StatusLineAndErrorPage) {
    std::string s;
    append_status_line(s, 404);
    EXPECT_EQ(s, "HTTP/1.1 404 Not Found\r\n");
    std::string_view body = error_page_body(404);
    EXPECT_NE(body.find("<title>404 Not Found</title>"), std::string_view::npos);
    EXPECT_TRUE(error_page_body(200).empty());
    EXPECT_TRUE(error_page_body(304).empty());
}

TEST(Response, DateCache) {
    DateCache d;
    d.update(784111777);
    EXPECT_EQ(d.header(), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
}

TEST(Mime, Lookup) {
    MimeTypes m;
    EXPECT_EQ(m.lookup("/a/index.html"), "text/html");
    EXPECT_EQ(m.lookup("/A.CSS"), "text/css");
    EXPECT_EQ(m.lookup("/x.tar.gz"), "application/gzip");
    EXPECT_EQ(m.lookup("/noext"), "application/octet-stream");
    EXPECT_EQ(m.lookup("/dir.d/noext"), "application/octet-stream");
    EXPECT_EQ(m.lookup("/x."), "application/octet-stream");
}
