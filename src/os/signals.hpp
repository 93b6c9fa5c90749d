// Signals: handlers only set flags (nginx's ngx_quit); the loops read them.
#pragma once

#include <csignal>

namespace riptide::os {

// Flags set by the handlers installed with install_signal_flags().
struct SignalFlags {
    volatile sig_atomic_t terminate = 0;  // SIGTERM, SIGINT
    volatile sig_atomic_t quit = 0;       // SIGQUIT
    volatile sig_atomic_t reload = 0;     // SIGHUP
    volatile sig_atomic_t reopen = 0;     // SIGUSR1
    volatile sig_atomic_t child = 0;      // SIGCHLD
};
extern SignalFlags g_signals;

void install_signal_flags();
void ignore_sigpipe();
// Blocks the signals the loops handle; returns the previous mask through old.
void block_signals(sigset_t* old);
void restore_signals(const sigset_t& mask);
void unblock_child_signal();
void reset_signal_handlers();
// Atomically restores `mask` and waits for a signal (the master's idle state).
void wait_for_signal(const sigset_t& mask);

// A signalfd for the worker's epoll: SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 (blocked).
int open_signalfd();
// Reads pending signals from the signalfd; returns a bitmask of (1 << signo).
unsigned read_signalfd(int fd);

int send_signal(int pid, int sig);

}  // namespace riptide::os
