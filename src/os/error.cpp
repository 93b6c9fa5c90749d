#include "os/error.hpp"

#include <cerrno>
#include <cstring>

namespace riptide::os {

std::string errno_text(int code) { return std::strerror(code); }

SysError last_error(std::string what) {
    int e = errno;
    return SysError{e, what + ": " + std::strerror(e)};
}

}  // namespace riptide::os
