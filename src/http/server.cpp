#include "http/server.hpp"

#include <cstdio>

#include "core/log.hpp"
#include "os/clock.hpp"
#include "os/fd.hpp"
#include "os/inotify.hpp"
#include "os/log_file.hpp"
#include "os/process.hpp"

namespace riptide::http {

namespace {
constexpr size_t kReadBuffer = 8192;
constexpr size_t kPoolMax = 1024;  // pooled states/buffers kept beyond this are freed
const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

Server::Server(event::Loop& loop, const Settings& settings)
    : loop_(loop),
      settings_(settings),
      files_(FileCache::Options{settings.open_file_cache_valid_ms, 4096, 16384}),
      logs_(loop) {
    server_header_ = "Server: riptide/" RIPTIDE_VERSION "\r\n";
    hostname_ = os::host_name();
    pid_ = os::current_pid();
    on_second(this);
    loop_.set_on_second(&Server::on_second, this);
    for (const auto& [key, u] : settings.upstreams) upstreams_.emplace(key, std::make_unique<UpstreamGroup>(u));
    inotify_fd_ = os::inotify_open();
    if (inotify_fd_ >= 0 && loop_.add_priority(inotify_fd_, EPOLLIN | EPOLLET, &inotify_) == 0) {
        files_.set_inotify(inotify_fd_);
    } else {
        core::log(core::LogLevel::warn, "inotify unavailable: cached files are re-checked by stat");
        if (inotify_fd_ >= 0) os::close_fd(inotify_fd_);
        inotify_fd_ = -1;
    }
}

void Server::InotifyHandler::on_event(uint32_t) {
    s_.changed_.clear();
    os::inotify_drain(s_.inotify_fd_, s_.changed_);
    s_.files_.invalidate(s_.changed_);
}

Server::~Server() {
    loop_.flush_deletes();  // closed connections still queued refer to this server
    loop_.set_on_second(nullptr, nullptr);
    for (auto& [key, g] : upstreams_) close_idle_upstreams(*g);
    while (head_) {
        Connection* c = head_;
        unlink(c);
        delete c;
    }
    loop_.flush_deletes();  // what those destructors queued (async handlers, upstream connections)
    for (ActiveState* s : state_pool_) delete s;
    files_.clear();
    if (inotify_fd_ >= 0) {
        loop_.forget(inotify_fd_);
        os::close_fd(inotify_fd_);
    }
}

void Server::on_second(void* self) {
    // Date header, log timestamps: formatted once a second, not per request.
    auto* s = static_cast<Server*>(self);
    int64_t now = s->loop_.wall_sec();
    s->date_.update(now);
    for (int tokens = 0; tokens < 2; ++tokens) {
        std::string& h = s->ok_head_start_[tokens];
        h.assign("HTTP/1.1 200 OK\r\n");
        h += tokens ? std::string_view(s->server_header_) : std::string_view("Server: riptide\r\n");
        h += s->date_.header();
    }
    int y, mo, d, h, mi, sec;
    long off;
    os::local_time_fields(now, y, mo, d, h, mi, sec, off);
    char sign = off < 0 ? '-' : '+';
    long aoff = off < 0 ? -off : off;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02d/%s/%d:%02d:%02d:%02d %c%02ld%02ld", d, kMonths[mo - 1], y, h, mi, sec, sign,
                  aoff / 3600, aoff / 60 % 60);
    s->time_local_ = buf;
    std::snprintf(buf, sizeof buf, "%d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", y, mo, d, h, mi, sec, sign, aoff / 3600,
                  aoff / 60 % 60);
    s->time_iso_ = buf;
    std::snprintf(buf, sizeof buf, "%d/%02d/%02d %02d:%02d:%02d", y, mo, d, h, mi, sec);
    core::set_log_time(buf);
}

std::string Server::start(const std::vector<ListenSocket>& sockets) {
    if (settings_.http) {
        std::string err = logs_.open_all(*settings_.http, settings_.prefix);
        if (!err.empty()) return err;
    }
    for (const ListenSocket& ls : sockets) {
        auto l = std::make_unique<net::Listener>(loop_, ls.fd, ls.exclusive, *this,
                                                 const_cast<ListenContext*>(ls.ctx));
        if (!l->start()) return "cannot listen";
        listeners_.push_back(std::move(l));
    }
    return "";
}

void Server::on_accept(int fd, const os::SocketAddress& peer, void* ctx, bool first) {
    if (stopping_ || count_ >= settings_.worker_connections) {
        // At the limit the newcomer is closed; the connections already served keep working.
        if (!stopping_) core::logf(core::LogLevel::alert, "%u worker_connections are not enough", settings_.worker_connections);
        os::close_fd(fd);
        return;
    }
    const auto& listen = *static_cast<const ListenContext*>(ctx);
    auto* c = new Connection(*this, fd, peer, listen);
    c->next = head_;
    if (head_) head_->prev = c;
    head_ = c;
    ++count_;
    if (listen.group->listen.deferred && first) {
        // Answered here, outside the loop's dispatch. The loop keeps file-change events
        // before the requests of the same batch (the file cache must not serve a file
        // changed before the request was sent); that holds for the connection whose
        // arrival this epoll_wait reported, the oldest in the accept queue, and not for
        // those that came after it: they are registered and read after the next wait.
        c->start_ready();
        if (c->closed()) return;  // answered and closed: the loop never saw it
    }
    // Registered once, for both directions; epoll_ctl reports what is already pending.
    if (loop_.add(c->fd(), event::Loop::kConnEvents, c) != 0) c->close();
}

void Server::unlink(Connection* c) {
    if (c->prev) c->prev->next = c->next;
    else if (head_ == c) head_ = c->next;
    else return;  // not linked
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    --count_;
}

void Server::shutdown_gracefully() {
    if (stopping_) return;
    stopping_ = true;
    // Close our copies of the listening sockets: once the master and every worker have,
    // the kernel refuses new connections instead of queueing them for nobody.
    for (auto& l : listeners_) {
        int fd = l->fd();
        l.reset();
        os::close_fd(fd);
    }
    listeners_.clear();
    for (Connection* c = head_; c;) {
        Connection* next = c->next;
        c->shutdown_gracefully();
        c = next;
    }
}

ActiveState* Server::take_state() {
    if (!state_pool_.empty()) {
        ActiveState* s = state_pool_.back();
        state_pool_.pop_back();
        return s;
    }
    return new ActiveState(settings_.parser);
}

void Server::give_state(ActiveState* s) {
    s->parser.reset();
    s->out.clear();
    s->chunked.reset();
    s->in_body = false;
    s->body_left = 0;
    if (state_pool_.size() < kPoolMax) state_pool_.push_back(s);
    else delete s;
}

void Server::take_buffer(core::Buffer& b) {
    if (!buffer_pool_.empty()) {
        b = std::move(buffer_pool_.back());
        buffer_pool_.pop_back();
        return;
    }
    b.reserve(kReadBuffer);
}

void Server::give_buffer(core::Buffer& b) {
    if (b.capacity() == kReadBuffer && buffer_pool_.size() < kPoolMax) {
        b.clear();
        buffer_pool_.push_back(std::move(b));
    }
    b.release();
}

}  // namespace riptide::http
