// A parsed request: views into the connection's read buffer, valid until the request's
// bytes are consumed.
#pragma once

#include <cstdint>
#include <string_view>

namespace riptide::http {

enum class Method : uint8_t { get, head, post, put, delete_, options, trace, connect, patch, other };

struct HeaderField {
    std::string_view name;
    std::string_view value;
};

struct Request {
    Method method = Method::other;
    std::string_view method_name;
    std::string_view target;  // as sent
    std::string_view path;    // origin-form path (for absolute-form: the path part), before '?'
    std::string_view query;   // after '?', without it; empty when none
    bool has_query = false;
    int version_minor = 1;    // HTTP/1.x
    std::string_view host;    // from the absolute-form target, else the Host field; no port stripping
    bool keep_alive = true;
    bool chunked = false;
    uint64_t content_length = 0;  // when !chunked
    bool expect_continue = false;
    std::string_view if_none_match, if_modified_since, if_match, if_unmodified_since;
    std::string_view range, if_range;
    std::string_view user_agent, referer, authorization;
    const HeaderField* headers = nullptr;
    uint32_t header_count = 0;
    uint32_t header_bytes = 0;  // size of the request line + header section

    bool has_body() const { return chunked || content_length > 0; }
    // First field with that name (case-insensitive), empty when absent.
    std::string_view header(std::string_view name) const;
};

std::string_view method_text(Method m);

}  // namespace riptide::http
