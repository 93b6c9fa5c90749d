// One request being answered: the request, where routing took it (server, location,
// effective settings, current URI after internal redirects) and what was answered (for
// the access log).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/request.hpp"

namespace riptide::http {

class Connection;

struct Exchange {
    Exchange(Connection& conn, const Request& req) : c(conn), r(req) {}

    Connection& c;
    const Request& r;
    const config::ServerConfig* server = nullptr;
    const config::LocationConfig* location = nullptr;  // nullptr: the server level applies
    const config::Settings* cfg = nullptr;             // effective settings
    std::string uri;          // normalized, percent-decoded path; changes on internal redirect
    std::string args;         // query string of the current URI
    bool has_args = false;
    bool head = false;        // HEAD: headers only
    bool keep_alive = true;
    int redirects = 0;        // internal redirects so far (bounded)
    int override_status = 0;  // error_page ... =code / the original error for a served page
    bool in_error_page = false;
    std::vector<std::string> captures;  // $1..$9 of the regex location that matched

    // Outcome, for the log.
    int status = 0;
    uint64_t body_bytes = 0;
    bool close_now = false;   // `return 444`: close without a response
    bool async = false;       // answered later by an async handler (the proxy)
    std::string upstream_addr;  // for $upstream_addr and friends
    int upstream_status = 0;
    uint64_t upstream_ms = 0;
    uint64_t start_ms = 0;      // loop time when the request was read (for $request_time)
};

}  // namespace riptide::http
