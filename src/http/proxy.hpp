// The reverse proxy: a request for a location with proxy_pass is sent to an upstream
// server chosen by the group's balancing method, over a non-blocking connection registered
// once on the worker's loop (or taken from the keep-alive pool), and the response streams
// back to the client with bounded buffers in both directions.
#pragma once

#include "http/exchange.hpp"

namespace riptide::http {

class Proxy {
public:
    // Starts proxying ex's request (the location has proxy_pass). The connection is then
    // answered asynchronously; on failure before anything was sent, an error response.
    static void start(Exchange& ex);
};

}  // namespace riptide::http
