// Non-blocking I/O on sockets and files. Each call returns bytes done, or an error code
// where would-block is its own value, not an error.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace riptide::os {

struct IoResult {
    ssize_t n = 0;  // bytes, when ok
    int err = 0;    // 0 when ok
    bool ok() const { return err == 0; }
    bool would_block() const;
};

IoResult recv_some(int fd, char* buf, size_t len);
// writev, or sendmsg with MSG_MORE when `more` (the body follows through sendfile).
IoResult write_vec(int fd, const struct iovec* iov, int iovcnt, bool more);
IoResult send_file(int out_fd, int in_fd, uint64_t offset, size_t len);
IoResult pread_some(int fd, char* buf, size_t len, uint64_t offset);
void shutdown_write(int fd);
// Writes all of s to a blocking fd (logs, stderr); gives up on error.
void write_all(int fd, std::string_view s);

}  // namespace riptide::os
