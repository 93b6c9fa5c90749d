// Errors from the kernel, captured right after the call that set errno.
#pragma once

#include <string>

namespace riptide::os {

struct SysError {
    int code = 0;
    std::string what;  // "bind(127.0.0.1:80): Address already in use"
};

std::string errno_text(int code);
// Builds a SysError from the current errno; call right after the failing call.
SysError last_error(std::string what);

}  // namespace riptide::os
