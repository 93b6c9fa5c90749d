#include "http/connection.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <sys/epoll.h>

#include "core/log.hpp"
#include "http/server.hpp"
#include "http/exchange.hpp"
#include "http/router.hpp"
#include "http/response.hpp"
#include "http/static_handler.hpp"
#include "os/log_file.hpp"
#include "os/io.hpp"

namespace riptide::http {

namespace {
// Stop parsing pipelined requests while this much output waits for the socket: the
// client must read before it may send more (bounded memory per connection).
constexpr uint64_t kHighWater = 256 * 1024;
constexpr size_t kMaxPieces = 512;
constexpr int kRounds = 16;
// Timer deadlines are rounded up to this grain so that the timers of many connections
// fire together: idle connections cost one wakeup per grain at most, not one each.
constexpr uint64_t kTimerGrainMs = 250;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr uint64_t kLowWater = 64 * 1024;  // an async handler may produce more below this
}  // namespace

Connection::Connection(Server& server, int fd, const os::SocketAddress& peer, const ListenContext& listen)
    : server_(server), listen_(listen), cfg_(&listen.group->default_server->settings), fd_(fd),
      serial_(server.next_serial()) {
    timer_.set_callback(&Connection::on_timer, this);
    peer_port_ = peer.port();
    if (peer.family() == AF_INET) {
        peer_family_ = AF_INET;
        std::memcpy(peer_addr_, &reinterpret_cast<const sockaddr_in*>(&peer.storage)->sin_addr, 4);
    } else if (peer.family() == AF_INET6) {
        peer_family_ = AF_INET6;
        std::memcpy(peer_addr_, &reinterpret_cast<const sockaddr_in6*>(&peer.storage)->sin6_addr, 16);
    }
    flags_ |= kHeadTimer;
    set_deadline(TimerMode::header, server_.loop().now_ms() + static_cast<uint64_t>(cfg_->client_header_timeout_ms));
}

std::string Connection::peer_address() const {
    if (!peer_family_) return "";
    return os::format_ip(peer_family_, peer_addr_);
}

Connection::~Connection() {
    if (async_) {
        async_->on_client_gone();
        server_.loop().defer_delete(async_);
        async_ = nullptr;
    }
    server_.loop().cancel(timer_);
    if (fd_ >= 0) {
        server_.loop().forget(fd_);
        os::close_fd(fd_);
    }
    if (st_) server_.give_state(st_);
    if (in_.allocated()) server_.give_buffer(in_);
}

ActiveState& Connection::active() {
    if (!st_) st_ = server_.take_state();
    return *st_;
}

bool Connection::idle() const {
    return in_.empty() && (!st_ || (st_->out.empty() && !st_->in_body));
}

void Connection::on_event(uint32_t events) {
    if (flags_ & kClosed) return;
    if (events & EPOLLOUT) flags_ |= kCanWrite;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) flags_ |= kCanRead;
    if (events & (EPOLLRDHUP | EPOLLHUP)) flags_ |= kRdHup;
    drive();
}

void Connection::start_ready() {
    flags_ |= kCanRead | kCanWrite;  // a new socket is writable; the read says if data is there
    drive();
}

