// From a loaded configuration to what the master and the workers run with: resolved
// paths, opened document roots, listen groups, limits.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "http/settings.hpp"

namespace riptide::process {

struct Runtime {
    std::shared_ptr<http::Settings> settings;
    int workers = 1;
    std::string pid_file;                  // resolved; empty: none
    std::string error_log;                 // resolved path or "stderr"
    core::LogLevel error_level = core::LogLevel::notice;
    long rlimit_nofile = 0;                // 0: as high as the hard limit allows
};

// Builds the runtime. Roots that cannot be opened are logged (requests under them get
// 404, as nginx does) but are not an error.
core::Result<Runtime, std::string> make_runtime(std::shared_ptr<const config::Config> cfg, const std::string& prefix,
                                                bool quick_start);

// Closes the document-root descriptors a runtime opened (after a reload retired it).
void release_runtime(Runtime& rt);

}  // namespace riptide::process
