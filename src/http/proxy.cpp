#include "http/proxy.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/chunked.hpp"
#include "http/connection.hpp"
#include "http/path.hpp"
#include "http/response_parser.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_handler.hpp"
#include "http/upstream.hpp"
#include "http/variables.hpp"
#include "net/output_chain.hpp"
#include "os/io.hpp"
#include "os/socket.hpp"

namespace riptide::http {

namespace {
constexpr size_t kUpstreamBuffer = 16384;
constexpr uint64_t kUpstreamHighWater = 256 * 1024;  // request body queued for the upstream
constexpr size_t kMaxResponseHead = 32768;
constexpr uint64_t kReplayMax = 64 * 1024;  // bodies up to this go on kept-alive connections
}  // namespace

class ProxyRequest;

// One TCP connection to an upstream server. Registered once on the loop; while idle in
// the keep-alive pool any event (the server closing it, stray bytes) closes it.
class UpstreamConn final : public event::Handler, public event::Deletable {
public:
    UpstreamConn(Server& s, UpstreamGroup* g, int p, int f) : server(s), group(g), peer(p), fd(f) {}
    ~UpstreamConn() override {
        if (fd >= 0) {
            server.loop().forget(fd);
            os::close_fd(fd);
        }
    }
    void on_event(uint32_t events) override;
    void close_now() {
        if (fd >= 0) {
            server.loop().forget(fd);
            os::close_fd(fd);
            fd = -1;
        }
        server.loop().defer_delete(this);
    }

    Server& server;
    UpstreamGroup* group;
    int peer;
    int fd;
    ProxyRequest* owner = nullptr;
    bool connected = false;
    bool can_read = false;
    bool can_write = false;
    bool rdhup = false;
    bool reused = false;
    core::Buffer in;
    net::OutputChain out;
};

class ProxyRequest final : public AsyncHandler {
public:
    ProxyRequest(Exchange& ex, UpstreamGroup* group, const config::ProxyPassConfig& pp);
    ~ProxyRequest() override;

    bool begin();  // false: an error response was written already
    size_t on_client_data(const char* p, size_t n) override;
    void on_client_body_end() override;
    void on_output_drained() override;
    void on_client_gone() override;
    bool tunnel() const override { return tunnel_; }

    void on_upstream(uint32_t events);

private:
    enum class Phase { connecting, sending, reading_head, reading_body, tunnel, done };
    bool try_peer();
    void build_request_head();
    void fail(int status, const char* what, int err);
    void upstream_io();
    bool flush_upstream();
    bool read_upstream_into(bool& eof);
    bool process_upstream_input(bool eof);
    bool send_head_to_client();
    void body_data(const char* p, size_t n);
    void finish();
    void release_upstream(bool reusable);
    void arm(uint64_t ms);
    static void on_timer(void* self);
    std::string_view hash_key();

    Connection& c_;
    Server& s_;
    std::string head_copy_;
    Request req_;
    std::vector<HeaderField> fields_;
    Exchange ex_;
    UpstreamGroup* group_;
    const config::ProxyPassConfig& pp_;
    std::string upstream_head_;  // the request head as sent upstream (kept for retries)
    std::string replay_;         // body sent on a kept-alive connection, until it answers
    bool keep_replay_ = false;
    std::vector<bool> tried_;
    int tries_ = 0;
    UpstreamConn* up_ = nullptr;
    Phase phase_ = Phase::connecting;
    bool body_started_ = false;   // some request body went upstream: no retry
    bool body_done_ = false;
    bool client_chunked_body_ = false;
    bool response_started_ = false;
    bool tunnel_ = false;
    UpstreamResponse resp_;
    ChunkedDecoder dechunk_;
    uint64_t body_left_ = 0;
    bool to_client_chunked_ = false;
    bool keep_alive_ = true;
    uint64_t started_ms_ = 0;
    event::Timer timer_;
    uint64_t deadline_ = 0;
    std::string hash_scratch_;
    std::string upstream_addr_;
    int upstream_status_ = 0;
};

void UpstreamConn::on_event(uint32_t events) {
    if (events & EPOLLOUT) can_write = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) can_read = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) rdhup = true;
    if (owner) {
        owner->on_upstream(events);
        return;
    }
    // Idle in the pool: the server closed it or sent something unasked. Either way it
    // cannot be reused.
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        group->drop_idle(this);
        close_now();
    }
}

