#include "http/response.hpp"

#include <cstring>
#include <map>

#include "core/strings.hpp"

namespace riptide::http {

std::string_view status_reason(int s) {
    switch (s) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Moved Temporarily";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Time-out";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Requested Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Temporarily Unavailable";
        case 504: return "Gateway Time-out";
        case 505: return "HTTP Version Not Supported";
        default: return "";
    }
}

void append_status_line(std::string& out, int status) {
    if (status == 200) {
        out += "HTTP/1.1 200 OK\r\n";
        return;
    }
    out += "HTTP/1.1 ";
    core::append_decimal(out, static_cast<uint64_t>(status));
    out += ' ';
    std::string_view r = status_reason(status);
    out += r.empty() ? std::string_view("Unknown") : r;
    out += "\r\n";
}

std::string_view error_page_body(int status, bool server_tokens) {
    // Built once per status; the bodies follow nginx's layout so that tools and people
    // who know it recognise them (with the version when server_tokens is on, as nginx).
    static std::map<int, std::string> pages;
    if (status < 300 || status == 304) return {};
    int key = server_tokens ? status + 1000 : status;
    auto it = pages.find(key);
    if (it != pages.end()) return it->second;
    const char* tokens = server_tokens ? "riptide/" RIPTIDE_VERSION : "riptide";
    if (status == 494) {
        // nginx's answer to a header line too long for its buffers: a 400 with this page
        std::string body = std::string("<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n"
                                       "<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
                                       "<center>Request Header Or Cookie Too Large</center>\r\n<hr><center>") +
                           tokens + "</center>\r\n</body>\r\n</html>\r\n";
        return pages.emplace(key, std::move(body)).first->second;
    }
    std::string title;
    core::append_decimal(title, static_cast<uint64_t>(status));
    title += ' ';
    // nginx's pages say "302 Found" where its status line says "Moved Temporarily"
    title += status == 302 ? std::string_view("Found") : status_reason(status);
    std::string body = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
                       "</h1></center>\r\n<hr><center>" + std::string(tokens) +
                       "</center>\r\n</body>\r\n</html>\r\n";
    return pages.emplace(key, std::move(body)).first->second;
}

void DateCache::update(int64_t t) {
    std::memcpy(buf_, "Date: ", 6);
    core::format_http_date(t, buf_ + 6);
    buf_[6 + core::kHttpDateLen] = '\r';
    buf_[7 + core::kHttpDateLen] = '\n';
}

}  // namespace riptide::http
