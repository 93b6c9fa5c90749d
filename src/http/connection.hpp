// One client connection: reads requests, answers them in order (pipelining), keeps the
// connection alive or closes it. Registered once on the loop, edge-triggered, for both
// directions; an idle keep-alive connection holds no buffer and no per-request state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/buffer.hpp"
#include "event/loop.hpp"
#include "http/chunked.hpp"
#include "http/parser.hpp"
#include "http/range.hpp"
#include "net/output_chain.hpp"
#include "config/config.hpp"
#include "http/settings.hpp"
#include "os/socket.hpp"

namespace riptide::http {

class Server;

// Per-request state, taken from a pool while a connection is active and returned when
// it goes idle.
struct ActiveState {
    explicit ActiveState(const ParserLimits& l) : parser(l) {}
    RequestParser parser;
    net::OutputChain out;
    ChunkedDecoder chunked;
    std::string path;              // scratch: normalized path
    std::vector<ByteRange> ranges; // scratch
    uint64_t body_left = 0;
    bool in_body = false;
    bool body_chunked = false;
};

class Connection final : public event::Handler, public event::Deletable {
public:
    Connection(Server& server, int fd, const os::SocketAddress& peer, const ListenContext& listen);
    ~Connection() override;

    void on_event(uint32_t events) override;
    // Graceful stop: close now if idle, else after the response in progress.
    void shutdown_gracefully();
    bool idle() const;
    int fd() const { return fd_; }

    Server& server() { return server_; }
    ActiveState& state() { return active(); }
    const ListenContext& listen() const { return listen_; }
    uint16_t local_port() const { return listen_.port; }
    uint64_t serial() const { return serial_; }
    uint32_t requests() const { return requests_; }
    std::string peer_address() const;
    uint16_t peer_port() const { return peer_port_; }

    Connection* prev = nullptr;  // the server's list of connections
    Connection* next = nullptr;

private:
    enum class TimerMode : uint8_t { header, body, send, keepalive, linger };
    enum Flag : uint16_t {
        kCanRead = 1,
        kCanWrite = 2,
        kPeerClosed = 4,
        kClosing = 8,      // answer what is queued, then close
        kLingering = 16,   // write side shut, discarding input until EOF or timeout
        kHeadTimer = 32,   // the header deadline is running (not extended by trickling bytes)
        kClosed = 64,
        kPosted = 128,
        kRdHup = 256,      // the peer shut its sending side: read until EOF, not until a short read
    };
    void drive();
    bool read_some();         // false: connection closed
    void process_input();
    void handle_request(Request& r);
    void discard_body();
    void fail_request(int status);
    bool flush();             // false: connection closed
    void after_io();
    void start_lingering();
    void close();
    void release_idle_state();
    ActiveState& active();
    void set_deadline(TimerMode mode, uint64_t ms);
    void linger_read();
    static void on_timer(void* self);

    Server& server_;
    const ListenContext& listen_;
    const config::Settings* cfg_;  // settings of the last request (timeouts)
    int fd_;
    uint16_t flags_ = kCanWrite;
    uint16_t peer_port_ = 0;
    TimerMode timer_mode_ = TimerMode::header;
    uint32_t requests_ = 0;
    uint64_t deadline_ = 0;
    uint64_t linger_end_ = 0;
    core::Buffer in_;
    ActiveState* st_ = nullptr;
    event::Timer timer_;
    uint64_t serial_;
    uint8_t peer_family_ = 0;
    unsigned char peer_addr_[16] = {};
    friend class Server;
};

}  // namespace riptide::http
