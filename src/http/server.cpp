#include "http/server.hpp"

#include <arpa/inet.h>

#include "core/log.hpp"
#include "os/fd.hpp"

namespace riptide::http {

namespace {
constexpr size_t kReadBuffer = 8192;
constexpr size_t kPoolMax = 1024;  // pooled states/buffers kept beyond this are freed
}  // namespace

Server::Server(event::Loop& loop, const Settings& settings)
    : loop_(loop),
      settings_(settings),
      files_(FileCache::Options{settings.open_file_cache_valid_ms, 4096, 16384}) {
    server_header_ = settings.server_tokens ? "Server: riptide/" RIPTIDE_VERSION "\r\n" : "Server: riptide\r\n";
    date_.update(loop.wall_sec());
    loop_.set_on_second(&Server::on_second, this);
}

Server::~Server() {
    loop_.set_on_second(nullptr, nullptr);
    while (head_) {
        Connection* c = head_;
        unlink(c);
        delete c;
    }
    for (ActiveState* s : state_pool_) delete s;
}

void Server::on_second(void* self) {
    auto* s = static_cast<Server*>(self);
    s->date_.update(s->loop_.wall_sec());
}

bool Server::listen(const std::vector<ListenSocket>& sockets) {
    for (const ListenSocket& ls : sockets) {
        ports_.push_back(std::make_unique<uint16_t>(ls.port));
        auto l = std::make_unique<net::Listener>(loop_, ls.fd, ls.exclusive, *this, ports_.back().get());
        if (!l->start()) return false;
        listeners_.push_back(std::move(l));
    }
    return true;
}

void Server::on_accept(int fd, const os::SocketAddress& peer, void* ctx) {
    if (stopping_ || count_ >= settings_.worker_connections) {
        // At the limit the newcomer is closed; the connections already served keep working.
        if (!stopping_) core::logf(core::LogLevel::alert, "%u worker_connections are not enough", settings_.worker_connections);
        os::close_fd(fd);
        return;
    }
    uint16_t local_port = *static_cast<const uint16_t*>(ctx);
    auto* c = new Connection(*this, fd, peer, local_port);
    if (loop_.add(fd, event::Loop::kConnEvents, c) != 0) {
        delete c;
        return;
    }
    c->next = head_;
    if (head_) head_->prev = c;
    head_ = c;
    ++count_;
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
