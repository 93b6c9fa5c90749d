// The error log of this process: a file (or stderr) that core's log lines go to.
#pragma once

#include <string>

#include "core/log.hpp"

namespace riptide::process {

// Opens path ("stderr" for standard error) and sends log lines there. Returns "" or an error.
std::string open_error_log(const std::string& path, core::LogLevel level);
// Reopens the same path (after logrotate renamed it).
void reopen_error_log();

}  // namespace riptide::process
