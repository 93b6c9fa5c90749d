// nginx configurations as distributions ship them load: tuning knobs and features riptide
// lacks are accepted with a warning (never silently), security-relevant ones stay errors.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace riptide::config;
using namespace riptide::config::test;

TEST(Compat, DebianDefaultConfigLoadsWithWarnings) {
    Config c = load_ok(
        "user www-data;\nworker_processes auto;\nevents { worker_connections 768; }\n"
        "http {\n  sendfile on;\n  tcp_nopush on;\n  types_hash_max_size 2048;\n"
        "  default_type application/octet-stream;\n  ssl_protocols TLSv1.2 TLSv1.3;\n"
        "  ssl_prefer_server_ciphers on;\n  access_log /var/log/nginx/access.log;\n"
        "  error_log /var/log/nginx/error.log;\n  gzip on;\n"
        "  server { listen 80 default_server; root /var/www/html; index index.html index.htm; server_name _;\n"
        "    location / { try_files $uri $uri/ =404; } }\n}\n");
    EXPECT_EQ(c.main.user, "www-data");
    EXPECT_TRUE(c.main.group.empty());
    ASSERT_EQ(c.main.error_logs.size(), 1u);  // error_log in http applies process-wide
    EXPECT_EQ(c.main.error_logs[0].path, "/var/log/nginx/error.log");
    ASSERT_EQ(c.warnings.size(), 4u);
    EXPECT_EQ(c.warnings[0].rfind("t.conf:7:3: \"types_hash_max_size\" has no effect", 0), 0u) << c.warnings[0];
    EXPECT_NE(c.warnings[3].find("\"gzip\""), std::string::npos);
}

TEST(Compat, CharsetIsInherited) {
    Config c = load_ok("http { charset utf-8; server { listen 80; location /a/ { charset off; } location /b/ { } } }");
    const ServerConfig& s = c.http->servers[0];
    EXPECT_EQ(s.settings.charset, "utf-8");
    EXPECT_EQ(s.locations[0].settings.charset, "");
    EXPECT_EQ(s.locations[1].settings.charset, "utf-8");
}

TEST(Compat, AccessRules) {
    Config c = load_ok("http { deny 10.0.0.0/8; server { listen 80; location /a/ { allow 127.0.0.1; allow ::1; deny all; }"
                       " location /b/ { } } }");
    const ServerConfig& s = c.http->servers[0];
    ASSERT_EQ(s.locations[0].settings.access.size(), 3u);  // its own list replaces the inherited one
    EXPECT_TRUE(s.locations[0].settings.access[0].allow);
    EXPECT_EQ(s.locations[0].settings.access[0].prefix, 32u);
    EXPECT_EQ(s.locations[0].settings.access[1].prefix, 128u);
    EXPECT_TRUE(s.locations[0].settings.access[2].all);
    ASSERT_EQ(s.locations[1].settings.access.size(), 1u);  // inherited
    EXPECT_EQ(s.locations[1].settings.access[0].prefix, 8u);
    EXPECT_NE(load_error("http { server { listen 80; deny 10.0.0.0/33; } }").find("t.conf:1:33: invalid prefix length"),
              std::string::npos);
    EXPECT_NE(load_error("http { server { listen 80; allow nobody; } }").find("invalid address"), std::string::npos);
}

TEST(Compat, AccessControlIsNeverIgnored) {
    // Ignoring these would serve what nginx refuses: they must stay errors.
    for (const char* d : {"auth_basic \"x\";", "limit_rate 10k;", "rewrite ^ /x;", "satisfy any;"}) {
        std::string e = load_error(std::string("http { server { listen 80; location / { ") + d + " } } }");
        EXPECT_NE(e.find("unknown directive"), std::string::npos) << d << ": " << e;
    }
}

TEST(Errors, RegexErrorStaysOnOneLine) {
    // Found by config_fuzz: a bad regex with a raw newline in it broke the one-line rule.
    std::string e = load_error("http { server { listen 80; server_name \"~^a\nb(\"; } }");
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_NE(e.find("\\n"), std::string::npos) << e;
}
