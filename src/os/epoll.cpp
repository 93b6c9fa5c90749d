#include "os/epoll.hpp"

#include <cerrno>

namespace riptide::os {

core::Result<Epoll, SysError> Epoll::create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return core::Unexpected(last_error("epoll_create1"));
    return Epoll(UniqueFd(fd));
}

int Epoll::add(int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    return ::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

int Epoll::modify(int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    return ::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : errno;
}

int Epoll::remove(int fd) { return ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : errno; }

int Epoll::wait(epoll_event* events, int max, int timeout_ms) {
    int n = ::epoll_wait(fd_.get(), events, max, timeout_ms);
    if (n >= 0) return n;
    if (errno == EINTR) return 0;
    return -errno;
}

}  // namespace riptide::os
