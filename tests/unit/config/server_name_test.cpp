#include <gtest/gtest.h>

#include "config/server_match.hpp"
#include "test_util.hpp"

namespace riptide::config {
namespace {

std::string name_of(const ServerConfig* s) { return s != nullptr && s->return_ ? s->return_->text : "none"; }

class ServerMatch : public ::testing::Test {
protected:
    void load(const std::string& servers) {
        config_ = test::load_ok("http {\n" + servers + "\n}\n");
        groups_ = group_listens(*config_.http);
    }
    std::string pick(std::string_view host, std::size_t group = 0) const {
        return name_of(match_server(groups_.at(group), normalize_host(host)));
    }
    Config config_;
    std::vector<ListenGroup> groups_;
};

TEST_F(ServerMatch, NginxOrder) {
    load("server { listen 80; return 200 first; }\n"
         "server { listen 80; server_name ~^www\\d+\\.example\\.com$; return 200 regex; }\n"
         "server { listen 80; server_name www.*; return 200 trailing-short; }\n"
         "server { listen 80; server_name www.example.*; return 200 trailing-long; }\n"
         "server { listen 80; server_name *.example.com; return 200 leading-short; }\n"
         "server { listen 80; server_name *.www.example.com; return 200 leading-long; }\n"
         "server { listen 80; server_name www.example.com; return 200 exact; }\n");
    EXPECT_EQ(pick("www.example.com"), "exact");
    EXPECT_EQ(pick("WWW.Example.COM.:8080"), "exact");
    EXPECT_EQ(pick("a.www.example.com"), "leading-long");
    EXPECT_EQ(pick("mail.example.com"), "leading-short");
    EXPECT_EQ(pick("www1.example.com"), "leading-short");  // wildcards beat regexes
    EXPECT_EQ(pick("www.example.org"), "trailing-long");
    EXPECT_EQ(pick("www.other.org"), "trailing-short");
    EXPECT_EQ(pick("example.com"), "first");  // "*.example.com" needs a label before it
    EXPECT_EQ(pick("nothing.test"), "first");
    EXPECT_EQ(pick(""), "first");
}

TEST_F(ServerMatch, RegexInConfigOrderAfterWildcards) {
    load("server { listen 80; server_name ~^a; return 200 a; }\n"
         "server { listen 80; server_name ~b$; return 200 b; }\n");
    EXPECT_EQ(pick("ab"), "a");
    EXPECT_EQ(pick("xb"), "b");
    EXPECT_EQ(pick("AB"), "a");  // host regexes are caseless
}

TEST_F(ServerMatch, DotNameMatchesBoth) {
    load("server { listen 80; return 200 default; }\n"
         "server { listen 80; server_name .example.com; return 200 dot; }\n");
    EXPECT_EQ(pick("example.com"), "dot");
    EXPECT_EQ(pick("a.b.example.com"), "dot");
    EXPECT_EQ(pick("badexample.com"), "default");
}

TEST_F(ServerMatch, DefaultServerThenFirst) {
    load("server { listen 8080; server_name a; return 200 a; }\n"
         "server { listen 8080 default_server; server_name b; return 200 b; }\n"
         "server { listen 8081; server_name c; return 200 c; }\n"
         "server { listen 8081; server_name \"\"; return 200 empty; }\n");
    ASSERT_EQ(groups_.size(), 2u);
    EXPECT_EQ(groups_[0].listen.address(), "*:8080");
    EXPECT_TRUE(groups_[0].listen.default_server);
    EXPECT_EQ(pick("unknown", 0), "b");
    EXPECT_EQ(pick("a", 0), "a");
    EXPECT_EQ(pick("unknown", 1), "c");
    EXPECT_EQ(pick("", 1), "empty");  // no Host: the "" name
}

TEST_F(ServerMatch, GroupsKeepSocketOptions) {
    load("server { listen 127.0.0.1:80; return 200 a; }\n"
         "server { listen 127.0.0.1:80 reuseport deferred backlog=64; listen [::1]:80; return 200 b; }\n");
    ASSERT_EQ(groups_.size(), 2u);
    EXPECT_TRUE(groups_[0].listen.reuseport);
    EXPECT_EQ(groups_[0].listen.backlog, 64);
    EXPECT_TRUE(groups_[0].listen.deferred);
    EXPECT_FALSE(groups_[1].listen.deferred);
    EXPECT_EQ(groups_[0].servers.size(), 2u);
    EXPECT_EQ(groups_[1].listen.address(), "[::1]:80");
    EXPECT_EQ(name_of(groups_[1].default_server), "b");
}

TEST(NormalizeHost, Forms) {
    EXPECT_EQ(normalize_host("Example.COM"), "example.com");
    EXPECT_EQ(normalize_host("example.com:8080"), "example.com");
    EXPECT_EQ(normalize_host("example.com."), "example.com");
    EXPECT_EQ(normalize_host("[::1]:8080"), "[::1]");
    EXPECT_EQ(normalize_host(""), "");
}

}  // namespace
}  // namespace riptide::config
