// The typed configuration: values, defaults and inheritance.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace riptide::config {
namespace {

using test::in_server;
using test::load_ok;

TEST(Config, EmptyConfigHasNginxDefaults) {
    Config c = load_ok("");
    EXPECT_EQ(c.main.worker_processes, 1u);
    EXPECT_FALSE(c.main.worker_processes_auto);
    EXPECT_FALSE(c.main.daemon);  // foreground by default
    EXPECT_EQ(c.main.pid, "logs/riptide.pid");
    EXPECT_EQ(c.main.events.worker_connections, 512u);
    EXPECT_FALSE(c.http.has_value());
}

TEST(Config, MainAndEvents) {
    Config c = load_ok(
        "worker_processes auto;\nworker_rlimit_nofile 4096;\nerror_log stderr debug;\nerror_log logs/e.log;\n"
        "pid /run/r.pid;\ndaemon on;\n"
        "events { worker_connections 2048; use epoll; multi_accept on; accept_mutex on; }\n");
    EXPECT_TRUE(c.main.worker_processes_auto);
    EXPECT_EQ(c.main.worker_rlimit_nofile, 4096u);
    ASSERT_EQ(c.main.error_logs.size(), 2u);
    EXPECT_EQ(c.main.error_logs[0].path, "stderr");
    EXPECT_EQ(c.main.error_logs[0].level, LogLevel::Debug);
    EXPECT_EQ(c.main.error_logs[1].level, LogLevel::Error);
    EXPECT_EQ(c.main.pid, "/run/r.pid");
    EXPECT_TRUE(c.main.daemon);
    EXPECT_EQ(c.main.events.worker_connections, 2048u);
    EXPECT_TRUE(c.main.events.multi_accept);
    EXPECT_TRUE(c.main.events.accept_mutex);
    EXPECT_EQ(load_ok("worker_processes 4;").main.worker_processes, 4u);
}

TEST(Config, HttpDefaults) {
    Config c = load_ok("http { server { } }");
    ASSERT_TRUE(c.http);
    const Settings& s = c.http->servers.at(0).settings;
    EXPECT_EQ(s.root, "html");
    EXPECT_EQ(s.index, std::vector<std::string>{"index.html"});
    EXPECT_EQ(s.keepalive_timeout_ms, 75'000);
    EXPECT_EQ(s.keepalive_requests, 1000u);
    EXPECT_EQ(s.client_max_body_size, 1024 * 1024);
    EXPECT_EQ(s.client_header_buffer_size, 1024);
    EXPECT_EQ(s.large_client_header_buffers_count, 4u);
    EXPECT_EQ(s.large_client_header_buffers_size, 8192);
    EXPECT_EQ(s.default_type, "text/plain");
    EXPECT_FALSE(s.sendfile);
    EXPECT_TRUE(s.tcp_nodelay);
    EXPECT_TRUE(s.etag);
    EXPECT_EQ(s.if_modified_since, IfModifiedSince::Exact);
    EXPECT_EQ(s.mime_type("HTML"), "text/html");
    EXPECT_EQ(s.mime_type("unknown"), "text/plain");
    ASSERT_EQ(s.access_logs.size(), 1u);
    EXPECT_EQ(s.access_logs[0].path, "logs/access.log");
    EXPECT_EQ(s.access_logs[0].format, "combined");
    EXPECT_EQ(s.proxy_http_version, "1.0");
    EXPECT_EQ(s.proxy_next_upstream, kNextError | kNextTimeout);
    const ServerConfig& srv = c.http->servers[0];
    ASSERT_EQ(srv.listens.size(), 1u);
    EXPECT_EQ(srv.listens[0].address(), "*:80");
    ASSERT_EQ(srv.server_names.size(), 1u);
    EXPECT_EQ(srv.server_names[0].name, "");
}

TEST(Config, HttpDirectives) {
    Config c = load_ok(
        "http {\n"
        " types { text/html html; image/png PNG; }\n"
        " default_type application/octet-stream;\n"
        " sendfile on; tcp_nopush on; tcp_nodelay off;\n"
        " keepalive_timeout 65 60; keepalive_requests 50;\n"
        " client_header_timeout 10s; client_body_timeout 1m; send_timeout 500ms;\n"
        " client_max_body_size 0; client_header_buffer_size 2k; large_client_header_buffers 8 16k;\n"
        " log_format main escape=json '$remote_addr ' \"${status}x\";\n"
        " access_log logs/a.log main buffer=32k flush=5s;\n"
        " access_log logs/b.log;\n"
        " server_tokens off; max_ranges 1; root /srv; index a.html b.html; index c.html; autoindex on;\n"
        " add_header X-A 1; add_header X-B \"\" always;\n"
        " expires -1h; error_page 404 /404.html; error_page 500 502 =200 /err; error_page 403 = @fallback;\n"
        " etag off; if_modified_since before; open_file_cache max=100 inactive=30s;\n"
        " proxy_set_header Host $host; proxy_connect_timeout 5s; proxy_read_timeout 1m; proxy_send_timeout 2m;\n"
        " proxy_next_upstream error http_502 non_idempotent; proxy_buffering off; proxy_http_version 1.1;\n"
        " server { }\n"
        "}\n");
    const Settings& s = c.http->settings;
    EXPECT_EQ(s.mime_type("png"), "image/png");
    EXPECT_EQ(s.mime_type("gif"), "application/octet-stream");
    EXPECT_TRUE(s.sendfile);
    EXPECT_TRUE(s.tcp_nopush);
    EXPECT_FALSE(s.tcp_nodelay);
    EXPECT_EQ(s.keepalive_timeout_ms, 65'000);
    EXPECT_EQ(s.keepalive_header_timeout_ms, 60'000);
    EXPECT_EQ(s.keepalive_requests, 50u);
    EXPECT_EQ(s.client_header_timeout_ms, 10'000);
    EXPECT_EQ(s.client_body_timeout_ms, 60'000);
    EXPECT_EQ(s.send_timeout_ms, 500);
    EXPECT_EQ(s.client_max_body_size, 0);
    EXPECT_EQ(s.client_header_buffer_size, 2048);
    EXPECT_EQ(s.large_client_header_buffers_count, 8u);
    EXPECT_EQ(s.large_client_header_buffers_size, 16384);
    const LogFormat* main = c.http->log_format("main");
    ASSERT_NE(main, nullptr);
    EXPECT_EQ(main->escape, LogEscape::Json);
    EXPECT_EQ(main->text, "$remote_addr ${status}x");
    ASSERT_EQ(main->segments.size(), 4u);
    EXPECT_TRUE(main->segments[0].is_variable);
    EXPECT_EQ(main->segments[0].text, "remote_addr");
    EXPECT_EQ(main->segments[2].text, "status");
    EXPECT_EQ(main->segments[3].text, "x");
    ASSERT_EQ(s.access_logs.size(), 2u);
    EXPECT_EQ(s.access_logs[0].format, "main");
    EXPECT_EQ(s.access_logs[0].buffer_bytes, 32 * 1024);
    EXPECT_EQ(s.access_logs[0].flush_ms, 5000);
    EXPECT_EQ(s.access_logs[1].format, "combined");
    EXPECT_FALSE(s.server_tokens);
    EXPECT_EQ(s.max_ranges, 1u);
    EXPECT_EQ(s.root, "/srv");
    EXPECT_EQ(s.index, (std::vector<std::string>{"a.html", "b.html", "c.html"}));
    EXPECT_TRUE(s.autoindex);
    ASSERT_EQ(s.add_headers.size(), 2u);
    EXPECT_EQ(s.add_headers[1].value, "");
    EXPECT_TRUE(s.add_headers[1].always);
    EXPECT_EQ(s.expires.mode, ExpiresConfig::Mode::Time);
    EXPECT_EQ(s.expires.offset_ms, -3'600'000);
    ASSERT_EQ(s.error_pages.size(), 3u);
    EXPECT_FALSE(s.error_pages[0].response_code);
    EXPECT_EQ(s.error_pages[1].codes, (std::vector<int>{500, 502}));
    EXPECT_EQ(s.error_pages[1].response_code, 200);
    EXPECT_EQ(s.error_pages[2].response_code, 0);
    EXPECT_EQ(s.error_pages[2].uri, "@fallback");
    EXPECT_FALSE(s.etag);
    EXPECT_EQ(s.if_modified_since, IfModifiedSince::Before);
    EXPECT_TRUE(s.open_file_cache.enabled);
    EXPECT_EQ(s.open_file_cache.max, 100u);
    EXPECT_EQ(s.open_file_cache.inactive_ms, 30'000);
    ASSERT_EQ(s.proxy_set_headers.size(), 1u);
    EXPECT_EQ(s.proxy_set_headers[0].value, "$host");
    EXPECT_EQ(s.proxy_connect_timeout_ms, 5000);
    EXPECT_EQ(s.proxy_read_timeout_ms, 60'000);
    EXPECT_EQ(s.proxy_send_timeout_ms, 120'000);
    EXPECT_EQ(s.proxy_next_upstream, kNextError | kNextHttp502 | kNextNonIdempotent);
    EXPECT_FALSE(s.proxy_buffering);
    EXPECT_EQ(s.proxy_http_version, "1.1");
    EXPECT_EQ(load_ok("http { proxy_next_upstream off; }").http->settings.proxy_next_upstream, 0u);
    EXPECT_EQ(load_ok("http { expires max; }").http->settings.expires.mode, ExpiresConfig::Mode::Max);
    EXPECT_EQ(load_ok("http { expires epoch; }").http->settings.expires.mode, ExpiresConfig::Mode::Epoch);
}

TEST(Config, AccessLogOff) {
    Config c = load_ok("http { access_log off; server { location / { access_log x.log; } } }");
    EXPECT_TRUE(c.http->settings.access_log_off);
    EXPECT_TRUE(c.http->settings.access_logs.empty());
    EXPECT_TRUE(c.http->servers[0].settings.access_log_off);
    const auto& loc = c.http->servers[0].locations[0].settings;
    EXPECT_FALSE(loc.access_log_off);
    ASSERT_EQ(loc.access_logs.size(), 1u);
    EXPECT_EQ(loc.access_logs[0].path, "x.log");
}

TEST(Config, ServerLevel) {
    Config c = load_ok(in_server(
        "listen 127.0.0.1:8080 default_server reuseport backlog=128;\n"
        "listen 8081 deferred;\nlisten [::1]:8082;\nlisten [::]:8083 ipv6only=off;\nlisten localhost;\n"
        "server_name Example.COM *.example.org .example.net www.example.* ~^api\\d+\\.example\\.com$ \"\";\n"
        "try_files $uri /index.html;\nreturn 301 https://example.com$request_uri;\n"));
    const ServerConfig& s = c.http->servers[0];
    ASSERT_EQ(s.listens.size(), 5u);
    EXPECT_EQ(s.listens[0].address(), "127.0.0.1:8080");
    EXPECT_TRUE(s.listens[0].default_server);
    EXPECT_TRUE(s.listens[0].reuseport);
    EXPECT_EQ(s.listens[0].backlog, 128);
    EXPECT_FALSE(s.listens[0].deferred);
    EXPECT_EQ(s.listens[1].address(), "*:8081");
    EXPECT_TRUE(s.listens[1].deferred);
    EXPECT_EQ(s.listens[2].address(), "[::1]:8082");
    EXPECT_TRUE(s.listens[2].ipv6);
    EXPECT_EQ(s.listens[3].ipv6only, false);
    EXPECT_EQ(s.listens[4].address(), "127.0.0.1:80");
    ASSERT_EQ(s.server_names.size(), 7u);
    EXPECT_EQ(s.server_names[0].name, "example.com");
    EXPECT_EQ(s.server_names[1].kind, ServerName::Kind::LeadingWildcard);
    EXPECT_EQ(s.server_names[1].name, ".example.org");
    EXPECT_EQ(s.server_names[2].kind, ServerName::Kind::Exact);
    EXPECT_EQ(s.server_names[2].name, "example.net");
    EXPECT_EQ(s.server_names[3].kind, ServerName::Kind::LeadingWildcard);
    EXPECT_EQ(s.server_names[4].kind, ServerName::Kind::TrailingWildcard);
    EXPECT_EQ(s.server_names[4].name, "www.example.");
    EXPECT_EQ(s.server_names[5].kind, ServerName::Kind::Regex);
    EXPECT_TRUE(s.server_names[5].regex.matches("api12.example.com"));
    EXPECT_EQ(s.server_names[6].name, "");
    ASSERT_TRUE(s.try_files);
    EXPECT_EQ(s.try_files->files, std::vector<std::string>{"$uri"});
    EXPECT_EQ(s.try_files->fallback_uri, "/index.html");
    ASSERT_TRUE(s.return_);
    EXPECT_EQ(s.return_->code, 301);
    EXPECT_EQ(s.return_->text, "https://example.com$request_uri");
}

TEST(Config, Locations) {
    Config c = load_ok(in_server(
        "location / { try_files $uri =404; }\n"
        "location = /exact { return 204; }\n"
        "location ^~ /static/ { alias /data/; location /static/img/ { } }\n"
        "location ~ \\.php$ { }\n"
        "location ~* \\.PNG$ { }\n"
        "location =/glued { }\n"
        "location @fallback { return https://x.example/; }\n"
        "location /api/ { proxy_pass http://backend; }\n"
        "location /raw/ { proxy_pass http://10.0.0.1:8080/v1/; }\n"));
    const ServerConfig& s = c.http->servers[0];
    ASSERT_EQ(s.locations.size(), 8u);
    EXPECT_EQ(s.locations[0].try_files->fallback_code, 404);
    EXPECT_EQ(s.locations[1].modifier, LocationModifier::Exact);
    EXPECT_EQ(s.locations[1].return_->code, 204);
    EXPECT_EQ(s.locations[2].modifier, LocationModifier::PreferPrefix);
    EXPECT_EQ(s.locations[2].settings.alias, "/data/");
    ASSERT_EQ(s.locations[2].locations.size(), 1u);
    EXPECT_EQ(s.locations[2].locations[0].settings.alias, "/data/");  // inherited with root
    EXPECT_EQ(s.locations[3].modifier, LocationModifier::Regex);
    EXPECT_EQ(s.locations[4].modifier, LocationModifier::RegexCaseless);
    EXPECT_TRUE(s.locations[4].regex.matches("/a.png"));
    EXPECT_EQ(s.locations[5].modifier, LocationModifier::Exact);
    EXPECT_EQ(s.locations[5].pattern, "/glued");
    ASSERT_NE(s.named_location("@fallback"), nullptr);
    EXPECT_EQ(s.named_location("@fallback")->return_->code, 302);
    const auto& pp = *s.locations[6].proxy_pass;
    EXPECT_EQ(pp.host, "backend");
    EXPECT_EQ(pp.port, 80);
    EXPECT_FALSE(pp.uri);
    EXPECT_EQ(pp.upstream, "");  // no upstream{} of that name: a host name
    const auto& raw = *s.locations[7].proxy_pass;
    EXPECT_EQ(raw.host, "10.0.0.1");
    EXPECT_EQ(raw.port, 8080);
    EXPECT_EQ(raw.uri, "/v1/");
}

TEST(Config, Upstreams) {
    Config c = load_ok(
        "http {\n"
        " upstream backend { server 10.0.0.1:8080 weight=5 max_fails=3 fail_timeout=30s; server b.internal;"
        " server [::1]:9000 backup; server 10.0.0.2:81 down; keepalive 16; least_conn; }\n"
        " upstream h { server a:1; hash $request_uri consistent; }\n"
        " upstream i { server a:1; ip_hash; }\n"
        " server { location / { proxy_pass http://backend/x; } }\n"
        "}\n");
    const UpstreamConfig* u = c.http->upstream("backend");
    ASSERT_NE(u, nullptr);
    ASSERT_EQ(u->servers.size(), 4u);
    EXPECT_EQ(u->servers[0].host, "10.0.0.1");
    EXPECT_EQ(u->servers[0].port, 8080);
    EXPECT_EQ(u->servers[0].weight, 5u);
    EXPECT_EQ(u->servers[0].max_fails, 3u);
    EXPECT_EQ(u->servers[0].fail_timeout_ms, 30'000);
    EXPECT_EQ(u->servers[1].port, 80);
    EXPECT_EQ(u->servers[1].fail_timeout_ms, 10'000);
    EXPECT_EQ(u->servers[2].host, "::1");
    EXPECT_TRUE(u->servers[2].backup);
    EXPECT_TRUE(u->servers[3].down);
    EXPECT_EQ(u->keepalive, 16u);
    EXPECT_EQ(u->method, BalanceMethod::LeastConn);
    EXPECT_EQ(c.http->upstream("h")->method, BalanceMethod::Hash);
    EXPECT_EQ(c.http->upstream("h")->hash_key, "$request_uri");
    EXPECT_TRUE(c.http->upstream("h")->hash_consistent);
    EXPECT_EQ(c.http->upstream("i")->method, BalanceMethod::IpHash);
    EXPECT_EQ(c.http->servers[0].locations[0].proxy_pass->upstream, "backend");
}

TEST(Config, InheritanceOfScalars) {
    Config ok = load_ok(
        "http { root /h; keepalive_timeout 10s; sendfile on;\n"
        " server { root /s;\n"
        "  location /a { keepalive_timeout 5s; location /a/b { sendfile off; } }\n"
        "  location /c { }\n"
        " }\n"
        " server { }\n"
        " client_max_body_size 5m;\n"  // after the servers: still inherited, as in nginx
        "}\n");
    const auto& s1 = ok.http->servers[0];
    EXPECT_EQ(s1.settings.root, "/s");
    EXPECT_EQ(s1.settings.keepalive_timeout_ms, 10'000);
    EXPECT_EQ(s1.settings.client_max_body_size, 5 * 1024 * 1024);
    const auto& a = s1.locations[0];
    EXPECT_EQ(a.settings.root, "/s");
    EXPECT_EQ(a.settings.keepalive_timeout_ms, 5'000);
    EXPECT_TRUE(a.settings.sendfile);
    const auto& ab = a.locations[0];
    EXPECT_EQ(ab.settings.keepalive_timeout_ms, 5'000);
    EXPECT_FALSE(ab.settings.sendfile);
    EXPECT_EQ(ab.settings.root, "/s");
    EXPECT_EQ(s1.locations[1].settings.keepalive_timeout_ms, 10'000);
    EXPECT_EQ(ok.http->servers[1].settings.root, "/h");
    EXPECT_TRUE(s1.settings.is_set("root"));
    EXPECT_FALSE(s1.settings.is_set("sendfile"));
}

TEST(Config, InheritanceOfArraysFollowsNginx) {
    Config c = load_ok(
        "http { add_header A 1; add_header B 2; error_page 404 /404.html; proxy_set_header X 1;\n"
        " server {\n"
        "  location /inherit { }\n"
        "  location /replace { add_header C 3; }\n"
        "  location /nested { error_page 500 /500.html; location /nested/deeper { } }\n"
        " }\n"
        "}\n");
    const auto& s = c.http->servers[0];
    EXPECT_EQ(s.settings.add_headers.size(), 2u);
    EXPECT_EQ(s.locations[0].settings.add_headers.size(), 2u);
    ASSERT_EQ(s.locations[1].settings.add_headers.size(), 1u);  // none of A, B
    EXPECT_EQ(s.locations[1].settings.add_headers[0].name, "C");
    EXPECT_EQ(s.locations[1].settings.error_pages.size(), 1u);
    EXPECT_EQ(s.locations[1].settings.proxy_set_headers.size(), 1u);
    const auto& deeper = s.locations[2].locations[0].settings;
    ASSERT_EQ(deeper.error_pages.size(), 1u);
    EXPECT_EQ(deeper.error_pages[0].codes, std::vector<int>{500});
    EXPECT_EQ(deeper.add_headers.size(), 2u);
}

TEST(Config, TypesInheritAndEmptyTypesClears) {
    Config c = load_ok("http { types { text/html html; } server { location /x { types { } } location /y { } } }");
    const auto& s = c.http->servers[0];
    EXPECT_EQ(s.settings.mime_type("html"), "text/html");
    EXPECT_EQ(s.locations[0].settings.mime_type("html"), "text/plain");
    EXPECT_EQ(s.locations[1].settings.mime_type("html"), "text/html");
}

TEST(Config, RootAndAliasResetEachOtherWhenInherited) {
    Config c = load_ok(in_server("location /a/ { alias /x/; location /a/b/ { root /y; } }"));
    const auto& inner = c.http->servers[0].locations[0].locations[0].settings;
    EXPECT_EQ(inner.root, "/y");
    EXPECT_FALSE(inner.alias);
}

TEST(Config, ExtraDirectivesFromTheCommandLine) {
    test::TempDir dir;
    std::string path = dir.write("r.conf", "worker_processes 2;\n");
    auto r = load_file(path, {"daemon off; pid /tmp/x.pid;"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->main.daemon);
    EXPECT_EQ(r->main.pid, "/tmp/x.pid");
    ASSERT_EQ(r->files.size(), 1u);  // -g text is not listed by -T
    auto dup = load_file(path, {"worker_processes 3;"});
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().rfind(path + ":1:1: \"worker_processes\" directive is duplicate: it was already set at command line:1:1", 0), 0u)
        << dup.error();
    auto bad = load_file(path, {"http {"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().rfind("command line:1:7: unexpected end of file", 0), 0u) << bad.error();
}

TEST(Config, LoadFileErrorsNameThePath) {
    auto r = load_file("/nonexistent/riptide.conf");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("/nonexistent/riptide.conf:1:1: cannot open", 0), 0u) << r.error();
}

TEST(Config, DumpPrintsEveryFile) {
    test::TempDir dir;
    dir.write("inc.conf", "worker_processes 2;");
    std::string path = dir.write("main.conf", "include inc.conf;\n");
    auto r = load_file(path);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(dump(*r), "# configuration file " + path + ":\ninclude inc.conf;\n\n# configuration file " +
                            dir.path() + "/inc.conf:\nworker_processes 2;\n\n");
}

TEST(Config, ResolvePath) {
    EXPECT_EQ(resolve_path("/usr/local/riptide", "logs/a.log"), "/usr/local/riptide/logs/a.log");
    EXPECT_EQ(resolve_path("/p/", "www"), "/p/www");
    EXPECT_EQ(resolve_path("/p", "/abs"), "/abs");
}

}  // namespace
}  // namespace riptide::config
