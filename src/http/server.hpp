// The HTTP side of one worker: listeners, connections, pools, caches, logs. Owned by the
// worker process; single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.hpp"
#include "event/loop.hpp"
#include "http/access_log.hpp"
#include "http/connection.hpp"
#include "http/file_cache.hpp"
#include "http/response.hpp"
#include "http/settings.hpp"
#include "http/upstream.hpp"
#include "net/listener.hpp"

namespace riptide::http {

class Server final : public net::Acceptor {
public:
    struct ListenSocket {
        int fd;
        bool exclusive;              // shared by workers: EPOLLEXCLUSIVE
        const ListenContext* ctx;    // port and servers of this address
    };
    Server(event::Loop& loop, const Settings& settings);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens logs and starts listening; returns an error text or "".
    std::string start(const std::vector<ListenSocket>& sockets);
    void on_accept(int fd, const os::SocketAddress& peer, void* ctx, bool first) override;

    // Graceful stop: no new connections; idle ones close now, busy ones after their response.
    void shutdown_gracefully();
    size_t connections() const { return count_; }
    bool stopping() const { return stopping_; }
    void reopen_logs() { logs_.reopen_all(); }
    void flush_logs() { logs_.flush_all(); }
    AccessLogs& logs() { return logs_; }

    event::Loop& loop() { return loop_; }
    const Settings& settings() const { return settings_; }
    const config::Settings& http_settings() const { return settings_.http->settings; }
    const DateCache& date() const { return date_; }
    FileCache& files() { return files_; }
    std::string_view server_header() const { return server_header_; }
    // "HTTP/1.1 200 OK", Server (with the version when `tokens`) and Date: the start of
    // most answers, made once a second.
    std::string_view ok_head_start(bool tokens) const { return ok_head_start_[tokens]; }
    std::string_view time_local() const { return time_local_; }
    std::string_view time_iso8601() const { return time_iso_; }
    const std::string& hostname() const { return hostname_; }
    int pid() const { return pid_; }
    uint64_t next_boundary() { return ++boundary_; }
    UpstreamGroup* upstream(const std::string& key) {
        auto it = upstreams_.find(key);
        return it == upstreams_.end() ? nullptr : it->second.get();
    }
    uint64_t next_serial() { return ++serial_; }

    // Pools: a connection takes these while active and gives them back when idle.
    ActiveState* take_state();
    void give_state(ActiveState* s);
    void take_buffer(core::Buffer& b);
    void give_buffer(core::Buffer& b);

    void unlink(Connection* c);

private:
    static void on_second(void* self);
    class InotifyHandler final : public event::Handler {
    public:
        explicit InotifyHandler(Server& s) : s_(s) {}
        void on_event(uint32_t) override;

    private:
        Server& s_;
    };

    event::Loop& loop_;
    const Settings& settings_;
    DateCache date_;
    FileCache files_;
    AccessLogs logs_;
    std::string server_header_;
    std::string ok_head_start_[2];
    std::string time_local_, time_iso_;
    std::string hostname_;
    int pid_ = 0;
    uint64_t boundary_ = 0;
    uint64_t serial_ = 0;
    std::vector<std::unique_ptr<net::Listener>> listeners_;
    std::map<std::string, std::unique_ptr<UpstreamGroup>> upstreams_;
    int inotify_fd_ = -1;
    InotifyHandler inotify_{*this};
    std::vector<int> changed_;  // scratch for inotify events
    Connection* head_ = nullptr;
    size_t count_ = 0;
    bool stopping_ = false;
    std::vector<ActiveState*> state_pool_;
    std::vector<core::Buffer> buffer_pool_;
};

}  // namespace riptide::http