void Connection::drive() {
    if (flags_ & kLingering) {
        linger_read();
        return;
    }
    int round = 0;
    for (; round < kRounds; ++round) {
        bool got = false;
        bool out_full = st_ && (st_->out.pending() >= kHighWater || st_->out.pieces() >= kMaxPieces);
        if ((flags_ & kCanRead) && !(flags_ & (kPeerClosed | kClosing)) && !out_full) {
            size_t before = in_.size();
            if (!read_some()) return;
            got = in_.size() != before;
        }
        size_t in_before = in_.size();
        process_input();
        if (flags_ & kClosed) return;
        bool consumed = in_.size() != in_before;
        bool drained = false;
        if (st_ && !st_->out.empty() && (flags_ & kCanWrite)) {
            uint64_t before = st_->out.pending();
            if (!flush()) return;
            // Output that went out may let pipelined requests already read be answered.
            drained = st_->out.pending() < before && !in_.empty();
            if (async_ && st_->out.pending() < kLowWater && before >= kLowWater) async_->on_output_drained();
            if (flags_ & kClosed) return;
        }
        if (async_ && (flags_ & kPeerClosed)) {
            // The client left before the answer was complete (nginx's 499): stop the upstream.
            close();
            return;
        }
        if ((flags_ & kClosing) && (!st_ || st_->out.empty())) {
            // Close now when nothing more can come from the client; otherwise linger so that
            // unread request bytes do not turn our response into a reset.
            if ((flags_ & kPeerClosed) || (in_.empty() && !(st_ && st_->in_body) && !(flags_ & kCanRead))) close();
            else start_lingering();
            return;
        }
        if (!got && !consumed && !drained) break;
    }
    if (round == kRounds && (flags_ & kCanRead) && !(flags_ & kPosted)) {
        // Still more to read: let the other connections have their turn first.
        flags_ |= kPosted;
        server_.loop().post([this] {
            flags_ &= ~kPosted;
            if (flags_ & kClosed) server_.loop().defer_delete(this);
            else drive();
        });
    }
    after_io();
}

bool Connection::read_some() {
    if (!in_.allocated()) server_.take_buffer(in_);
    if (in_.writable() == 0) in_.compact();
    if (in_.writable() == 0 && (async_ || (st_ && st_->in_body))) {
        // A body the async handler is not taking yet: wait for it (backpressure).
        flags_ |= kCanRead;
        return true;
    }
    if (in_.writable() == 0) {
        // Only an unfinished head fills the buffer (bodies are discarded as they come):
        // grow it up to the head limit, past which the parser answers 414/431.
        size_t limit = server_.settings().parser.max_header_bytes + 4096;
        if (in_.capacity() >= limit) {
            fail_request(431);
            return true;
        }
        in_.reserve(in_.capacity() * 2 < limit ? in_.capacity() * 2 : limit);
    }
    size_t space = in_.writable();
    os::IoResult r = os::recv_some(fd_, in_.write_ptr(), space);
    if (!r.ok()) {
        if (r.would_block()) {
            flags_ &= ~kCanRead;
            return true;
        }
        close();  // ECONNRESET and friends: nothing to answer
        return false;
    }
    if (r.n == 0) {
        flags_ |= kPeerClosed;
        flags_ &= ~kCanRead;
        return true;
    }
    in_.commit(static_cast<size_t>(r.n));
    // A short read means the socket is drained (the next byte to arrive raises a new
    // edge), which saves the recv that would only return EAGAIN. Not after EPOLLRDHUP:
    // the end of the stream raises no further edge, so read on until recv says 0.
    if (static_cast<size_t>(r.n) < space && !(flags_ & kRdHup)) flags_ &= ~kCanRead;
    return true;
}

void Connection::process_input() {
    if (async_) {
        feed_async();
        return;
    }
    while (!(flags_ & (kClosing | kClosed)) && !async_) {
        if (in_.empty() && !(st_ && st_->in_body)) return;
        ActiveState& s = active();
        if (s.in_body) {
            discard_body();
            if (s.in_body || (flags_ & kClosing)) return;
            continue;
        }
        if (s.out.pending() >= kHighWater || s.out.pieces() >= kMaxPieces) return;
        ParseStatus ps = s.parser.parse(in_.begin(), in_.size());
        if (ps == ParseStatus::incomplete) return;
        if (ps == ParseStatus::error) {
            fail_request(s.parser.error_status());
            return;
        }
        Request r;
        if (!s.parser.build(in_.begin(), r)) {
            fail_request(s.parser.error_status());
            return;
        }
        handle_request(r);
        in_.consume(s.parser.head_size());
        s.parser.reset();
        flags_ &= ~kHeadTimer;
    }
}

