// The master process: opens the listening sockets, forks the workers, respawns one that
// crashes, and turns signals into orders for the workers (stop, graceful stop, reload,
// reopen logs).
#pragma once

#include <functional>
#include <string>

#include "core/result.hpp"
#include "process/runtime.hpp"

namespace riptide::process {

enum class AcceptMode { reuseport, exclusive };

struct MasterOptions {
    AcceptMode accept_mode = AcceptMode::reuseport;
    // Loads the configuration again for SIGHUP; empty: reload restarts the workers with
    // the same runtime.
    std::function<core::Result<Runtime, std::string>()> reload;
};

// Opens the sockets and runs until stopped. Returns the process exit code.
int run_master(Runtime runtime, const MasterOptions& opts);

}  // namespace riptide::process
