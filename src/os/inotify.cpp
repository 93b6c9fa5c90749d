#include "os/inotify.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace riptide::os {

int inotify_open() {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int inotify_watch_directory(int ifd, const std::string& path) {
    uint32_t mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
    int wd = ::inotify_add_watch(ifd, path.c_str(), mask);
    return wd >= 0 ? wd : -errno;
}

void inotify_drain(int ifd, std::vector<int>& wds) {
    alignas(inotify_event) char buf[16384];
    for (;;) {
        ssize_t n = ::read(ifd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return;
        }
        for (ssize_t off = 0; off < n;) {
            inotify_event ev;
            std::memcpy(&ev, buf + off, sizeof ev);
            wds.push_back((ev.mask & IN_Q_OVERFLOW) ? -1 : ev.wd);
            off += static_cast<ssize_t>(sizeof ev + ev.len);
        }
    }
}

std::string path_beneath_fd(int dir_fd, const std::string& rel) {
    std::string p = "/proc/self/fd/" + std::to_string(dir_fd);
    if (!rel.empty()) {
        p += '/';
        p += rel;
    }
    return p;
}

}  // namespace riptide::os
