#include "event/loop.hpp"

#include <cerrno>

#include "os/clock.hpp"

namespace riptide::event {

Loop::Loop(os::Epoll epoll) : epoll_(std::move(epoll)), events_(512) { update_time(); }

void Loop::update_time() {
    now_ms_ = os::monotonic_ms();
    os::WallTime w = os::wall_time();
    wall_usec_ = w.usec;
    if (w.sec != wall_sec_) {
        wall_sec_ = w.sec;
        if (on_second_) on_second_(on_second_ctx_);
    }
}

int Loop::add(int fd, uint32_t events, Handler* h) {
    if (fd < 0) return EBADF;
    size_t i = static_cast<size_t>(fd);
    if (i >= slots_.size()) slots_.resize(i + 1 > slots_.size() * 2 ? i + 1 : slots_.size() * 2);
    Slot& s = slots_[i];
    s.generation++;
    s.handler = h;
    uint64_t data = static_cast<uint64_t>(static_cast<uint32_t>(fd)) | (static_cast<uint64_t>(s.generation) << 32);
    int err = epoll_.add(fd, events, data);
    if (err != 0) {
        s.handler = nullptr;
        return err;
    }
    registered_++;
    return 0;
}

int Loop::add_priority(int fd, uint32_t events, Handler* h) {
    int err = add(fd, events, h);
    if (err == 0) {
        slots_[static_cast<size_t>(fd)].priority = true;
        ++priority_count_;
    }
    return err;
}

void Loop::forget(int fd) {
    size_t i = static_cast<size_t>(fd);
    if (fd < 0 || i >= slots_.size() || !slots_[i].handler) return;
    slots_[i].handler = nullptr;
    slots_[i].generation++;
    if (slots_[i].priority) {
        slots_[i].priority = false;
        --priority_count_;
    }
    registered_--;
}

void Loop::remove(int fd) {
    if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[static_cast<size_t>(fd)].handler) return;
    epoll_.remove(fd);
    forget(fd);
}

int Loop::timeout_ms() const {
    if (!posted_.empty()) return 0;
    if (timers_.empty()) return -1;
    uint64_t d = timers_.next_deadline();
    if (d <= now_ms_) return 0;
    uint64_t ms = d - now_ms_;
    return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

void Loop::run_deletes() {
    // A destructor may queue more deletes; swap until none are left.
    while (!deletes_.empty()) {
        std::vector<Deletable*> batch;
        batch.swap(deletes_);
        for (Deletable* d : batch) delete d;
    }
}

bool Loop::run_once() {
    int n = epoll_.wait(events_.data(), static_cast<int>(events_.size()), timeout_ms());
    update_time();
    if (n < 0) return false;
    auto dispatch = [&](int i, bool priority_pass) {
        uint64_t data = events_[static_cast<size_t>(i)].data.u64;
        size_t fd = static_cast<uint32_t>(data);
        uint32_t gen = static_cast<uint32_t>(data >> 32);
        if (fd >= slots_.size()) return;
        Slot& s = slots_[fd];
        if (!s.handler || s.generation != gen) return;  // stale: closed earlier in this batch
        if (priority_count_ && s.priority != priority_pass) return;
        s.handler->on_event(events_[static_cast<size_t>(i)].events);
    };
    if (priority_count_)
        for (int i = 0; i < n; ++i) dispatch(i, true);
    for (int i = 0; i < n; ++i) dispatch(i, false);
    // Bounded rounds of posted work so that a handler that keeps posting cannot starve I/O.
    for (int round = 0; round < 8 && !posted_.empty(); ++round) {
        std::vector<std::function<void()>> batch;
        batch.swap(posted_);
        for (auto& fn : batch) fn();
    }
    while (Timer* t = timers_.pop_due(now_ms_)) t->fire();
    run_deletes();
    return true;
}

}  // namespace riptide::event
