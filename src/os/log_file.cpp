#include "os/log_file.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace riptide::os {

int open_log_file(const std::string& path) {
    if (path == "stderr") return 2;
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : -errno;
}

int append_to_log(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return 0;
}

std::string format_ip(int family, const unsigned char* addr) {
    char buf[INET6_ADDRSTRLEN] = "";
    ::inet_ntop(family, addr, buf, sizeof buf);
    return buf;
}

std::string host_name() {
    char buf[256] = "";
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

}  // namespace riptide::os
