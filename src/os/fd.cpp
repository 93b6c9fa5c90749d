#include "os/fd.hpp"

#include <unistd.h>

namespace riptide::os {

void close_fd(int fd) {
    if (fd >= 0) ::close(fd);
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

}  // namespace riptide::os
