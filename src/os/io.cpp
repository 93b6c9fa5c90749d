#include "os/io.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace riptide::os {

bool IoResult::would_block() const { return err == EAGAIN || err == EWOULDBLOCK; }

IoResult recv_some(int fd, char* buf, size_t len) {
    for (;;) {
        ssize_t n = ::recv(fd, buf, len, 0);
        if (n >= 0) return {n, 0};
        if (errno == EINTR) continue;
        return {0, errno};
    }
}

IoResult write_vec(int fd, const struct iovec* iov, int iovcnt, bool more) {
    for (;;) {
        ssize_t n;
        if (more) {
            struct msghdr msg {};
            msg.msg_iov = const_cast<struct iovec*>(iov);
            msg.msg_iovlen = static_cast<size_t>(iovcnt);
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_MORE);
        } else if (iovcnt == 1) {
            n = ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else {
            struct msghdr msg {};
            msg.msg_iov = const_cast<struct iovec*>(iov);
            msg.msg_iovlen = static_cast<size_t>(iovcnt);
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        }
        if (n >= 0) return {n, 0};
        if (errno == EINTR) continue;
        return {0, errno};
    }
}

IoResult send_file(int out_fd, int in_fd, uint64_t offset, size_t len) {
    for (;;) {
        off_t off = static_cast<off_t>(offset);
        ssize_t n = ::sendfile(out_fd, in_fd, &off, len);
        if (n >= 0) return {n, 0};
        if (errno == EINTR) continue;
        return {0, errno};
    }
}

IoResult pread_some(int fd, char* buf, size_t len, uint64_t offset) {
    for (;;) {
        ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(offset));
        if (n >= 0) return {n, 0};
        if (errno == EINTR) continue;
        return {0, errno};
    }
}

void shutdown_write(int fd) { ::shutdown(fd, SHUT_WR); }

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace riptide::os
