// The epoll instance of one worker.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "core/result.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace riptide::os {

class Epoll {
public:
    static core::Result<Epoll, SysError> create();

    // Returns 0 or errno.
    int add(int fd, uint32_t events, uint64_t data);
    int modify(int fd, uint32_t events, uint64_t data);
    int remove(int fd);
    // Blocks up to timeout_ms (-1: forever). Returns the number of events, 0 on timeout or
    // EINTR, or -errno.
    int wait(epoll_event* events, int max, int timeout_ms);
    int fd() const { return fd_.get(); }

private:
    explicit Epoll(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace riptide::os
