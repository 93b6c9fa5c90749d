#include "http/mime.hpp"

#include "core/strings.hpp"
#include "http/path.hpp"

namespace riptide::http {

namespace {
const char* const kBuiltin[][2] = {
    {"html", "text/html"}, {"htm", "text/html"}, {"shtml", "text/html"}, {"css", "text/css"},
    {"xml", "text/xml"}, {"gif", "image/gif"}, {"jpeg", "image/jpeg"}, {"jpg", "image/jpeg"},
    {"js", "application/javascript"}, {"mjs", "application/javascript"}, {"atom", "application/atom+xml"},
    {"rss", "application/rss+xml"}, {"txt", "text/plain"}, {"md", "text/markdown"}, {"csv", "text/csv"},
    {"png", "image/png"}, {"svg", "image/svg+xml"}, {"svgz", "image/svg+xml"}, {"webp", "image/webp"},
    {"avif", "image/avif"}, {"ico", "image/x-icon"}, {"bmp", "image/x-ms-bmp"}, {"tif", "image/tiff"},
    {"tiff", "image/tiff"}, {"jng", "image/x-jng"}, {"woff", "font/woff"}, {"woff2", "font/woff2"},
    {"ttf", "font/ttf"}, {"otf", "font/otf"}, {"eot", "application/vnd.ms-fontobject"},
    {"json", "application/json"}, {"map", "application/json"}, {"wasm", "application/wasm"},
    {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
    {"tar", "application/x-tar"}, {"7z", "application/x-7z-compressed"}, {"rar", "application/x-rar-compressed"},
    {"rtf", "application/rtf"}, {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"jar", "application/java-archive"}, {"war", "application/java-archive"}, {"ear", "application/java-archive"},
    {"apk", "application/vnd.android.package-archive"}, {"xhtml", "application/xhtml+xml"},
    {"ics", "text/calendar"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"m4a", "audio/x-m4a"},
    {"wav", "audio/wav"}, {"flac", "audio/flac"}, {"mp4", "video/mp4"}, {"m4v", "video/x-m4v"},
    {"webm", "video/webm"}, {"mpeg", "video/mpeg"}, {"mpg", "video/mpeg"}, {"mov", "video/quicktime"},
    {"avi", "video/x-msvideo"}, {"flv", "video/x-flv"}, {"wmv", "video/x-ms-wmv"}, {"ts", "video/mp2t"},
    {"m3u8", "application/vnd.apple.mpegurl"}, {"bin", "application/octet-stream"},
    {"exe", "application/octet-stream"}, {"dll", "application/octet-stream"}, {"deb", "application/octet-stream"},
    {"dmg", "application/octet-stream"}, {"iso", "application/octet-stream"}, {"img", "application/octet-stream"},
    {"msi", "application/octet-stream"}, {"webmanifest", "application/manifest+json"},
};
}  // namespace

MimeTypes::MimeTypes() {
    for (const auto& e : kBuiltin) by_ext_.emplace(e[0], e[1]);
}

void MimeTypes::add(std::string_view ext, std::string_view type) {
    std::string k;
    for (char c : ext) k.push_back(core::ascii_lower(c));
    by_ext_[k] = std::string(type);
}

std::string_view MimeTypes::lookup(std::string_view path) const {
    std::string_view ext = extension_of(path);
    if (ext.empty() || ext.size() > 16) return default_type_;
    char lower[16];
    for (size_t i = 0; i < ext.size(); ++i) lower[i] = core::ascii_lower(ext[i]);
    auto it = by_ext_.find(std::string(lower, ext.size()));
    return it == by_ext_.end() ? std::string_view(default_type_) : std::string_view(it->second);
}

}  // namespace riptide::http
