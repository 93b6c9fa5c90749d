#include "process/master.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "os/clock.hpp"
#include "os/fd.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "os/socket.hpp"
#include "process/error_log.hpp"
#include "process/worker.hpp"

namespace riptide::process {

namespace {

struct WorkerSlot {
    int pid = 0;
    uint64_t started_ms = 0;
    int crashes = 0;  // quick successive crashes, for the respawn back-off
};

// One configuration's worth of workers and what they listen on.
struct Generation {
    Runtime rt;
    std::vector<std::unique_ptr<http::ListenContext>> contexts;  // one per listen group
    std::vector<std::vector<int>> fds;                           // per group: 1 shared, or 1 per worker
    std::vector<WorkerSlot> workers;
};

class Master {
public:
    explicit Master(const MasterOptions& o) : opts_(o) {}
    int run(Runtime rt);

private:
    bool bind_generation(Generation& g);
    std::vector<http::Server::ListenSocket> sockets_for(const Generation& g, size_t worker) const;
    int spawn(size_t slot);
    void signal_all(int sig);
    void reap();
    void reload();
    void close_unused_sockets();

    const MasterOptions& opts_;
    std::unique_ptr<Generation> current_;
    // Listening sockets by "address#k" (k: the worker index with reuseport, else 0);
    // kept across reloads while an address stays in the configuration.
    std::map<std::string, os::UniqueFd> sockets_;
    std::vector<int> retiring_;  // old workers finishing their connections after a reload
    bool stopping_ = false;
};

bool Master::bind_generation(Generation& g) {
    const http::Settings& s = *g.rt.settings;
    for (const config::ListenGroup& grp : s.groups) {
        const config::ListenConfig& l = grp.listen;
        std::string text = l.ipv6 ? "[" + l.host + "]:" + std::to_string(l.port)
                                  : (l.host == "*" ? "0.0.0.0" : l.host) + ":" + std::to_string(l.port);
        auto addr = os::parse_socket_address(text);
        if (!addr) {
            core::logf(core::LogLevel::emerg, "%s: invalid listen address \"%s\"", l.pos.to_string().c_str(),
                       text.c_str());
            return false;
        }
        os::ListenOptions lo;
        if (l.backlog) lo.backlog = *l.backlog;
        lo.deferred = l.deferred;
        if (l.ipv6only) lo.ipv6only = *l.ipv6only ? 1 : 0;
        else if (l.ipv6) lo.ipv6only = 1;  // nginx's default for [::]
        bool per_worker = (opts_.accept_mode == AcceptMode::reuseport || l.reuseport) && g.rt.workers > 1;
        if (per_worker || l.reuseport) lo.reuseport = true;
        size_t n = per_worker ? static_cast<size_t>(g.rt.workers) : 1;
        std::vector<int> group_fds;
        uint16_t port = l.port;
        for (size_t k = 0; k < n; ++k) {
            std::string key = l.address() + (per_worker ? "#rp" : "#") + std::to_string(k);
            auto it = sockets_.find(key);
            if (it == sockets_.end()) {
                if (port == 0 && k > 0) addr->set_port(port);
                auto fd = os::open_listener(*addr, lo);
                if (!fd) {
                    core::logf(core::LogLevel::emerg, "%s (%s)", fd.error().what.c_str(), l.pos.to_string().c_str());
                    return false;
                }
                if (port == 0) {
                    if (auto a = os::local_address(fd->get())) port = a->port();
                }
                it = sockets_.emplace(key, std::move(fd).value()).first;
            } else {
                // A socket kept from the previous configuration takes this one's option.
                if (!os::set_deferred_accept(it->second.get(), l.deferred))
                    core::logf(core::LogLevel::warn, "setsockopt(TCP_DEFER_ACCEPT, %s) failed: %s", l.address().c_str(),
                               std::strerror(errno));
                if (port == 0) {
                    if (auto a = os::local_address(it->second.get())) port = a->port();
                }
            }
            group_fds.push_back(it->second.get());
        }
        auto ctx = std::make_unique<http::ListenContext>();
        ctx->port = port;
        ctx->group = &grp;
        g.contexts.push_back(std::move(ctx));
        g.fds.push_back(std::move(group_fds));
    }
    return true;
}

void Master::close_unused_sockets() {
    // Sockets of addresses the current configuration no longer names; old workers keep
    // their own descriptors until they exit.
    for (auto it = sockets_.begin(); it != sockets_.end();) {
        bool used = false;
        for (const auto& group : current_->fds)
            for (int fd : group) used |= fd == it->second.get();
        if (used) ++it;
        else it = sockets_.erase(it);
    }
}

std::vector<http::Server::ListenSocket> Master::sockets_for(const Generation& g, size_t worker) const {
    std::vector<http::Server::ListenSocket> out;
    for (size_t a = 0; a < g.fds.size(); ++a) {
        const auto& fds = g.fds[a];
        if (fds.size() == 1) out.push_back({fds[0], g.rt.workers > 1, g.contexts[a].get()});
        else out.push_back({fds[worker % fds.size()], false, g.contexts[a].get()});
    }
    return out;
}

int Master::spawn(size_t slot) {
    Generation& g = *current_;
    int pid = os::fork_process();
    if (pid < 0) {
        core::log(core::LogLevel::alert, "fork() failed");
        return -1;
    }
    if (pid == 0) {
        // The worker keeps only its own listening sockets: one it inherited but does not
        // poll (another worker's reuseport socket, an address a reload is removing) would
        // otherwise keep accepting connections that nobody answers.
        std::vector<http::Server::ListenSocket> mine = sockets_for(g, slot);
        for (auto& [key, fd] : sockets_) {
            bool used = false;
            for (const auto& ls : mine) used |= ls.fd == fd.get();
            if (!used) os::close_fd(fd.release());
        }
        int code = run_worker(*g.rt.settings, mine);
        os::exit_process(code);
    }
    g.workers[slot].pid = pid;
    g.workers[slot].started_ms = os::monotonic_ms();
    return pid;
}

void Master::signal_all(int sig) {
    for (const WorkerSlot& w : current_->workers)
        if (w.pid > 0) os::send_signal(w.pid, sig);
    for (int pid : retiring_) os::send_signal(pid, sig);
}

void Master::reap() {
    for (;;) {
        os::ChildExit e = os::reap_child();
        if (e.pid <= 0) return;
        std::erase(retiring_, e.pid);
        auto& workers = current_->workers;
        for (size_t i = 0; i < workers.size(); ++i) {
            WorkerSlot& w = workers[i];
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
            int pid = spawn(i);
            if (pid > 0) core::logf(core::LogLevel::notice, "started worker process %d", pid);
            break;
        }
    }
}

void Master::reload() {
    core::log(core::LogLevel::notice, "reconfiguring");
    Runtime rt;
    if (opts_.reload) {
        auto loaded = opts_.reload();
        if (!loaded) {
            // An invalid configuration changes nothing: the old workers go on serving.
            core::logf(core::LogLevel::emerg, "%s; keeping the current configuration", loaded.error().c_str());
            return;
        }
        rt = std::move(loaded).value();
    } else {
        rt = current_->rt;
    }
    auto next = std::make_unique<Generation>();
    next->rt = std::move(rt);
    next->workers.resize(static_cast<size_t>(next->rt.workers));
    if (!bind_generation(*next)) {
        core::log(core::LogLevel::emerg, "reload failed; keeping the current configuration");
        return;
    }
    std::unique_ptr<Generation> old = std::move(current_);
    current_ = std::move(next);
    close_unused_sockets();  // before forking, so that no new worker inherits them
    for (size_t i = 0; i < current_->workers.size(); ++i) spawn(i);
    for (const WorkerSlot& w : old->workers) {
        if (w.pid <= 0) continue;
        retiring_.push_back(w.pid);
        os::send_signal(w.pid, SIGQUIT);
    }
    // The old generation's settings were copied into its workers at fork; the master's
    // copy can go (its document roots are closed here, not in the workers).
    if (old->rt.settings != current_->rt.settings) release_runtime(old->rt);
    core::log(core::LogLevel::notice, "reconfigured");
}

int Master::run(Runtime rt) {
    current_ = std::make_unique<Generation>();
    current_->rt = std::move(rt);
    current_->workers.resize(static_cast<size_t>(current_->rt.workers));
    if (!bind_generation(*current_)) return 1;
    os::ignore_sigpipe();
    os::install_signal_flags();
    sigset_t old;
    os::block_signals(&old);
    for (size_t i = 0; i < current_->workers.size(); ++i) {
        if (spawn(i) < 0) {
            signal_all(SIGTERM);
            return 1;
        }
    }
    const std::string& pid_file = current_->rt.pid_file;
    if (!pid_file.empty()) {
        if (int err = os::write_pid_file(pid_file))
            core::logf(core::LogLevel::emerg, "cannot write pid file \"%s\": errno %d", pid_file.c_str(), err);
    }
    std::string addrs;
    for (size_t a = 0; a < current_->contexts.size(); ++a) {
        const config::ListenConfig& l = current_->contexts[a]->group->listen;
        std::string host = l.host == "*" ? "0.0.0.0" : l.host;
        addrs += (a ? ", http://" : "http://") + (l.ipv6 ? "[" + host + "]" : host) + ":" +
                 std::to_string(current_->contexts[a]->port);
    }
    core::logf(core::LogLevel::notice, "riptide/%s serving on %s with %d worker%s", RIPTIDE_VERSION, addrs.c_str(),
               current_->rt.workers, current_->rt.workers == 1 ? "" : "s");

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
            signal_all(SIGTERM);
        }
        if (os::g_signals.quit && !quit_signal) {
            os::g_signals.quit = 0;
            stopping_ = true;
            quit_signal = SIGQUIT;
            core::log(core::LogLevel::notice, "gracefully shutting down");
            signal_all(SIGQUIT);
            sockets_.clear();  // no new connections: the workers close their copies too
        }
        if (os::g_signals.reload) {
            os::g_signals.reload = 0;
            if (!stopping_) reload();
        }
        if (os::g_signals.reopen) {
            os::g_signals.reopen = 0;
            core::log(core::LogLevel::notice, "reopening logs");
            reopen_error_log();
            signal_all(SIGUSR1);
        }
        if (stopping_) {
            bool any = !retiring_.empty();
            for (const WorkerSlot& w : current_->workers) any |= w.pid > 0;
            if (!any) break;
        }
    }
    if (!pid_file.empty()) os::remove_file(pid_file);
    core::log(core::LogLevel::notice, "exit");
    return 0;
}

}  // namespace

int run_master(Runtime runtime, const MasterOptions& opts) {
    Master m(opts);
    return m.run(std::move(runtime));
}

}  // namespace riptide::process
