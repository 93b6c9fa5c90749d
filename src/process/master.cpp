#include "process/master.hpp"

#include <csignal>
#include <string>

#include "core/log.hpp"
#include "os/clock.hpp"
#include "os/fd.hpp"
#include "os/io.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "process/worker.hpp"

namespace riptide::process {

namespace {

struct WorkerSlot {
    int pid = 0;
    uint64_t started_ms = 0;
    int crashes = 0;  // quick successive crashes, for the respawn back-off
};

class Master {
public:
    Master(const MasterOptions& o, const http::Settings& s) : opts_(o), settings_(s) {}
    int run();

private:
    bool open_sockets();
    std::vector<http::Server::ListenSocket> sockets_for(size_t worker) const;
    int spawn(size_t slot);
    void signal_workers(int sig);
    void reap();

    const MasterOptions& opts_;
    const http::Settings& settings_;
    // sockets_[address][k]: one socket per worker with reuseport, else one shared
    std::vector<std::vector<os::UniqueFd>> sockets_;
    std::vector<uint16_t> ports_;
    std::vector<WorkerSlot> workers_;
    std::vector<int> retiring_;  // old workers finishing their connections after a reload
    bool stopping_ = false;
};

bool Master::open_sockets() {
    for (const ListenSpec& l : opts_.listen) {
        std::vector<os::UniqueFd> group;
        bool per_worker = opts_.accept_mode == AcceptMode::reuseport && opts_.workers > 1;
        os::ListenOptions lo = l.options;
        if (per_worker) lo.reuseport = true;
        size_t n = per_worker ? static_cast<size_t>(opts_.workers) : 1;
        for (size_t i = 0; i < n; ++i) {
            auto fd = os::open_listener(l.address, lo);
            if (!fd) {
                core::logf(core::LogLevel::emerg, "%s", fd.error().what.c_str());
                return false;
            }
            group.push_back(std::move(fd).value());
        }
        // Port 0 asks the kernel for one; all sockets of the group must then share it.
        uint16_t port = l.address.port();
        if (port == 0) {
            if (auto a = os::local_address(group[0].get())) port = a->port();
        }
        ports_.push_back(port);
        sockets_.push_back(std::move(group));
    }
    return true;
}

std::vector<http::Server::ListenSocket> Master::sockets_for(size_t worker) const {
    std::vector<http::Server::ListenSocket> out;
    for (size_t a = 0; a < sockets_.size(); ++a) {
        const auto& g = sockets_[a];
        if (g.size() == 1) out.push_back({g[0].get(), opts_.workers > 1, ports_[a]});
        else out.push_back({g[worker % g.size()].get(), false, ports_[a]});
    }
    return out;
}

int Master::spawn(size_t slot) {
    int pid = os::fork_process();
    if (pid < 0) {
        core::log(core::LogLevel::alert, "fork() failed");
        return -1;
    }
    if (pid == 0) {
        int code = run_worker(settings_, sockets_for(slot));
        os::exit_process(code);
    }
    workers_[slot].pid = pid;
    workers_[slot].started_ms = os::monotonic_ms();
    return pid;
}

void Master::signal_workers(int sig) {
    for (const WorkerSlot& w : workers_)
        if (w.pid > 0) os::send_signal(w.pid, sig);
    for (int pid : retiring_) os::send_signal(pid, sig);
}

void Master::reap() {
    for (;;) {
        os::ChildExit e = os::reap_child();
        if (e.pid <= 0) return;
        std::erase(retiring_, e.pid);
        for (size_t i = 0; i < workers_.size(); ++i) {
            WorkerSlot& w = workers_[i];
            if (w.pid != e.pid) continue;
            w.pid = 0;
            bool crashed = e.signaled || (e.code != 0 && e.code != 2);
            if (stopping_) break;
            if (!crashed) {
                core::logf(core::LogLevel::notice, "worker process %d exited with code %d", e.pid, e.code);
                break;
            }
            if (e.signaled)
                core::logf(core::LogLevel::alert, "worker process %d exited on signal %d, respawning", e.pid, e.code);
            else
                core::logf(core::LogLevel::alert, "worker process %d exited with code %d, respawning", e.pid, e.code);
            // A worker that dies at once again and again is not respawned in a tight loop.
            uint64_t lived = os::monotonic_ms() - w.started_ms;
            w.crashes = lived < 1000 ? w.crashes + 1 : 0;
            if (w.crashes > 5) {
                core::logf(core::LogLevel::emerg, "worker %zu keeps crashing; not respawned", i);
                break;
            }
            if (w.crashes > 0) os::sleep_ms(100u * static_cast<unsigned>(w.crashes));
            spawn(i);
            break;
        }
    }
}

int Master::run() {
    if (!open_sockets()) return 1;
    os::ignore_sigpipe();
    os::install_signal_flags();
    sigset_t old;
    os::block_signals(&old);
    workers_.resize(static_cast<size_t>(opts_.workers));
    for (size_t i = 0; i < workers_.size(); ++i) {
        if (spawn(i) < 0) {
            signal_workers(SIGTERM);
            return 1;
        }
    }
    if (!opts_.pid_file.empty()) {
        if (int err = os::write_pid_file(opts_.pid_file))
            core::logf(core::LogLevel::emerg, "cannot write pid file \"%s\": errno %d", opts_.pid_file.c_str(), err);
    }
    std::string addrs;
    for (size_t a = 0; a < opts_.listen.size(); ++a) {
        os::SocketAddress shown = opts_.listen[a].address;
        shown.set_port(ports_[a]);
        addrs += (a ? ", http://" : "http://") + shown.to_string();
    }
    core::logf(core::LogLevel::notice, "riptide/%s serving \"%s\" on %s with %d worker%s", RIPTIDE_VERSION,
               settings_.site.root.c_str(), addrs.c_str(), opts_.workers, opts_.workers == 1 ? "" : "s");

    sigset_t wait_mask = old;
    for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD}) sigdelset(&wait_mask, s);
    int quit_signal = 0;
    for (;;) {
        os::wait_for_signal(wait_mask);
        if (os::g_signals.child) {
            os::g_signals.child = 0;
            reap();
        }
        if (os::g_signals.terminate && quit_signal != SIGTERM) {
            os::g_signals.terminate = 0;
            stopping_ = true;
            quit_signal = SIGTERM;
            signal_workers(SIGTERM);
        }
        if (os::g_signals.quit && !quit_signal) {
            os::g_signals.quit = 0;
            stopping_ = true;
            quit_signal = SIGQUIT;
            signal_workers(SIGQUIT);
        }
        if (os::g_signals.reload) {
            os::g_signals.reload = 0;
            if (!stopping_) {
                // Same settings, fresh workers: the old ones finish what they serve.
                core::log(core::LogLevel::notice, "reloading: starting new workers");
                std::vector<WorkerSlot> old_workers = workers_;
                for (size_t i = 0; i < workers_.size(); ++i) spawn(i);
                for (const WorkerSlot& w : old_workers) {
                    if (w.pid <= 0) continue;
                    retiring_.push_back(w.pid);
                    os::send_signal(w.pid, SIGQUIT);
                }
            }
        }
        if (os::g_signals.reopen) os::g_signals.reopen = 0;
        if (stopping_) {
            bool any = false;
            for (const WorkerSlot& w : workers_) any |= w.pid > 0;
            any |= !retiring_.empty();
            if (!any) break;
        }
    }
    if (!opts_.pid_file.empty()) os::remove_file(opts_.pid_file);
    core::log(core::LogLevel::notice, "exiting");
    return 0;
}

}  // namespace

int run_master(const MasterOptions& opts, const http::Settings& settings) {
    Master m(opts, settings);
    return m.run();
}

}  // namespace riptide::process
