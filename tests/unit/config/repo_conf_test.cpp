// The example configuration and MIME table shipped in conf/ must load.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/location_match.hpp"
#include "test_util.hpp"

namespace riptide::config {
namespace {

TEST(RepoConf, ExampleConfigLoads) {
    const std::string path = test::source_root() + "/conf/riptide.conf";
    auto r = load_file(path);
    ASSERT_TRUE(r) << r.error();
    const Config& c = *r;
    EXPECT_TRUE(c.main.worker_processes_auto);
    ASSERT_TRUE(c.http);
    const auto& http = *c.http;
    EXPECT_EQ(http.settings.default_type, "application/octet-stream");
    EXPECT_TRUE(http.settings.sendfile);
    EXPECT_EQ(http.settings.keepalive_timeout_ms, 65'000);
    ASSERT_EQ(http.servers.size(), 1u);
    const auto& s = http.servers[0];
    EXPECT_EQ(s.listens.at(0).address(), "127.0.0.1:8080");
    EXPECT_EQ(s.settings.root, "www");
    EXPECT_EQ(s.settings.mime_type("css"), "text/css");
    EXPECT_EQ(s.settings.access_logs.at(0).format, "main");
    const LocationConfig* loc = match_location(s, "/index.html");
    ASSERT_NE(loc, nullptr);
    EXPECT_EQ(loc->pattern, "/");
    ASSERT_EQ(c.files.size(), 2u);
    EXPECT_EQ(c.files[1].path, test::source_root() + "/conf/mime.types");
    EXPECT_NE(dump(c).find("# configuration file " + path + ":\n"), std::string::npos);
}

TEST(RepoConf, MimeTypesCoverTheCommonWebTypes) {
    const std::string path = test::source_root() + "/conf/mime.types";
    auto r = load_string("http { include " + path + "; }", "t.conf", ".");
    ASSERT_TRUE(r) << r.error();
    const Settings& s = r->http->settings;
    const std::pair<const char*, const char*> expected[] = {
        {"html", "text/html"}, {"htm", "text/html"}, {"shtml", "text/html"}, {"css", "text/css"},
        {"xml", "text/xml"}, {"gif", "image/gif"}, {"jpeg", "image/jpeg"}, {"jpg", "image/jpeg"},
        {"js", "application/javascript"}, {"mjs", "application/javascript"}, {"json", "application/json"},
        {"atom", "application/atom+xml"}, {"rss", "application/rss+xml"}, {"txt", "text/plain"},
        {"png", "image/png"}, {"svg", "image/svg+xml"}, {"svgz", "image/svg+xml"}, {"webp", "image/webp"},
        {"ico", "image/x-icon"}, {"avif", "image/avif"}, {"bmp", "image/bmp"}, {"tif", "image/tiff"},
        {"tiff", "image/tiff"}, {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"},
        {"otf", "font/otf"}, {"eot", "application/vnd.ms-fontobject"}, {"pdf", "application/pdf"},
        {"zip", "application/zip"}, {"gz", "application/gzip"}, {"tar", "application/x-tar"},
        {"wasm", "application/wasm"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"m4a", "audio/x-m4a"},
        {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mpeg", "video/mpeg"}, {"mov", "video/quicktime"},
        {"avi", "video/x-msvideo"}, {"flv", "video/x-flv"}, {"7z", "application/x-7z-compressed"},
        {"rar", "application/x-rar-compressed"}, {"rtf", "application/rtf"}, {"doc", "application/msword"},
        {"xls", "application/vnd.ms-excel"}, {"ppt", "application/vnd.ms-powerpoint"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
        {"csv", "text/csv"}, {"md", "text/markdown"}, {"ics", "text/calendar"},
        {"apk", "application/vnd.android.package-archive"}, {"jar", "application/java-archive"},
        {"war", "application/java-archive"}, {"ear", "application/java-archive"},
        {"bin", "application/octet-stream"}, {"exe", "application/octet-stream"},
        {"dll", "application/octet-stream"}, {"iso", "application/octet-stream"},
        {"img", "application/octet-stream"}, {"deb", "application/octet-stream"},
        {"dmg", "application/octet-stream"}, {"msi", "application/octet-stream"},
    };
    for (auto [ext, type] : expected) EXPECT_EQ(s.mime_type(ext), type) << ext;
    EXPECT_EQ(s.mime_type("JPG"), "image/jpeg");
}

}  // namespace
}  // namespace riptide::config
