#include "http/path.hpp"

#include <gtest/gtest.h>

using riptide::http::escape_path;
using riptide::http::escape_segment;
using riptide::http::normalize_path;
using riptide::http::PathError;

namespace {
std::string norm(std::string_view in, PathError expect = PathError::none) {
    std::string out;
    EXPECT_EQ(normalize_path(in, out), expect) << in;
    return out;
}
}  // namespace

TEST(Path, Normalizes) {
    EXPECT_EQ(norm("/"), "/");
    EXPECT_EQ(norm("/a/b"), "/a/b");
    EXPECT_EQ(norm("/a/b/"), "/a/b/");
    EXPECT_EQ(norm("//a///b"), "/a/b");
    EXPECT_EQ(norm("/a/./b"), "/a/b");
    EXPECT_EQ(norm("/a/../b"), "/b");
    EXPECT_EQ(norm("/a/b/.."), "/a/");
    EXPECT_EQ(norm("/a/b/."), "/a/b/");
    EXPECT_EQ(norm("/a/.."), "/");
    EXPECT_EQ(norm("/%61%2Fb"), "/a/b");
    EXPECT_EQ(norm("/a%20b"), "/a b");
    EXPECT_EQ(norm("/a/%2e%2e/b"), "/b");
    EXPECT_EQ(norm("/..."), "/...");
    EXPECT_EQ(norm("/a\\..\\b"), "/a\\..\\b");  // a backslash is an ordinary byte here
    // plain paths (copied in one piece) and the near misses that take the segment walk
    EXPECT_EQ(norm("/index.html"), "/index.html");
    EXPECT_EQ(norm("/a.b/c./d..e/"), "/a.b/c./d..e/");
    EXPECT_EQ(norm("/.well-known/x"), "/.well-known/x");
    EXPECT_EQ(norm("/a/.hidden/.."), "/a/");
    EXPECT_EQ(norm("/a/b//"), "/a/b/");
    EXPECT_EQ(norm("/a/b/./"), "/a/b/");
    EXPECT_EQ(norm("/a/b/.x/../c"), "/a/b/c");
}

TEST(Path, RefusesTraversalInEveryEncoding) {
    norm("/..", PathError::above_root);
    norm("/../etc/passwd", PathError::above_root);
    norm("/a/../../b", PathError::above_root);
    norm("/%2e%2e/x", PathError::above_root);
    norm("/%2E%2E%2Fx", PathError::above_root);
    norm("/..%2fx", PathError::above_root);
    norm("/a/%2e%2e%2f%2e%2e/x", PathError::above_root);
    // double encoding stays literal after one decoding: "%2e%2e" is a plain name
    EXPECT_EQ(norm("/%252e%252e/x"), "/%2e%2e/x");
}

TEST(Path, RefusesBadInput) {
    norm("/a%00b", PathError::nul);
    norm(std::string_view("/a\0b", 4), PathError::nul);
    norm(std::string_view("/ab/\0", 5), PathError::nul);
    norm("/a%zz", PathError::bad_escape);
    norm("/a%2", PathError::bad_escape);
    norm("/a%", PathError::bad_escape);
    norm("a/b", PathError::not_absolute);
    norm("", PathError::not_absolute);
}

TEST(Path, Escape) {
    EXPECT_EQ(escape_path("/a b/c?d#e%"), "/a%20b/c%3Fd%23e%25");
    EXPECT_EQ(escape_path("/caf\xc3\xa9"), "/caf%C3%A9");
    EXPECT_EQ(escape_segment("two & <three>.txt"), "two%20%26%20%3Cthree%3E.txt");
    EXPECT_EQ(escape_segment("a/b:c@d!e'f\"g~h_i-j.k"), "a%2Fb%3Ac%40d%21e%27f%22g~h_i-j.k");
}
