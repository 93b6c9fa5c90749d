#include "process/worker.hpp"

#include <csignal>
#include <cstdio>

#include "core/log.hpp"
#include "event/loop.hpp"
#include "os/clock.hpp"
#include "os/epoll.hpp"
#include "os/fd.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "process/error_log.hpp"

namespace riptide::process {

namespace {

class SignalHandler final : public event::Handler {
public:
    explicit SignalHandler(int fd) : fd_(fd) {}
    void on_event(uint32_t) override { pending_ |= os::read_signalfd(fd_); }
    unsigned take() {
        unsigned p = pending_;
        pending_ = 0;
        return p;
    }

private:
    int fd_;
    unsigned pending_ = 0;
};

}  // namespace

int run_worker(const http::Settings& settings, const std::vector<http::Server::ListenSocket>& sockets) {
    // The master forked us with its signals blocked: they stay blocked (and pending ones
    // stay pending) and are read from the signalfd; only SIGCHLD is let go again.
    os::reset_signal_handlers();
    os::UniqueFd sigfd(os::open_signalfd());
    os::unblock_child_signal();
    if (!sigfd) {
        core::log(core::LogLevel::emerg, "signalfd() failed in worker");
        return 2;
    }
    auto ep = os::Epoll::create();
    if (!ep) {
        core::log(core::LogLevel::emerg, ep.error().what);
        return 2;
    }
    event::Loop loop(std::move(ep).value());
    SignalHandler signals(sigfd.get());
    loop.add(sigfd.get(), EPOLLIN, &signals);

    auto server = std::make_unique<http::Server>(loop, settings);
    std::string err = server->start(sockets);
    if (!err.empty()) {
        core::logf(core::LogLevel::emerg, "%s", err.c_str());
        return 2;
    }
    // Logs and sockets are open: now give up root, as nginx's workers do ("user").
    const config::MainConfig& main_cfg = settings.config->main;
    if (!main_cfg.user.empty()) {
        err = os::drop_privileges(main_cfg.user, main_cfg.group);
        if (!err.empty()) {
            core::logf(core::LogLevel::emerg, "%s", err.c_str());
            return 2;
        }
    }

    bool graceful = false;
    for (;;) {
        if (!loop.run_once()) {
            core::log(core::LogLevel::emerg, "epoll_wait() failed");
            return 2;
        }
        unsigned sig = signals.take();
        if (sig & ((1u << SIGTERM) | (1u << SIGINT))) break;
        if ((sig & (1u << SIGQUIT)) && !graceful) {
            graceful = true;
            server->shutdown_gracefully();
        }
        if (sig & (1u << SIGUSR1)) {
            reopen_error_log();
            server->reopen_logs();
        }
        if (graceful && server->connections() == 0) break;
    }
    server->flush_logs();
    server.reset();
    return 0;
}

}  // namespace riptide::process
