// The head of an upstream's response (RFC 9112 § 4): status line and fields. The whole
// head is in one buffer (bounded), so it is parsed in one pass once its end is there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace riptide::http {

struct UpstreamResponse {
    int status = 0;
    int version_minor = 1;
    std::string_view reason;
    std::vector<HeaderField> headers;
    size_t head_size = 0;
    bool chunked = false;
    bool has_length = false;
    uint64_t content_length = 0;
    bool keep_alive = true;   // the upstream lets the connection be reused
    bool upgrade = false;     // 101 with Upgrade
};

enum class ResponseParse { incomplete, complete, error };

// Parses p[0..n). `max_head` bounds the head; past it: error.
ResponseParse parse_response_head(const char* p, size_t n, size_t max_head, UpstreamResponse& out);

// Hop-by-hop fields (RFC 9110 § 7.6.1) that a proxy never forwards, plus the names
// listed in a Connection field.
bool is_hop_by_hop(std::string_view name);
bool listed_in_connection(std::string_view connection_value, std::string_view name);

}  // namespace riptide::http