ProxyRequest::ProxyRequest(Exchange& ex, UpstreamGroup* group, const config::ProxyPassConfig& pp)
    : c_(ex.c), s_(ex.c.server()), ex_(ex.c, req_), group_(group), pp_(pp) {
    timer_.set_callback(&ProxyRequest::on_timer, this);
    // The request's bytes live in the connection's read buffer, which moves on: keep a
    // copy of the head and views into it for the upstream request and the access log.
    ActiveState& st = ex.c.state();
    head_copy_.assign(ex.c.current_head());
    st.parser.build(head_copy_.data(), req_);
    fields_.assign(req_.headers, req_.headers + req_.header_count);
    req_.headers = fields_.data();
    ex_.server = ex.server;
    ex_.location = ex.location;
    ex_.cfg = ex.cfg;
    ex_.uri = ex.uri;
    ex_.args = ex.args;
    ex_.has_args = ex.has_args;
    ex_.head = ex.head;
    ex_.keep_alive = ex.keep_alive;
    ex_.start_ms = ex.start_ms;
    keep_alive_ = ex.keep_alive;
    client_chunked_body_ = req_.chunked;
    body_done_ = !req_.has_body();
    tried_.assign(group_->size(), false);
    started_ms_ = s_.loop().now_ms();
}

ProxyRequest::~ProxyRequest() {
    s_.loop().cancel(timer_);
    if (up_) release_upstream(false);
}

std::string_view ProxyRequest::hash_key() {
    if (group_->conf().method == config::BalanceMethod::IpHash) {
        hash_scratch_ = c_.peer_address();
    } else {
        hash_scratch_ = expand_variables(ex_, group_->conf().hash_key);
    }
    return hash_scratch_;
}

void ProxyRequest::arm(uint64_t ms) {
    deadline_ = s_.loop().now_ms() + ms;
    s_.loop().schedule(timer_, ms);
}

void ProxyRequest::on_timer(void* self) {
    auto* p = static_cast<ProxyRequest*>(self);
    const char* what = p->phase_ == Phase::connecting ? "upstream timed out while connecting"
                       : p->phase_ == Phase::sending ? "upstream timed out while sending the request"
                                                     : "upstream timed out while reading the response";
    if (p->phase_ == Phase::tunnel) {
        p->c_.async_abort();
        return;
    }
    p->fail(504, what, ETIMEDOUT);
}

void ProxyRequest::build_request_head() {
    const config::Settings& cfg = *ex_.cfg;
    std::string& h = upstream_head_;
    h.clear();
    h += req_.method_name;
    h += ' ';
    // nginx's rule: proxy_pass with a URI replaces the matched location prefix with it;
    // without one, the request's URI goes as the client sent it.
    if (pp_.uri && ex_.location &&
        (ex_.location->modifier == config::LocationModifier::Prefix ||
         ex_.location->modifier == config::LocationModifier::PreferPrefix ||
         ex_.location->modifier == config::LocationModifier::Exact)) {
        std::string_view rest = std::string_view(ex_.uri).substr(
            std::min(ex_.uri.size(), ex_.location->modifier == config::LocationModifier::Exact ? ex_.uri.size()
                                                                                               : ex_.location->pattern.size()));
        h += *pp_.uri;
        h += escape_path(rest);
        if (ex_.has_args) {
            h += '?';
            h += ex_.args;
        }
    } else if (req_.target.front() == '/') {
        h += req_.target;
    } else {
        h += req_.path;
        if (req_.has_query) {
            h += '?';
            h += req_.query;
        }
    }
    h += " HTTP/1.1\r\n";

    // Fields set by proxy_set_header win; an empty value removes the field.
    auto overridden = [&](std::string_view name) {
        for (const config::HeaderConfig& hc : cfg.proxy_set_headers)
            if (core::iequals(hc.name, name)) return true;
        return false;
    };
    bool upgrade = req_.version_minor >= 1 && !req_.header("upgrade").empty() &&
                   listed_in_connection(req_.header("connection"), "upgrade");
    if (!overridden("host")) {
        h += "Host: ";
        h += pp_.has_port && pp_.upstream.empty() ? pp_.host + ":" + std::to_string(pp_.port) : pp_.upstream.empty() ? pp_.host : pp_.upstream;
        h += "\r\n";
    }
    for (const config::HeaderConfig& hc : cfg.proxy_set_headers) {
        std::string v = expand_variables(ex_, hc.value);
        if (v.empty()) continue;
        h += hc.name;
        h += ": ";
        h += v;
        h += "\r\n";
    }
    auto named_in_connection = [&](std::string_view name) {
        for (uint32_t i = 0; i < req_.header_count; ++i)
            if (core::iequals(req_.headers[i].name, "connection") && listed_in_connection(req_.headers[i].value, name))
                return true;
        return false;
    };
    for (uint32_t i = 0; i < req_.header_count; ++i) {
        const HeaderField& f = req_.headers[i];
        if (core::iequals(f.name, "host") || core::iequals(f.name, "content-length") ||
            core::iequals(f.name, "expect") || is_hop_by_hop(f.name) || named_in_connection(f.name) ||
            overridden(f.name))
            continue;
        h += f.name;
        h += ": ";
        h += f.value;
        h += "\r\n";
    }
    if (upgrade && !overridden("upgrade")) {
        h += "Upgrade: ";
        h += req_.header("upgrade");
        h += "\r\nConnection: upgrade\r\n";
    } else if (!overridden("connection") && group_->conf().keepalive == 0) {
        h += "Connection: close\r\n";
    }
    if (req_.chunked) {
        h += "Transfer-Encoding: chunked\r\n";
    } else if (req_.content_length > 0 || req_.method == Method::post || req_.method == Method::put) {
        h += "Content-Length: ";
        core::append_decimal(h, req_.content_length);
        h += "\r\n";
    }
    h += "\r\n";
}

