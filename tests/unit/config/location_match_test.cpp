#include "config/location_match.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace riptide::config {
namespace {

// Each location returns its own name so the tests can see which one matched.
class LocationMatch : public ::testing::Test {
protected:
    void load(const std::string& body) {
        config_ = test::load_ok(test::in_server(body));
        ASSERT_TRUE(config_.http);
    }
    std::string pick(std::string_view uri) const {
        const LocationConfig* loc = match_location(config_.http->servers.at(0), uri);
        if (loc == nullptr) return "none";
        return loc->return_ ? loc->return_->text : "?" + loc->pattern;
    }
    Config config_;
};

TEST_F(LocationMatch, ExactBeatsEverything) {
    load("location = / { return 200 exact; }\n"
         "location / { return 200 prefix; }\n"
         "location ~ ^/$ { return 200 regex; }\n");
    EXPECT_EQ(pick("/"), "exact");
    EXPECT_EQ(pick("/a"), "prefix");
}

TEST_F(LocationMatch, CapturesComeFromTheLastRegexThatMatched) {
    load("location ~ ^/u/(\\w+)/ {\n"
         "    location ~ \\.png$ { return 200 png; }\n"
         "    location ~ /(\\d+)\\.jpg$ { return 200 jpg; }\n"
         "    return 200 user;\n"
         "}\n"
         "location /plain/ { return 200 plain; }\n");
    std::vector<std::string> caps{"stale"};
    const LocationConfig* loc = match_location(config_.http->servers.at(0), "/u/ann/x.txt", &caps);
    ASSERT_NE(loc, nullptr);
    EXPECT_EQ(loc->return_->text, "user");
    EXPECT_EQ(caps, std::vector<std::string>{"ann"});  // nested regexes that fail keep it
    loc = match_location(config_.http->servers.at(0), "/u/bob/a.png", &caps);
    EXPECT_EQ(loc->return_->text, "png");
    EXPECT_TRUE(caps.empty());  // the nested regex matched and has no group
    loc = match_location(config_.http->servers.at(0), "/u/cy/42.jpg", &caps);
    EXPECT_EQ(loc->return_->text, "jpg");
    EXPECT_EQ(caps, std::vector<std::string>{"42"});
    caps = {"kept"};
    loc = match_location(config_.http->servers.at(0), "/plain/x", &caps);
    EXPECT_EQ(loc->return_->text, "plain");
    EXPECT_EQ(caps, std::vector<std::string>{"kept"});  // no regex matched: the caller clears
}

TEST_F(LocationMatch, LongestPrefixWins) {
    load("location / { return 200 root; }\n"
         "location /images/ { return 200 images; }\n"
         "location /images/icons/ { return 200 icons; }\n"
         "location /img { return 200 img; }\n");
    EXPECT_EQ(pick("/"), "root");
    EXPECT_EQ(pick("/images/a.png"), "images");
    EXPECT_EQ(pick("/images/icons/a.png"), "icons");
    EXPECT_EQ(pick("/images"), "root");  // "/images/" needs the slash
    EXPECT_EQ(pick("/imgx"), "img");
}

TEST_F(LocationMatch, RegexBeatsPlainPrefix) {
    load("location / { return 200 root; }\n"
         "location /static/ { return 200 static; }\n"
         "location ~ \\.php$ { return 200 php; }\n"
         "location ~* \\.(png|jpg)$ { return 200 image; }\n");
    EXPECT_EQ(pick("/static/a.css"), "static");
    EXPECT_EQ(pick("/static/a.php"), "php");
    EXPECT_EQ(pick("/a.PNG"), "image");
    EXPECT_EQ(pick("/a.PHP"), "root");  // "~" is case-sensitive
}

TEST_F(LocationMatch, PreferPrefixStopsRegexSearch) {
    load("location ^~ /static/ { return 200 static; }\n"
         "location /static/deep/ { return 200 deep; }\n"
         "location ~ \\.png$ { return 200 png; }\n");
    EXPECT_EQ(pick("/static/a.png"), "static");
    // The longest prefix is a plain one, so regexes are tried.
    EXPECT_EQ(pick("/static/deep/a.png"), "png");
    EXPECT_EQ(pick("/static/deep/a.txt"), "deep");
    EXPECT_EQ(pick("/other.png"), "png");
}

TEST_F(LocationMatch, FirstRegexInConfigOrderWins) {
    load("location ~ /a { return 200 first; }\n"
         "location ~ /a/b { return 200 second; }\n");
    EXPECT_EQ(pick("/a/b"), "first");
    EXPECT_EQ(pick("/x"), "none");
}

TEST_F(LocationMatch, NestedLocationsAreSearchedFirst) {
    load("location /a/ {\n"
         "  return 200 a;\n"
         "  location /a/b/ { return 200 ab; }\n"
         "  location = /a/exact { return 200 a-exact; }\n"
         "  location ~ \\.css$ { return 200 a-css; }\n"
         "}\n"
         "location ~ \\.(css|js)$ { return 200 top-static; }\n");
    EXPECT_EQ(pick("/a/x"), "a");
    EXPECT_EQ(pick("/a/b/x"), "ab");
    EXPECT_EQ(pick("/a/exact"), "a-exact");
    EXPECT_EQ(pick("/a/x.css"), "a-css");     // nested regex before the outer one
    EXPECT_EQ(pick("/a/x.js"), "top-static");  // outer regex still beats the nested prefix
    EXPECT_EQ(pick("/b/x.css"), "top-static");
}

TEST_F(LocationMatch, NestedInsidePreferPrefix) {
    load("location ^~ /a/ {\n"
         "  return 200 a;\n"
         "  location ~ \\.css$ { return 200 a-css; }\n"
         "}\n"
         "location ~ \\.css$ { return 200 top-css; }\n");
    EXPECT_EQ(pick("/a/x.css"), "a-css");
    EXPECT_EQ(pick("/a/x.js"), "a");
}

TEST_F(LocationMatch, RegexLocationWithNestedLocations) {
    load("location ~ ^/r/ {\n"
         "  return 200 r;\n"
         "  location ~ \\.txt$ { return 200 r-txt; }\n"
         "}\n");
    EXPECT_EQ(pick("/r/x"), "r");
    EXPECT_EQ(pick("/r/x.txt"), "r-txt");
}

TEST_F(LocationMatch, NamedLocationsNeverMatch) {
    load("location @x { return 200 named; }\n");
    EXPECT_EQ(pick("@x"), "none");
    EXPECT_EQ(pick("/"), "none");
}

TEST_F(LocationMatch, ExactIsNotAPrefix) {
    load("location = /a { return 200 exact; }\n");
    EXPECT_EQ(pick("/a"), "exact");
    EXPECT_EQ(pick("/a/"), "none");
    EXPECT_EQ(pick("/ab"), "none");
}

TEST_F(LocationMatch, UriWithArbitraryBytes) {
    load("location ~ ^/caf { return 200 re; }\nlocation / { return 200 root; }\n");
    EXPECT_EQ(pick(std::string("/caf\xc3\xa9", 6)), "re");
    EXPECT_EQ(pick(std::string("/\xff\xfe", 3)), "root");  // invalid UTF-8 must not break matching
}

}  // namespace
}  // namespace riptide::config
