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
struct Exchange;

// A handler that answers later than the request's own turn of the loop (the reverse
// proxy). While one is active the connection parses no further request: it hands the
// request body (decoded) or, once tunnelled, every byte to the handler, and tells it when
// the client has read enough output to take more.
class AsyncHandler : public event::Deletable {
public:
    // Body bytes (or tunnel bytes) from the client; returns how many were taken. Taking
    // fewer means "not now": the connection waits for Connection::wake().
    virtual size_t on_client_data(const char* p, size_t n) = 0;
    virtual void on_client_body_end() = 0;
    // The client's pending output fell below the low mark: more may be produced.
    virtual void on_output_drained() = 0;
    // The client went away (or the connection is closing): stop, touch the connection no more.
    virtual void on_client_gone() = 0;
    virtual bool tunnel() const = 0;
};

// Per-request state, taken from a pool while a connection is active and returned when
// it goes idle.
struct ActiveState {
    explicit ActiveState(const ParserLimits& l) : parser(l) {}
    RequestParser parser;
    net::OutputChain out;
    ChunkedDecoder chunked;
    std::string path;              // scratch: normalized path (swapped into the exchange)
    std::string rel;               // scratch: path beneath the root
    std::string candidate;         // scratch: index file candidates
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
    // A connection from a deferred-accept listener: its request is (almost always) already
    // in the socket, so read and answer it now, before the loop knows the fd. A connection
    // that is done after that (Connection: close) never costs an epoll_ctl.
    void start_ready();
    bool closed() const { return (flags_ & kClosed) != 0; }
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
    int peer_family() const { return peer_family_; }
    const unsigned char* peer_bytes() const { return peer_addr_; }

    // For AsyncHandler: take over answering the current request.
    void start_async(AsyncHandler* h);
    // The async response is complete: log it, go on with pipelined requests.
    void async_done(const Exchange& ex, bool keep_alive);
    // The async response cannot be completed: close the connection.
    void async_abort();
    // Run the connection again after the current callbacks (new output, resumed input).
    void wake();
    bool can_take_output() const;
    // "100 Continue" for a request that asked for it and whose body has not started to
    // arrive, once routing has accepted its size (none before a 413, as nginx).
    void continue_if_expected(const Exchange& ex);
    // The head of the request being handled (valid inside its handling).
    std::string_view current_head() const { return {in_.begin(), st_->parser.head_size()}; }

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
    // A chunked body's bytes already read are well framed so far (false: answer 400).
    bool chunked_prefix_valid() const;
    void feed_async();
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
    AsyncHandler* async_ = nullptr;
    bool wake_close_ = false;
    event::Timer timer_;
    uint64_t serial_;
    uint8_t peer_family_ = 0;
    unsigned char peer_addr_[16] = {};
    friend class Server;
};

}  // namespace riptide::http