bool ProxyRequest::begin() {
    build_request_head();
    return try_peer();
}

bool ProxyRequest::try_peer() {
    uint64_t now = s_.loop().now_ms();
    int peer = group_->pick(hash_key(), tried_, now);
    if (peer < 0) {
        core::logf(core::LogLevel::error, "no live upstreams while connecting to upstream \"%s\"",
                   group_->conf().name.c_str());
        fail(502, nullptr, 0);
        return false;
    }
    tried_[static_cast<size_t>(peer)] = true;
    ++tries_;
    upstream_addr_ += (upstream_addr_.empty() ? "" : ", ") + group_->peer(peer).conf->name;
    // A kept-alive connection may turn out to be closed by the server; the request is then
    // sent again on a fresh one, so its body must be at hand: only requests whose body is
    // small enough to keep a copy of (replay_) go on a pooled connection.
    bool replayable = !req_.chunked && req_.content_length <= kReplayMax && !body_started_;
    UpstreamConn* uc = replayable ? group_->take_idle(peer) : nullptr;
    if (uc) {
        uc->reused = true;
        uc->connected = true;
        uc->can_write = true;
    } else {
        bool in_progress = false;
        auto fd = os::connect_nonblocking(group_->peer(peer).conf->addr, &in_progress);
        if (!fd) {
            core::logf(core::LogLevel::error, "%s while connecting to upstream \"%s\"", fd.error().what.c_str(),
                       group_->peer(peer).conf->name.c_str());
            group_->on_failure(peer, now);
            return try_peer();  // nothing was sent: always safe to try the next one
        }
        uc = new UpstreamConn(s_, group_, peer, fd->release());
        if (s_.loop().add(uc->fd, event::Loop::kConnEvents, uc) != 0) {
            uc->close_now();
            fail(502, "epoll_ctl failed", errno);
            return false;
        }
        uc->connected = !in_progress;
        uc->can_write = !in_progress;
    }
    uc->owner = this;
    up_ = uc;
    group_->peer(peer).active++;
    phase_ = uc->connected ? Phase::sending : Phase::connecting;
    arm(static_cast<uint64_t>(uc->connected ? ex_.cfg->proxy_send_timeout_ms : ex_.cfg->proxy_connect_timeout_ms));
    uc->out.clear();
    uc->out.append(upstream_head_);
    if (!replay_.empty()) uc->out.append(replay_);  // a retry after a closed kept-alive connection
    keep_replay_ = uc->reused;
    upstream_io();
    return true;
}

