// The static file handler: path mapping beneath the root, index files, redirects for
// directories, conditional requests, byte ranges; the body goes out as borrowed memory
// (small cached files) or as a sendfile range.
#pragma once

#include "http/request.hpp"

namespace riptide::http {

class Connection;

class StaticHandler {
public:
    // Appends the whole response for r to the connection's output.
    static void serve(Connection& c, const Request& r, bool keep_alive);
    // An error or redirect response with an nginx-style body.
    static void respond_error(Connection& c, const Request* r, int status, bool keep_alive,
                              std::string_view extra_headers = {});
};

}  // namespace riptide::http
