// One case per rejection rule: each error must name the exact file:line:col and say
// what was expected.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace riptide::config {
namespace {

using test::in_server;
using test::load_error;

struct ErrorCase {
    std::string text;
    std::string where;  // "t.conf:L:C"
    std::string says;   // a piece of the message
};

void check(const std::vector<ErrorCase>& cases) {
    for (const auto& c : cases) {
        std::string e = load_error(c.text);
        EXPECT_EQ(e.rfind(c.where + ": ", 0), 0u) << "config:\n" << c.text << "\nerror: " << e;
        EXPECT_NE(e.find(c.says), std::string::npos) << "config:\n" << c.text << "\nerror: " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << "one line only: " << e;
    }
}

TEST(ConfigErrors, Generic) {
    check({
        {"foo bar;", "t.conf:1:1", "unknown directive \"foo\""},
        {"root /x;", "t.conf:1:1", "\"root\" directive is not allowed here in main (it belongs in: http, server, location)"},
        {"http { worker_connections 5; }", "t.conf:1:8", "not allowed here in http"},
        {"daemon;", "t.conf:1:1", "invalid number of arguments in \"daemon\" directive: expected 1 argument, got 0"},
        {"http { add_header A; }", "t.conf:1:8", "expected 2 to 3 arguments, got 1"},
        {"events;", "t.conf:1:1", "has no opening \"{\""},
        {"daemon on { }", "t.conf:1:1", "does not take a block"},
        {"daemon on; daemon off;", "t.conf:1:12", "\"daemon\" directive is duplicate: it was already set at t.conf:1:1"},
        {"events { } events { }", "t.conf:1:12", "\"events\" directive is duplicate"},
        {"http { } http { }", "t.conf:1:10", "\"http\" directive is duplicate"},
        {"http { types { } types { } }", "t.conf:1:18", "\"types\" directive is duplicate"},
        {in_server("server { }"), "t.conf:3:1", "\"server\" directive is not allowed here in server"},
        {in_server("location / { listen 80; }"), "t.conf:3:14", "not allowed here in location"},
        {in_server("proxy_pass http://a;"), "t.conf:3:1", "not allowed here in server"},
        {in_server("alias /x;"), "t.conf:3:1", "not allowed here in server"},
        {in_server("try_files a b;\ntry_files c d;"), "t.conf:4:1", "\"try_files\" directive is duplicate"},
    });
}

TEST(ConfigErrors, MainAndEvents) {
    check({
        {"daemon yes;", "t.conf:1:8", "invalid value \"yes\" in \"daemon\" directive: expected \"on\" or \"off\""},
        {"worker_processes 0;", "t.conf:1:18", "expected a whole number from 1 to 1024"},
        {"worker_processes many;", "t.conf:1:18", "invalid number \"many\""},
        {"worker_rlimit_nofile 0;", "t.conf:1:22", "invalid number"},
        {"error_log x.log loud;", "t.conf:1:17", "invalid log level \"loud\""},
        {"pid \"\";", "t.conf:1:5", "empty value in \"pid\""},
        {"events { use kqueue; }", "t.conf:1:14", "supports only \"epoll\""},
        {"events { worker_connections -1; }", "t.conf:1:29", "invalid number \"-1\""},
        {"events { multi_accept 1; }", "t.conf:1:23", "expected \"on\" or \"off\""},
    });
}

TEST(ConfigErrors, SizesAndTimes) {
    check({
        {"http { client_max_body_size 10x; }", "t.conf:1:29", "invalid size \"10x\" in \"client_max_body_size\""},
        {"http { client_max_body_size -1; }", "t.conf:1:29", "invalid size"},
        {"http { client_header_buffer_size 0; }", "t.conf:1:34", "expected at least 1 byte"},
        {"http { large_client_header_buffers 4 0; }", "t.conf:1:38", "expected at least 1 byte"},
        {"http { large_client_header_buffers 0 8k; }", "t.conf:1:36", "invalid number \"0\""},
        {"http { keepalive_timeout 5x; }", "t.conf:1:26", "invalid time \"5x\" in \"keepalive_timeout\""},
        {"http { keepalive_timeout 1s30; }", "t.conf:1:26", "invalid time"},
        {"http { keepalive_timeout 30m1h; }", "t.conf:1:26", "larger units first"},
        {"http { keepalive_timeout 5s 1.5s; }", "t.conf:1:29", "invalid time"},
        {"http { send_timeout 1h1h; }", "t.conf:1:21", "invalid time"},
        {"http { keepalive_requests x; }", "t.conf:1:27", "invalid number"},
        {"http { max_ranges -1; }", "t.conf:1:19", "invalid number"},
    });
}

TEST(ConfigErrors, HttpLevel) {
    check({
        {"http { types { text/html html; text/plain HTML; } }", "t.conf:1:43",
         "duplicate extension \"html\" in \"types\": it is already mapped to \"text/html\" at t.conf:1:26"},
        {"http { types { text/html; } }", "t.conf:1:16", "expected at least one file extension"},
        {"http { types { text/html { } } }", "t.conf:1:16", "unexpected block in \"types\""},
        {"http { access_log off x; }", "t.conf:1:23", "after \"access_log off\""},
        {"http { access_log a.log; access_log off; }", "t.conf:1:26", "cannot be combined"},
        {"http { access_log off; access_log a.log; }", "t.conf:1:24", "cannot be combined"},
        {"http { access_log a.log nosuch; }", "t.conf:1:8", "unknown log format \"nosuch\""},
        {"http { access_log a.log combined flush=5s; }", "t.conf:1:8", "flush= but no buffer="},
        {"http { access_log a.log combined gzip; }", "t.conf:1:34", "invalid parameter \"gzip\""},
        {"http { access_log a.log combined buffer=big; }", "t.conf:1:34", "invalid size \"big\""},
        {"http { log_format combined x; }", "t.conf:1:19", "duplicate log_format name \"combined\": it is predefined"},
        {"http { log_format a x; log_format a y; }", "t.conf:1:35", "already defined at t.conf:1:8"},
        {"http { log_format a escape=xml x; }", "t.conf:1:21", "invalid escape \"xml\""},
        {"http { log_format a \"$ x\"; }", "t.conf:1:21", "invalid variable name"},
        {"http { log_format a \"${x\"; }", "t.conf:1:21", "invalid variable name"},
        {"http { log_format a escape=json; }", "t.conf:1:8", "expected a format string"},
        {"http { add_header A b sometimes; }", "t.conf:1:23", "expected \"always\""},
        {"http { add_header \"\" b; }", "t.conf:1:19", "empty value"},
        {"http { expires modified; }", "t.conf:1:16", "not supported"},
        {"http { expires soon; }", "t.conf:1:16", "invalid time"},
        {"http { error_page 200 /x; }", "t.conf:1:19", "expected a whole number from 300 to 599"},
        {"http { error_page 499 /x; }", "t.conf:1:19", "\"499\""},
        {"http { error_page 404 =abc /x; }", "t.conf:1:23", "invalid number \"abc\""},
        {"http { error_page 404 =99 /x; }", "t.conf:1:23", "from 100 to 599"},
        {"http { error_page =200 /x; }", "t.conf:1:8", "at least one status code"},
        {"http { if_modified_since later; }", "t.conf:1:26", "expected off, exact or before"},
        {"http { open_file_cache max=10 lru=1; }", "t.conf:1:31", "invalid parameter \"lru=1\""},
        {"http { open_file_cache inactive=1s; }", "t.conf:1:8", "needs max=N"},
        {"http { open_file_cache off max=1; }", "t.conf:1:28", "after \"open_file_cache off\""},
        {"http { proxy_next_upstream error http_418; }", "t.conf:1:34", "invalid value \"http_418\""},
        {"http { proxy_next_upstream error off; }", "t.conf:1:34", "must be the only value"},
        {"http { proxy_http_version 2.0; }", "t.conf:1:27", "expected 1.0 or 1.1"},
        {"http { proxy_buffering maybe; }", "t.conf:1:24", "expected \"on\" or \"off\""},
    });
}

TEST(ConfigErrors, Upstream) {
    check({
        {"http { upstream u { server a:1; } upstream u { server b:1; } }", "t.conf:1:44", "duplicate upstream \"u\""},
        {"http { upstream u { } }", "t.conf:1:8", "no servers are inside upstream \"u\""},
        {"http { upstream u { server a:1 slow; } }", "t.conf:1:32", "invalid parameter \"slow\""},
        {"http { upstream u { server unix:/x; } }", "t.conf:1:28", "unix sockets are not supported"},
        {"http { upstream u { server a:1; least_conn; ip_hash; } }", "t.conf:1:45", "load balancing method redefined"},
        {"http { upstream u { server a:1 backup; ip_hash; } }", "t.conf:1:21", "\"backup\" server parameter"},
        {"http { upstream u { server a:1; hash $x sometimes; } }", "t.conf:1:41", "expected \"consistent\""},
        {"http { upstream u { server a:0; } }", "t.conf:1:28", "from 1 to 65535"},
        {"http { upstream u { server a:1 weight=0; } }", "t.conf:1:32", "from 1 to 1000"},
        {"http { upstream u { server a:1 fail_timeout=x; } }", "t.conf:1:32", "invalid time"},
        {"http { upstream u { keepalive 0; server a:1; } }", "t.conf:1:31", "invalid number"},
        {"http { upstream u { server [::1; } }", "t.conf:1:28", "missing \"]\""},
        {"upstream u { server a:1; }", "t.conf:1:1", "not allowed here in main"},
    });
}

TEST(ConfigErrors, Listen) {
    check({
        {in_server("listen 1.2.3;"), "t.conf:3:8", "expected an IPv4 address"},
        {in_server("listen example.com:80;"), "t.conf:3:8", "host names are not resolved"},
        {in_server("listen ::1:80;"), "t.conf:3:8", "write IPv6 addresses in brackets"},
        {in_server("listen 80 ssl;"), "t.conf:3:11", "invalid parameter \"ssl\""},
        {in_server("listen 70000;"), "t.conf:3:8", "from 0 to 65535"},
        {in_server("listen unix:/tmp/s;"), "t.conf:3:8", "unix sockets are not supported"},
        {in_server("listen 127.0.0.1:80 ipv6only=on;"), "t.conf:3:21", "ipv6only is only valid"},
        {in_server("listen [::]:80 ipv6only=maybe;"), "t.conf:3:16", "expected \"on\" or \"off\""},
        {in_server("listen [::1;"), "t.conf:3:8", "missing \"]\""},
        {in_server("listen [zz]:80;"), "t.conf:3:8", "invalid IPv6 address \"zz\""},
        {in_server("listen 1.2.3.4:;"), "t.conf:3:8", "missing port"},
        {in_server("listen 80 backlog=x;"), "t.conf:3:11", "invalid number \"x\""},
        {in_server("listen 80;\nlisten *:80;"), "t.conf:4:1", "duplicate listen *:80 in this server: it is already listed at t.conf:3:1"},
        {in_server("listen 0.0.0.0:8080;\nlisten 8080;"), "t.conf:4:1", "duplicate listen *:8080"},
        {"http {\nserver { listen 80 default_server; }\nserver { listen 80 default_server; }\n}", "t.conf:3:10",
         "a duplicate default server for *:80: the default is already set at t.conf:2:10"},
        {"http {\nserver { listen 80 reuseport; }\nserver { listen 80 backlog=5; }\n}", "t.conf:3:10",
         "duplicate listen options for *:80"},
        {"http {\nserver { listen 80 deferred; }\nserver { listen 80 deferred; }\n}", "t.conf:3:10",
         "duplicate listen options for *:80"},
        {in_server("listen 80 defered;"), "t.conf:3:11", "invalid parameter \"defered\""},
    });
}

TEST(ConfigErrors, ServerName) {
    check({
        {in_server("server_name a*b.com;"), "t.conf:3:13", "invalid server name or wildcard \"a*b.com\""},
        {in_server("server_name *.*.com;"), "t.conf:3:13", "invalid server name or wildcard"},
        {in_server("server_name \"*\";"), "t.conf:3:13", "invalid server name or wildcard"},
        {in_server("server_name \".\";"), "t.conf:3:13", "invalid server name"},
        {in_server("server_name \"~(\";"), "t.conf:3:13", "invalid regular expression \"(\""},
        {"http {\nserver { server_name a.com; }\nserver { server_name A.com; }\n}", "t.conf:3:22",
         "conflicting server name \"a.com\" on *:80: another server already uses it (at t.conf:2:22)"},
    });
}

TEST(ConfigErrors, Location) {
    check({
        {in_server("location foo /x { }"), "t.conf:3:10", "invalid location modifier \"foo\""},
        {in_server("location = /x { location /x/y { } }"), "t.conf:3:17", "cannot be inside the exact location \"/x\""},
        {in_server("location @n { location /y { } }"), "t.conf:3:15", "cannot be inside the named location \"@n\""},
        {in_server("location / { location @n { } }"), "t.conf:3:14", "named location \"@n\" can be on the server level only"},
        {in_server("location /a { location /b { } }"), "t.conf:3:24", "location \"/b\" is outside location \"/a\""},
        {in_server("location /a { }\nlocation /a { }"), "t.conf:4:1", "duplicate location \"/a\": already defined at t.conf:3:1"},
        {in_server("location /a { }\nlocation ^~ /a { }"), "t.conf:4:1", "duplicate location \"/a\""},
        {in_server("location = /a { }\nlocation =/a { }"), "t.conf:4:1", "duplicate location \"/a\""},
        {in_server("location @a { }\nlocation @a { }"), "t.conf:4:1", "duplicate location \"@a\""},
        {in_server("location ~ ( { }"), "t.conf:3:12", "invalid regular expression \"(\""},
        {in_server("location \"\" { }"), "t.conf:3:10", "empty location pattern"},
        {in_server("location / { root /a; alias /b; }"), "t.conf:3:23", "\"alias\" directive is duplicate: \"root\" was already given"},
        {in_server("location / { alias /b; root /a; }"), "t.conf:3:24", "\"root\" directive is duplicate: \"alias\" was already given"},
        {in_server("location / { root /a; root /b; }"), "t.conf:3:23", "\"root\" directive is duplicate"},
        {in_server("location / { }\n}\n}\n}"), "t.conf:6:1", "unexpected \"}\""},
    });
}

TEST(ConfigErrors, Actions) {
    check({
        {in_server("try_files a =abc;"), "t.conf:3:13", "invalid number \"abc\""},
        {in_server("try_files a \"\";"), "t.conf:3:13", "empty value"},
        {in_server("return abc;"), "t.conf:3:8", "invalid return code \"abc\""},
        {in_server("return 1000;"), "t.conf:3:8", "invalid return code"},
        {in_server("index \"\";"), "t.conf:3:7", "empty value in \"index\""},
        {in_server("location / { proxy_pass ftp://x; }"), "t.conf:3:25", "expected http:// or https://"},
        {in_server("location / { proxy_pass http://; }"), "t.conf:3:25", "no host"},
        {in_server("location / { proxy_pass http://:80; }"), "t.conf:3:25", "no host"},
        {in_server("location ~ \\.php$ { proxy_pass http://a/b; }"), "t.conf:3:32", "cannot have a URI part"},
        {in_server("location / { proxy_pass http://a:99999; }"), "t.conf:3:25", "from 1 to 65535"},
        {in_server("location / { proxy_pass http://a; proxy_pass http://b; }"), "t.conf:3:35", "\"proxy_pass\" directive is duplicate"},
    });
}

}  // namespace
}  // namespace riptide::config
