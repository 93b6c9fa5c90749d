// What one worker's HTTP side needs to know, resolved from the command line or the
// configuration file before the workers start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/mime.hpp"
#include "http/parser.hpp"
#include "os/fd.hpp"

namespace riptide::http {

struct Site {
    std::string root;        // as configured, for messages
    int root_fd = -1;        // O_PATH directory, owned by the master's Settings
    std::vector<std::string> index{"index.html"};
};

struct Settings {
    Site site;
    MimeTypes mime;
    ParserLimits parser;
    uint64_t keepalive_timeout_ms = 75000;
    uint32_t keepalive_requests = 1000;
    uint64_t client_header_timeout_ms = 60000;
    uint64_t client_body_timeout_ms = 60000;
    uint64_t send_timeout_ms = 60000;
    uint64_t lingering_timeout_ms = 5000;
    uint64_t lingering_time_ms = 30000;
    uint64_t client_max_body_size = 1024 * 1024;  // 0: no limit
    uint32_t client_header_buffer_size = 1024;
    uint32_t max_ranges = 64;
    uint32_t worker_connections = 10240;
    uint64_t open_file_cache_valid_ms = 1000;
    bool server_tokens = true;
};

}  // namespace riptide::http
