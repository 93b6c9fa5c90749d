// A worker process: one loop, one epoll, the HTTP server on the inherited listening sockets.
#pragma once

#include <vector>

#include "http/server.hpp"
#include "http/settings.hpp"

namespace riptide::process {

// Runs the worker's loop until it is told to stop; returns the exit code.
int run_worker(const http::Settings& settings, const std::vector<http::Server::ListenSocket>& sockets);

}  // namespace riptide::process
