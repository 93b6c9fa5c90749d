// A listening socket on the loop: drains accept4 until EAGAIN and hands each new socket
// to the acceptor. On EMFILE/ENFILE it stops listening for a moment instead of spinning.
#pragma once

#include <cstdint>

#include "event/loop.hpp"
#include "event/timer.hpp"
#include "os/socket.hpp"

namespace riptide::net {

class Acceptor {
public:
    // Takes the new socket. `first`: the first accepted since epoll_wait reported the
    // listener, i.e. the oldest in the queue, whose arrival that epoll_wait saw.
    virtual void on_accept(int fd, const os::SocketAddress& peer, void* listener_ctx, bool first) = 0;

protected:
    ~Acceptor() = default;
};

class Listener final : public event::Handler {
public:
    // fd stays owned by the caller (the master keeps listening sockets across workers).
    Listener(event::Loop& loop, int fd, bool exclusive, Acceptor& acceptor, void* ctx);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    bool start();  // registers on the loop
    void stop();   // stops accepting (graceful shutdown)
    void on_event(uint32_t events) override;
    int fd() const { return fd_; }

private:
    static void on_resume(void* self);
    event::Loop& loop_;
    int fd_;
    bool exclusive_;
    bool active_ = false;
    Acceptor& acceptor_;
    void* ctx_;
    event::Timer resume_timer_;
};

}  // namespace riptide::net