void ProxyRequest::release_upstream(bool reusable) {
    UpstreamConn* uc = up_;
    up_ = nullptr;
    group_->peer(uc->peer).active--;
    uc->owner = nullptr;
    // Not after EPOLLRDHUP: the server's close was already signalled and no new edge would
    // tell the pool about it.
    if (reusable && !uc->rdhup && group_->conf().keepalive > 0 && uc->in.empty() && uc->out.empty()) {
        uc->reused = false;
        if (uc->in.allocated()) uc->in.release();
        if (group_->put_idle(uc)) return;
    }
    uc->close_now();
}

void ProxyRequest::fail(int status, const char* what, int err) {
    s_.loop().cancel(timer_);
    bool reused = up_ && up_->reused;
    int peer = up_ ? up_->peer : -1;
    if (up_) release_upstream(false);
    if (what && peer >= 0)
        core::logf(core::LogLevel::error, "%s (%d: %s), upstream: \"%s\"", what, err, os::errno_text(err).c_str(),
                   group_->peer(peer).conf->name.c_str());
    if (!response_started_ && peer >= 0) {
        // A kept-alive connection that the server had closed is not the server's fault:
        // try once more on a fresh one.
        bool nothing_received = phase_ == Phase::sending || phase_ == Phase::reading_head || phase_ == Phase::connecting;
        if (reused && nothing_received && keep_replay_) {
            tried_[static_cast<size_t>(peer)] = false;
            --tries_;
            try_peer();
            return;
        }
        if (status == 502 || status == 504) group_->on_failure(peer, s_.loop().now_ms());
        uint32_t next = ex_.cfg->proxy_next_upstream;
        bool allowed = (status == 502 && (next & config::kNextError)) || (status == 504 && (next & config::kNextTimeout));
        bool idempotent = req_.method == Method::get || req_.method == Method::head ||
                          req_.method == Method::options || req_.method == Method::put ||
                          req_.method == Method::delete_ || req_.method == Method::trace;
        bool sent = phase_ != Phase::connecting;
        bool safe = !body_started_ && (!sent || idempotent || (next & config::kNextNonIdempotent));
        if (allowed && safe && tries_ < static_cast<int>(group_->size())) {
            if (try_peer()) return;
            return;
        }
    }
    if (response_started_) {
        c_.async_abort();
        return;
    }
    upstream_status_ = status;
    phase_ = Phase::done;
    // The error page path of the location applies, as for any error.
    ex_.keep_alive = keep_alive_;
    Router::finish_error(ex_, status);
    c_.async_done(ex_, ex_.keep_alive);
}

void ProxyRequest::on_upstream(uint32_t) { upstream_io(); }

void ProxyRequest::upstream_io() {
    // Loop until nothing moves: the upstream's edges fire once. Each turn is bounded by
    // the client's output limit, so this cannot run away with the worker.
    while (up_) {
        UpstreamConn& uc = *up_;
        if (!uc.connected) {
            if (!uc.can_write && !uc.rdhup) return;
            int err = os::socket_error(uc.fd);
            if (err != 0) {
                fail(502, "connect() failed", err);
                return;
            }
            uc.connected = true;
            phase_ = Phase::sending;
            arm(static_cast<uint64_t>(ex_.cfg->proxy_send_timeout_ms));
        }
        bool progress = false;
        if (!uc.out.empty() && uc.can_write) {
            uint64_t before = uc.out.pending();
            if (!flush_upstream()) return;
            progress |= uc.out.pending() != before;
            if (before >= kUpstreamHighWater && uc.out.pending() < kUpstreamHighWater) c_.wake();  // more body
        }
        if (phase_ == Phase::sending && uc.out.empty() && (body_done_ || !req_.has_body() || tunnel_)) {
            phase_ = Phase::reading_head;
            arm(static_cast<uint64_t>(ex_.cfg->proxy_read_timeout_ms));
        }
        if (uc.can_read && (phase_ != Phase::reading_body || c_.can_take_output()) && phase_ != Phase::connecting) {
            size_t before = uc.in.size();
            bool eof = false;
            if (!read_upstream_into(eof)) return;
            progress |= uc.in.size() != before;
            if (!process_upstream_input(eof)) return;
        } else if (!uc.in.empty() && (phase_ != Phase::reading_body || c_.can_take_output())) {
            if (!process_upstream_input(false)) return;
        }
        if (!progress) return;
    }
}

