#include "net/listener.hpp"

#include <sys/epoll.h>

#include <cerrno>

#include "core/log.hpp"

namespace riptide::net {

namespace {
constexpr uint64_t kAcceptPauseMs = 100;
}

Listener::Listener(event::Loop& loop, int fd, bool exclusive, Acceptor& acceptor, void* ctx)
    : loop_(loop), fd_(fd), exclusive_(exclusive), acceptor_(acceptor), ctx_(ctx) {
    resume_timer_.set_callback(&Listener::on_resume, this);
}

Listener::~Listener() { stop(); }

bool Listener::start() {
    if (active_) return true;
    // Level-triggered: with several workers on one socket EPOLLEXCLUSIVE wakes one of them.
    uint32_t ev = EPOLLIN | (exclusive_ ? EPOLLEXCLUSIVE : 0u);
    int err = loop_.add(fd_, ev, this);
    if (err != 0) {
        core::logf(core::LogLevel::alert, "epoll_ctl(ADD, listener %d) failed: errno %d", fd_, err);
        return false;
    }
    active_ = true;
    return true;
}

void Listener::stop() {
    loop_.cancel(resume_timer_);
    if (!active_) return;
    loop_.remove(fd_);
    active_ = false;
}

void Listener::on_resume(void* self) { static_cast<Listener*>(self)->start(); }

void Listener::on_event(uint32_t) {
    for (bool first = true;; first = false) {
        os::SocketAddress peer;
        int fd = os::accept_connection(fd_, &peer);
        if (fd >= 0) {
            acceptor_.on_accept(fd, peer, ctx_, first);
            continue;
        }
        int err = -fd;
        if (err == EAGAIN || err == EWOULDBLOCK) return;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            // Out of descriptors: a level-triggered listener would wake us at once again.
            // Step back for a moment; established connections keep being served and free
            // descriptors as they close.
            core::logf(core::LogLevel::crit, "accept4() failed (errno %d: too many open files?), pausing %llums", err,
                       static_cast<unsigned long long>(kAcceptPauseMs));
            loop_.remove(fd_);
            active_ = false;
            loop_.schedule(resume_timer_, kAcceptPauseMs);
            return;
        }
        core::logf(core::LogLevel::error, "accept4() failed: errno %d", err);
        return;
    }
}

}  // namespace riptide::net
