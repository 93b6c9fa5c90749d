// The event loop of one worker: epoll readiness dispatch, timers, posted work and deferred
// deletes. It knows file descriptors and callbacks, not protocols.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "event/timer.hpp"
#include "os/epoll.hpp"

namespace riptide::event {

// Something registered on the loop. on_event gets the epoll event mask.
class Handler {
public:
    virtual void on_event(uint32_t events) = 0;

protected:
    ~Handler() = default;
};

// Deferred deletion: an object queued with Loop::defer_delete is destroyed after the
// current batch of events, never inside its own callback.
class Deletable {
public:
    virtual ~Deletable() = default;
};

class Loop {
public:
    static constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

    explicit Loop(os::Epoll epoll);
    ~Loop() { run_deletes(); }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Registers fd once. The (fd, generation) pair travels in epoll's data so that an event
    // for an fd closed and reused earlier in the same batch is dropped. Returns 0 or errno.
    int add(int fd, uint32_t events, Handler* h);
    // Like add, and the fd's events are dispatched before the others of the same batch
    // (inotify: a file changed before a request for it is read must not be served stale).
    int add_priority(int fd, uint32_t events, Handler* h);
    // Forgets fd before it is closed (closing removes it from epoll, so no epoll_ctl here).
    void forget(int fd);
    // Removes fd from epoll too (for an fd that stays open, e.g. a listener being paused).
    void remove(int fd);

    TimerHeap& timers() { return timers_; }
    void schedule(Timer& t, uint64_t delay_ms) { timers_.schedule(t, now_ms_ + delay_ms); }
    void cancel(Timer& t) { timers_.cancel(t); }

    void defer_delete(Deletable* d) { deletes_.push_back(d); }
    // Runs fn after the current batch of events (before timers).
    void post(std::function<void()> fn) { posted_.push_back(std::move(fn)); }

    // Loop time, read once per iteration.
    uint64_t now_ms() const { return now_ms_; }
    int64_t wall_sec() const { return wall_sec_; }
    int64_t wall_usec() const { return wall_usec_; }
    // Called when the wall clock's second changes (refresh cached Date strings).
    void set_on_second(void (*fn)(void*), void* ctx) {
        on_second_ = fn;
        on_second_ctx_ = ctx;
    }

    // One iteration: wait, dispatch, posted, timers, deletes. Returns false on a fatal error.
    bool run_once();
    void update_time();
    size_t registered() const { return registered_; }
    // Destroys what defer_delete queued, now (before the owner of those objects goes).
    void flush_deletes() { run_deletes(); }

private:
    struct Slot {
        Handler* handler = nullptr;
        uint32_t generation = 0;
        bool priority = false;
    };
    int timeout_ms() const;
    void run_deletes();

    os::Epoll epoll_;
    std::vector<Slot> slots_;
    TimerHeap timers_;
    std::vector<Deletable*> deletes_;
    std::vector<std::function<void()>> posted_;
    std::vector<epoll_event> events_;
    uint64_t now_ms_ = 0;
    int64_t wall_sec_ = 0;
    int64_t wall_usec_ = 0;
    size_t registered_ = 0;
    int priority_count_ = 0;
    void (*on_second_)(void*) = nullptr;
    void* on_second_ctx_ = nullptr;
};

}  // namespace riptide::event