bool ProxyRequest::flush_upstream() {
    uint64_t written = 0;
    int err = 0;
    net::OutputChain::Flush r = up_->out.flush(up_->fd, written, err);
    if (r == net::OutputChain::Flush::error) {
        fail(502, "send() to upstream failed", err);
        return false;
    }
    if (r == net::OutputChain::Flush::again) up_->can_write = false;
    if (written && phase_ == Phase::sending) arm(static_cast<uint64_t>(ex_.cfg->proxy_send_timeout_ms));
    return true;
}

bool ProxyRequest::read_upstream_into(bool& eof) {
    UpstreamConn& uc = *up_;
    if (!uc.in.allocated()) uc.in.reserve(kUpstreamBuffer);
    if (uc.in.writable() == 0) uc.in.compact();
    if (uc.in.writable() == 0) {
        if (phase_ == Phase::reading_head && uc.in.capacity() < kMaxResponseHead + 1024) {
            uc.in.reserve(kMaxResponseHead + 1024);
        } else {
            return true;  // full: wait until the client takes what is there
        }
    }
    size_t space = uc.in.writable();
    os::IoResult r = os::recv_some(uc.fd, uc.in.write_ptr(), space);
    if (!r.ok()) {
        if (r.would_block()) {
            uc.can_read = false;
            return true;
        }
        if (response_started_ || phase_ == Phase::tunnel) {
            eof = true;  // a reset after the head: handled as the end of the stream
            uc.can_read = false;
            return true;
        }
        fail(502, "recv() failed while reading the response header from upstream", r.err);
        return false;
    }
    if (r.n == 0) {
        eof = true;
        uc.can_read = false;
        return true;
    }
    uc.in.commit(static_cast<size_t>(r.n));
    if (static_cast<size_t>(r.n) < space && !uc.rdhup) uc.can_read = false;
    if (phase_ == Phase::reading_head || phase_ == Phase::reading_body)
        arm(static_cast<uint64_t>(ex_.cfg->proxy_read_timeout_ms));
    return true;
}

bool ProxyRequest::process_upstream_input(bool eof) {
    UpstreamConn& uc = *up_;
    if (phase_ == Phase::sending && !uc.in.empty()) phase_ = Phase::reading_head;  // an early answer
    if (phase_ == Phase::reading_head) {
        for (;;) {
            ResponseParse pr = parse_response_head(uc.in.begin(), uc.in.size(), kMaxResponseHead, resp_);
            if (pr == ResponseParse::error) {
                fail(502, "upstream sent an invalid response header", EPROTO);
                return false;
            }
            if (pr == ResponseParse::incomplete) {
                if (eof) {
                    fail(502, "upstream prematurely closed the connection while reading the response header", ECONNRESET);
                    return false;
                }
                return true;
            }
            if (resp_.status >= 100 && resp_.status < 200 && resp_.status != 101) {
                uc.in.consume(resp_.head_size);  // interim responses are not passed on
                continue;
            }
            break;
        }
        replay_.clear();
        keep_replay_ = false;
        if (!send_head_to_client()) return false;
        uc.in.consume(resp_.head_size);
    }
    if (phase_ == Phase::tunnel) {
        if (!uc.in.empty()) {
            c_.state().out.append(uc.in.view());
            uc.in.clear();
            c_.wake();
        }
        if (eof) {
            // The tunnel ends when either side closes; what the upstream sent last (a close
            // frame) still goes to the client first.
            s_.loop().cancel(timer_);
            release_upstream(false);
            phase_ = Phase::done;
            c_.async_done(ex_, false);
            return false;
        }
        return true;
    }
    if (phase_ != Phase::reading_body) return true;
    // Body: as much as the client's output may take now.
    while (!uc.in.empty() && c_.can_take_output()) {
        if (resp_.chunked) {
            size_t consumed = 0, off = 0, len = 0;
            ChunkedDecoder::Status st = dechunk_.decode(uc.in.begin(), uc.in.size(), consumed, off, len);
            if (st == ChunkedDecoder::Status::error) {
                fail(502, "upstream sent an invalid chunked response", EPROTO);
                return false;
            }
            if (len) body_data(uc.in.begin() + off, len);
            uc.in.consume(consumed);
            if (st == ChunkedDecoder::Status::done) {
                finish();
                return false;
            }
            if (consumed == 0) break;
        } else if (resp_.has_length) {
            size_t n = uc.in.size() < body_left_ ? uc.in.size() : static_cast<size_t>(body_left_);
            body_data(uc.in.begin(), n);
            uc.in.consume(n);
            body_left_ -= n;
            if (body_left_ == 0) {
                finish();
                return false;
            }
        } else {
            body_data(uc.in.begin(), uc.in.size());
            uc.in.clear();
        }
    }
    if (eof && uc.in.empty()) {
        if (resp_.chunked || (resp_.has_length && body_left_ > 0)) {
            core::logf(core::LogLevel::error, "upstream prematurely closed the connection while sending the body, upstream: \"%s\"",
                       group_->peer(uc.peer).conf->name.c_str());
            c_.async_abort();
            return false;
        }
        resp_.keep_alive = false;
        finish();
        return false;
    }
    return true;
}

