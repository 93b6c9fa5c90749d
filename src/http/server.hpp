// The HTTP side of one worker: listeners, connections, pools, caches. Owned by the worker
// process; single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/buffer.hpp"
#include "event/loop.hpp"
#include "http/connection.hpp"
#include "http/file_cache.hpp"
#include "http/response.hpp"
#include "http/settings.hpp"
#include "net/listener.hpp"

namespace riptide::http {

class Server final : public net::Acceptor {
public:
    struct ListenSocket {
        int fd;
        bool exclusive;  // shared by workers: EPOLLEXCLUSIVE
        uint16_t port;   // the port it is bound to (for redirects), saves a getsockname per connection
    };
    Server(event::Loop& loop, const Settings& settings);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    bool listen(const std::vector<ListenSocket>& sockets);
    void on_accept(int fd, const os::SocketAddress& peer, void* ctx) override;

    // Graceful stop: no new connections; idle ones close now, busy ones after their response.
    void shutdown_gracefully();
    size_t connections() const { return count_; }
    bool stopping() const { return stopping_; }

    event::Loop& loop() { return loop_; }
    const Settings& settings() const { return settings_; }
    const DateCache& date() const { return date_; }
    FileCache& files() { return files_; }
    std::string_view server_header() const { return server_header_; }

    // Pools: a connection takes these while active and gives them back when idle.
    ActiveState* take_state();
    void give_state(ActiveState* s);
    void take_buffer(core::Buffer& b);
    void give_buffer(core::Buffer& b);

    void unlink(Connection* c);

private:
    static void on_second(void* self);

    event::Loop& loop_;
    const Settings& settings_;
    DateCache date_;
    FileCache files_;
    std::string server_header_;
    std::vector<std::unique_ptr<net::Listener>> listeners_;
    std::vector<std::unique_ptr<uint16_t>> ports_;
    Connection* head_ = nullptr;
    size_t count_ = 0;
    bool stopping_ = false;
    std::vector<ActiveState*> state_pool_;
    std::vector<core::Buffer> buffer_pool_;
};

}  // namespace riptide::http