void Connection::handle_request(Request& r) {
    ++requests_;
    ActiveState& s = *st_;
    Exchange ex(*this, r);
    ex.start_ms = server_.loop().now_ms();
    Router::select_server(ex);
    // Body limits and timeouts of the location the request goes to; routing is cheap
    // enough to do it here rather than twice.
    const config::Settings& srv = ex.server->settings;
    ex.keep_alive = r.keep_alive && !server_.stopping() && requests_ < srv.keepalive_requests &&
                    srv.keepalive_timeout_ms > 0;
    if (r.has_body()) {
        s.in_body = true;
        s.body_chunked = r.chunked;
        s.body_left = r.content_length;
        s.chunked.reset();
    }
    if (r.chunked && !chunked_prefix_valid()) {
        // Framing already broken in the bytes that came with the head: 400 before any
        // handler answers (nginx, which reads what is there first, does the same).
        fail_request(400);
        return;
    }
    ex.uri.swap(s.path);  // reuse the grown buffer: no allocation per request for the path
    Router::handle(ex);
    if (!ex.async) s.path.swap(ex.uri);
    if (!ex.keep_alive && s.in_body && !ex.async) s.in_body = false;  // closing: the rest is not read
    if (ex.cfg) cfg_ = ex.cfg;
    if (ex.async) return;  // the handler logs and decides keep-alive when it is done
    if (ex.close_now) {
        s.out.clear();
        flags_ |= kClosing;
        s.in_body = false;
        in_.clear();
        return;
    }
    server_.logs().log(ex);
    if (!ex.keep_alive) flags_ |= kClosing;
}

void Connection::continue_if_expected(const Exchange& ex) {
    ActiveState& s = *st_;
    if (ex.r.expect_continue && s.in_body && ex.keep_alive && in_.size() == s.parser.head_size())
        s.out.append(kContinue);
}

bool Connection::chunked_prefix_valid() const {
    ChunkedDecoder d;
    const char* p = in_.begin() + st_->parser.head_size();
    size_t n = in_.size() - st_->parser.head_size();
    while (n > 0) {
        size_t consumed = 0, off = 0, len = 0;
        ChunkedDecoder::Status st = d.decode(p, n, consumed, off, len);
        if (st == ChunkedDecoder::Status::error) return false;
        if (st == ChunkedDecoder::Status::done || consumed == 0) return true;
        p += consumed;
        n -= consumed;
    }
    return true;
}

void Connection::discard_body() {
    ActiveState& s = *st_;
    if (!s.body_chunked) {
        size_t take = in_.size() < s.body_left ? in_.size() : static_cast<size_t>(s.body_left);
        in_.consume(take);
        s.body_left -= take;
        if (s.body_left == 0) s.in_body = false;
        return;
    }
    while (!in_.empty()) {
        size_t consumed = 0, off = 0, len = 0;
        ChunkedDecoder::Status st = s.chunked.decode(in_.begin(), in_.size(), consumed, off, len);
        in_.consume(consumed);
        if (st == ChunkedDecoder::Status::error) {
            // The response is already queued; the framing is broken, so nothing after it
            // can be trusted: close after sending it. (A body that is only discarded has no
            // size limit, as in nginx: it costs no memory.)
            core::logf(core::LogLevel::info, "client sent an invalid chunked body: %s", s.chunked.error());
            s.in_body = false;
            flags_ |= kClosing;
            return;
        }
        if (st == ChunkedDecoder::Status::done) {
            s.in_body = false;
            return;
        }
        if (consumed == 0) return;
    }
}

void Connection::fail_request(int status) {
    active();
    Request none;
    Exchange ex(*this, none);
    ex.keep_alive = false;
    ex.cfg = cfg_;
    if (status == 494) {
        // A header line too long: 400 with nginx's "Request Header Or Cookie Too Large" page.
        status = 400;
        StaticHandler::respond_text(ex, status, "text/html", error_page_body(494, !cfg_ || cfg_->server_tokens));
    } else {
        StaticHandler::respond_error(ex, status);
    }
    ex.status = status;
    flags_ |= kClosing;
}

bool Connection::flush() {
    uint64_t written = 0;
    int err = 0;
    net::OutputChain::Flush r = st_->out.flush(fd_, written, err);
    if (r == net::OutputChain::Flush::error) {
        close();
        return false;
    }
    if (r == net::OutputChain::Flush::again) {
        flags_ &= ~kCanWrite;
        if (written || timer_mode_ != TimerMode::send)
            set_deadline(TimerMode::send, server_.loop().now_ms() + static_cast<uint64_t>(cfg_->send_timeout_ms));
    }
    if (r == net::OutputChain::Flush::yield) {
        // Still writable (no edge will come): go on after the other ready connections.
        if (written || timer_mode_ != TimerMode::send)
            set_deadline(TimerMode::send, server_.loop().now_ms() + static_cast<uint64_t>(cfg_->send_timeout_ms));
        wake();
    }
    return true;
}

