// Response heads and the small generated bodies (error pages, redirects).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_date.hpp"

namespace riptide::http {

std::string_view status_reason(int status);
// "HTTP/1.1 404 Not Found\r\n"
void append_status_line(std::string& out, int status);
// nginx-style HTML body for an error or redirect status; empty for statuses without one.
std::string_view error_page_body(int status, bool server_tokens = false);

// "Date: <IMF-fixdate>\r\n", rebuilt once a second by the worker.
class DateCache {
public:
    void update(int64_t unix_seconds);
    std::string_view header() const { return {buf_, sizeof buf_}; }
    std::string_view date() const { return {buf_ + 6, core::kHttpDateLen}; }

private:
    char buf_[6 + core::kHttpDateLen + 2] = {};
};

}  // namespace riptide::http
