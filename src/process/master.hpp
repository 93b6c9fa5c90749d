// The master process: opens the listening sockets, forks the workers, respawns one that
// crashes, and turns signals into orders for the workers (stop, graceful stop, reload).
#pragma once

#include <string>
#include <vector>

#include "http/settings.hpp"
#include "os/socket.hpp"

namespace riptide::process {

enum class AcceptMode { reuseport, exclusive };

struct ListenSpec {
    os::SocketAddress address;
    os::ListenOptions options;
};

struct MasterOptions {
    std::vector<ListenSpec> listen;
    int workers = 1;
    AcceptMode accept_mode = AcceptMode::reuseport;
    std::string pid_file;  // empty: none
};

// Opens the sockets and runs until stopped. Returns the process exit code.
int run_master(const MasterOptions& opts, const http::Settings& settings);

}  // namespace riptide::process