void Connection::after_io() {
    if (flags_ & kClosed) return;
    uint64_t now = server_.loop().now_ms();
    const config::Settings& cfg = *cfg_;
    if (st_ && !st_->out.empty()) return;  // the send timer runs (set by flush)
    if (async_) {
        // The handler keeps its own timers; the client only has to send its body in time.
        if (st_ && st_->in_body && !async_->tunnel())
            set_deadline(TimerMode::body, now + static_cast<uint64_t>(cfg.client_body_timeout_ms));
        else
            server_.loop().cancel(timer_);
        return;
    }
    if (st_ && st_->in_body) {
        set_deadline(TimerMode::body, now + static_cast<uint64_t>(cfg.client_body_timeout_ms));
        return;
    }
    if (!in_.empty() || requests_ == 0) {
        // The header timer covers the whole head: trickling bytes do not extend it.
        if (!(flags_ & kHeadTimer)) {
            flags_ |= kHeadTimer;
            set_deadline(TimerMode::header, now + static_cast<uint64_t>(cfg.client_header_timeout_ms));
        }
        if (flags_ & kPeerClosed) close();
        return;
    }
    // Idle between requests: give back the buffer and the per-request state.
    if (flags_ & kPeerClosed || server_.stopping()) {
        close();
        return;
    }
    release_idle_state();
    set_deadline(TimerMode::keepalive, now + static_cast<uint64_t>(cfg.keepalive_timeout_ms));
}

void Connection::release_idle_state() {
    if (st_) {
        server_.give_state(st_);
        st_ = nullptr;
    }
    if (in_.allocated() && in_.empty()) server_.give_buffer(in_);
}

void Connection::set_deadline(TimerMode mode, uint64_t ms) {
    timer_mode_ = mode;
    deadline_ = ms;
    // Lazy: a later deadline only updates the field and the timer re-arms when it fires;
    // an earlier one moves the timer.
    if (!timer_.active() || timer_.deadline() > ms) {
        uint64_t rounded = (ms + kTimerGrainMs - 1) / kTimerGrainMs * kTimerGrainMs;
        server_.loop().timers().schedule(timer_, rounded);
    }
}

void Connection::on_timer(void* self) {
    auto* c = static_cast<Connection*>(self);
    uint64_t now = c->server_.loop().now_ms();
    if (c->deadline_ > now) {
        uint64_t rounded = (c->deadline_ + kTimerGrainMs - 1) / kTimerGrainMs * kTimerGrainMs;
        c->server_.loop().timers().schedule(c->timer_, rounded);
        return;
    }
    if (c->timer_mode_ == TimerMode::send) core::log(core::LogLevel::info, "client timed out while reading the response");
    c->close();
}

void Connection::start_lingering() {
    flags_ |= kLingering;
    os::shutdown_write(fd_);
    uint64_t now = server_.loop().now_ms();
    const Settings& cfg = server_.settings();
    linger_end_ = now + cfg.lingering_time_ms;
    in_.clear();
    if (st_) {
        server_.give_state(st_);
        st_ = nullptr;
    }
    set_deadline(TimerMode::linger, now + cfg.lingering_timeout_ms);
    linger_read();
}

void Connection::linger_read() {
    // Discard whatever the client still sends until it closes or the time is up.
    if (!in_.allocated()) server_.take_buffer(in_);
    while (flags_ & kCanRead) {
        os::IoResult r = os::recv_some(fd_, in_.data(), in_.capacity());
        if (!r.ok()) {
            if (r.would_block()) {
                flags_ &= ~kCanRead;
                break;
            }
            close();
            return;
        }
        if (r.n == 0) {
            close();
            return;
        }
        if (static_cast<size_t>(r.n) < in_.capacity()) flags_ &= ~kCanRead;
    }
    uint64_t now = server_.loop().now_ms();
    const Settings& cfg = server_.settings();
    uint64_t gap_end = now + cfg.lingering_timeout_ms;
    set_deadline(TimerMode::linger, gap_end < linger_end_ ? gap_end : linger_end_);
}