bool ProxyRequest::send_head_to_client() {
    upstream_status_ = resp_.status;
    bool no_body = ex_.head || resp_.status == 204 || resp_.status == 304 || (resp_.status >= 100 && resp_.status < 200);
    if (resp_.status == 101) {
        if (!resp_.upgrade) {
            fail(502, "upstream sent 101 without an upgrade", EPROTO);
            return false;
        }
        tunnel_ = true;
    }
    // Client framing: the upstream's length passes through; otherwise chunked for an
    // HTTP/1.1 client, or the end of the connection for HTTP/1.0.
    to_client_chunked_ = false;
    if (!no_body && !tunnel_ && !resp_.has_length) {
        if (req_.version_minor >= 1) to_client_chunked_ = true;
        else keep_alive_ = false;
    }
    if (tunnel_) keep_alive_ = false;
    ex_.keep_alive = keep_alive_;
    net::OutputChain& out = c_.state().out;
    std::string& o = out.own();
    size_t from = o.size();
    o += "HTTP/1.1 ";
    core::append_decimal(o, static_cast<uint64_t>(resp_.status));
    o += ' ';
    o += resp_.reason.empty() ? status_reason(resp_.status) : resp_.reason;
    o += "\r\n";
    o += (ex_.cfg && !ex_.cfg->server_tokens) ? std::string_view("Server: riptide\r\n") : s_.server_header();
    o += s_.date().header();
    auto named_in_connection = [&](std::string_view name) {
        for (const HeaderField& h : resp_.headers)
            if (core::iequals(h.name, "connection") && listed_in_connection(h.value, name)) return true;
        return false;
    };
    for (const HeaderField& f : resp_.headers) {
        // nginx hides the upstream's Date and Server and sends its own.
        if (core::iequals(f.name, "date") || core::iequals(f.name, "server") || is_hop_by_hop(f.name) ||
            named_in_connection(f.name))
            continue;
        if (core::iequals(f.name, "content-length") && (!resp_.has_length || no_body) && !ex_.head) continue;
        o += f.name;
        o += ": ";
        o += f.value;
        o += "\r\n";
    }
    if (tunnel_) {
        for (const HeaderField& f : resp_.headers)
            if (core::iequals(f.name, "upgrade")) {
                o += "Upgrade: ";
                o += f.value;
                o += "\r\n";
            }
        o += "Connection: upgrade\r\n";
    } else {
        if (to_client_chunked_) o += "Transfer-Encoding: chunked\r\n";
        o += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    }
    // add_header and expires apply to proxied responses as to any other.
    StaticHandler::append_configured_headers(ex_, o, resp_.status);
    o += "\r\n";
    out.commit_own(from);
    response_started_ = true;
    ex_.status = resp_.status;
    c_.wake();
    if (tunnel_) {
        phase_ = Phase::tunnel;
        s_.loop().cancel(timer_);
        c_.wake();  // client bytes read meanwhile go upstream now
        return true;
    }
    if (no_body) {
        resp_.chunked = false;
        finish();
        return false;
    }
    phase_ = Phase::reading_body;
    body_left_ = resp_.content_length;
    dechunk_.reset();
    return true;
}

