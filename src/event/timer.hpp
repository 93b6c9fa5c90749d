// Timers: an intrusive binary min-heap keyed on (deadline, sequence). Insert, remove and
// re-arm are O(log n); the nearest deadline is O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace riptide::event {

class Timer;

class TimerHeap {
public:
    // Arms (or re-arms) t to fire at deadline_ms.
    void schedule(Timer& t, uint64_t deadline_ms);
    void cancel(Timer& t);
    bool empty() const { return heap_.empty(); }
    size_t size() const { return heap_.size(); }
    // The nearest deadline; only when !empty().
    uint64_t next_deadline() const;
    // Removes and returns the nearest timer if it is due at now_ms, else nullptr.
    Timer* pop_due(uint64_t now_ms);

private:
    bool less(size_t a, size_t b) const;
    void place(size_t i, Timer* t);
    void sift_up(size_t i);
    void sift_down(size_t i);
    std::vector<Timer*> heap_;
    uint64_t sequence_ = 0;
};

// A timer owned by whoever embeds it; the callback is a plain function pointer plus a
// context so that a timer costs no allocation.
class Timer {
public:
    using Callback = void (*)(void* ctx);
    Timer() = default;
    Timer(Callback cb, void* ctx) : cb_(cb), ctx_(ctx) {}
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void set_callback(Callback cb, void* ctx) {
        cb_ = cb;
        ctx_ = ctx;
    }
    bool active() const { return index_ != kNone; }
    uint64_t deadline() const { return deadline_; }
    void fire() { cb_(ctx_); }

private:
    friend class TimerHeap;
    static constexpr uint32_t kNone = UINT32_MAX;
    Callback cb_ = nullptr;
    void* ctx_ = nullptr;
    uint64_t deadline_ = 0;
    uint64_t seq_ = 0;
    uint32_t index_ = kNone;
};

}  // namespace riptide::event