void Connection::shutdown_gracefully() {
    // Idle keep-alive connections close now. A connection that has not sent its first
    // request yet is not idle: its request may be on the way, and it is answered (with
    // Connection: close) like a busy one; the header timeout bounds the wait.
    if (requests_ > 0 && idle() && !(flags_ & kLingering)) close();
}

void Connection::feed_async() {
    // Each call into the handler may end it (an error answered, the response done):
    // async_ is checked again after every one.
    ActiveState& s = active();
    while (async_ && !in_.empty()) {
        if (async_->tunnel()) {
            size_t took = async_->on_client_data(in_.begin(), in_.size());
            in_.consume(took);
            if (took == 0) return;
            continue;
        }
        if (!s.in_body) return;
        if (!s.body_chunked) {
            size_t n = in_.size() < s.body_left ? in_.size() : static_cast<size_t>(s.body_left);
            size_t took = async_->on_client_data(in_.begin(), n);
            in_.consume(took);
            s.body_left -= took;
            if (s.body_left == 0) {
                s.in_body = false;
                if (async_) async_->on_client_body_end();
            }
            if (took < n) return;
            continue;
        }
        // Chunked: decode; a run of data the handler does not take in full is decoded
        // again from a saved copy of the decoder up to what was taken, so nothing is lost
        // or doubled.
        ChunkedDecoder saved = s.chunked;
        size_t consumed = 0, off = 0, len = 0;
        ChunkedDecoder::Status st = s.chunked.decode(in_.begin(), in_.size(), consumed, off, len);
        if (st == ChunkedDecoder::Status::error) {
            async_abort();
            return;
        }
        if (len) {
            size_t took = async_->on_client_data(in_.begin() + off, len);
            if (took < len) {
                s.chunked = saved;
                if (took > 0) {
                    size_t c2 = 0, o2 = 0, l2 = 0;
                    s.chunked.decode(in_.begin(), off + took, c2, o2, l2);
                    in_.consume(c2);
                }
                return;
            }
        }
        in_.consume(consumed);
        if (st == ChunkedDecoder::Status::done) {
            s.in_body = false;
            if (async_) async_->on_client_body_end();
        }
        if (consumed == 0) return;
    }
    if (async_ && s.in_body && !s.body_chunked && s.body_left == 0) {
        s.in_body = false;
        async_->on_client_body_end();
    }
}

void Connection::start_async(AsyncHandler* h) {
    async_ = h;
    active();
}

void Connection::async_done(const Exchange& ex, bool keep_alive) {
    server_.logs().log(ex);
    if (async_) {
        server_.loop().defer_delete(async_);
        async_ = nullptr;
    }
    if (!keep_alive) flags_ |= kClosing;
    wake();
}

void Connection::async_abort() {
    if (async_) {
        server_.loop().defer_delete(async_);
        async_ = nullptr;
    }
    wake_close_ = true;
    wake();
}

bool Connection::can_take_output() const { return !st_ || st_->out.pending() < kHighWater; }

void Connection::wake() {
    if (flags_ & (kPosted | kClosed)) return;
    flags_ |= kPosted;
    server_.loop().post([this] {
        flags_ &= ~kPosted;
        if (flags_ & kClosed) {
            server_.loop().defer_delete(this);
            return;
        }
        if (wake_close_) {
            close();
            return;
        }
        drive();
    });
}

void Connection::close() {
    if (flags_ & kClosed) return;
    flags_ |= kClosed;
    event::Loop& loop = server_.loop();
    if (async_) {
        async_->on_client_gone();
        loop.defer_delete(async_);
        async_ = nullptr;
    }
    loop.cancel(timer_);
    loop.forget(fd_);
    os::close_fd(fd_);
    fd_ = -1;
    if (st_) {
        server_.give_state(st_);
        st_ = nullptr;
    }
    if (in_.allocated()) server_.give_buffer(in_);
    server_.unlink(this);
    if (!(flags_ & kPosted)) loop.defer_delete(this);
}

}  // namespace riptide::http