void ProxyRequest::body_data(const char* p, size_t n) {
    if (n == 0) return;
    net::OutputChain& out = c_.state().out;
    ex_.body_bytes += n;
    if (to_client_chunked_) {
        std::string& o = out.own();
        size_t from = o.size();
        core::append_hex(o, n);
        o += "\r\n";
        o.append(p, n);
        o += "\r\n";
        out.commit_own(from);
    } else {
        out.append(std::string_view(p, n));
    }
    c_.wake();
}

void ProxyRequest::finish() {
    s_.loop().cancel(timer_);
    if (to_client_chunked_) c_.state().out.append("0\r\n\r\n");
    phase_ = Phase::done;
    group_->on_success(up_->peer);
    bool reusable = resp_.keep_alive && body_done_ && up_->in.empty() && up_->out.empty();
    release_upstream(reusable);
    // Upstream timing for the log, kept in the exchange's spare fields.
    ex_.upstream_addr = upstream_addr_;
    ex_.upstream_status = upstream_status_;
    ex_.upstream_ms = s_.loop().now_ms() - started_ms_;
    c_.async_done(ex_, keep_alive_);
}

size_t ProxyRequest::on_client_data(const char* p, size_t n) {
    if (phase_ == Phase::done) return n;  // the answer came early: the rest of the body is dropped
    if (!up_) return 0;
    if (tunnel_) {
        if (up_->out.pending() >= kUpstreamHighWater) return 0;
        up_->out.append(std::string_view(p, n));
        upstream_io();
        return n;
    }
    if (up_->out.pending() >= kUpstreamHighWater) return 0;
    size_t take = n;
    body_started_ = true;
    if (client_chunked_body_) {
        std::string& o = up_->out.own();
        size_t from = o.size();
        core::append_hex(o, take);
        o += "\r\n";
        o.append(p, take);
        o += "\r\n";
        up_->out.commit_own(from);
    } else {
        up_->out.append(std::string_view(p, take));
        if (keep_replay_) replay_.append(p, take);
    }
    if (up_->connected) upstream_io();
    return take;
}

void ProxyRequest::on_client_body_end() {
    body_done_ = true;
    if (!up_ || phase_ == Phase::done) return;
    if (client_chunked_body_) up_->out.append("0\r\n\r\n");
    if (up_->connected) upstream_io();
}

void ProxyRequest::on_output_drained() {
    if (up_ && phase_ != Phase::done) upstream_io();
}

void ProxyRequest::on_client_gone() {
    s_.loop().cancel(timer_);
    if (up_) release_upstream(false);
    phase_ = Phase::done;
}

UpstreamConn* UpstreamGroup::take_idle(int peer) {
    for (size_t i = idle_.size(); i-- > 0;) {
        if (idle_[i]->peer != peer) continue;
        UpstreamConn* c = idle_[i];
        idle_.erase(idle_.begin() + static_cast<long>(i));
        return c;
    }
    return nullptr;
}

bool UpstreamGroup::put_idle(UpstreamConn* c) {
    if (conf_.keepalive == 0) return false;
    if (idle_.size() >= conf_.keepalive) {
        UpstreamConn* oldest = idle_.front();  // the least recently used goes
        idle_.erase(idle_.begin());
        oldest->close_now();
    }
    idle_.push_back(c);
    return true;
}

void UpstreamGroup::drop_idle(UpstreamConn* c) { std::erase(idle_, c); }

void close_idle_upstreams(UpstreamGroup& g) {
    while (UpstreamConn* c = g.take_any_idle()) c->close_now();
}

UpstreamConn* UpstreamGroup::take_any_idle() {
    if (idle_.empty()) return nullptr;
    UpstreamConn* c = idle_.back();
    idle_.pop_back();
    return c;
}

void Proxy::start(Exchange& ex) {
    const config::ProxyPassConfig& pp = *ex.location->proxy_pass;
    if (pp.has_variables) {
        core::logf(core::LogLevel::error, "proxy_pass with variables is not supported: \"%s\"", pp.raw.c_str());
        Router::finish_error(ex, 500);
        return;
    }
    UpstreamGroup* g = ex.c.server().upstream(upstream_key(pp));
    if (!g) {
        core::logf(core::LogLevel::error, "no upstream for \"%s\"", pp.raw.c_str());
        Router::finish_error(ex, 502);
        return;
    }
    auto* p = new ProxyRequest(ex, g, pp);
    ex.async = true;
    ex.c.start_async(p);
    p->begin();
}

}  // namespace riptide::http
