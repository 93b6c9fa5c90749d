#include "os/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace riptide::os {

SignalFlags g_signals;

namespace {
void on_signal(int sig) {
    switch (sig) {
        case SIGTERM:
        case SIGINT: g_signals.terminate = 1; break;
        case SIGQUIT: g_signals.quit = 1; break;
        case SIGHUP: g_signals.reload = 1; break;
        case SIGUSR1: g_signals.reopen = 1; break;
        case SIGCHLD: g_signals.child = 1; break;
        default: break;
    }
}
const int kHandled[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD};
}  // namespace

void install_signal_flags() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : kHandled) ::sigaction(s, &sa, nullptr);
}

void ignore_sigpipe() { ::signal(SIGPIPE, SIG_IGN); }

void block_signals(sigset_t* old) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kHandled) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, old);
}

void restore_signals(const sigset_t& mask) { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }

void unblock_child_signal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

void reset_signal_handlers() {
    for (int s : kHandled) ::signal(s, SIG_DFL);
}

void wait_for_signal(const sigset_t& mask) { ::sigsuspend(&mask); }

int open_signalfd() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    return ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

unsigned read_signalfd(int fd) {
    unsigned mask = 0;
    signalfd_siginfo si[8];
    for (;;) {
        ssize_t n = ::read(fd, si, sizeof si);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break;
        }
        for (size_t i = 0; i < static_cast<size_t>(n) / sizeof si[0]; ++i) mask |= 1u << si[i].ssi_signo;
        if (static_cast<size_t>(n) < sizeof si) break;
    }
    return mask;
}

int send_signal(int pid, int sig) { return ::kill(pid, sig) == 0 ? 0 : errno; }

}  // namespace riptide::os
