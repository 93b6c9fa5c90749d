#include "event/timer.hpp"

#include <cstdlib>

namespace riptide::event {

bool TimerHeap::less(size_t a, size_t b) const {
    const Timer* x = heap_[a];
    const Timer* y = heap_[b];
    return x->deadline_ < y->deadline_ || (x->deadline_ == y->deadline_ && x->seq_ < y->seq_);
}

void TimerHeap::place(size_t i, Timer* t) {
    heap_[i] = t;
    t->index_ = static_cast<uint32_t>(i);
}

void TimerHeap::sift_up(size_t i) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!less(i, parent)) break;
        Timer* p = heap_[parent];
        place(parent, heap_[i]);
        place(i, p);
        i = parent;
    }
}

void TimerHeap::sift_down(size_t i) {
    size_t n = heap_.size();
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && less(l, m)) m = l;
        if (r < n && less(r, m)) m = r;
        if (m == i) break;
        Timer* t = heap_[m];
        place(m, heap_[i]);
        place(i, t);
        i = m;
    }
}

void TimerHeap::schedule(Timer& t, uint64_t deadline_ms) {
    if (!t.cb_) std::abort();  // a timer without a callback is a bug
    t.deadline_ = deadline_ms;
    t.seq_ = ++sequence_;
    if (t.active()) {
        sift_up(t.index_);
        sift_down(t.index_);
        return;
    }
    heap_.push_back(nullptr);
    place(heap_.size() - 1, &t);
    sift_up(t.index_);
}

void TimerHeap::cancel(Timer& t) {
    if (!t.active()) return;
    size_t i = t.index_;
    t.index_ = Timer::kNone;
    Timer* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    sift_up(i);
    sift_down(last->index_);
}

uint64_t TimerHeap::next_deadline() const { return heap_.front()->deadline_; }

Timer* TimerHeap::pop_due(uint64_t now_ms) {
    if (heap_.empty() || heap_.front()->deadline_ > now_ms) return nullptr;
    Timer* t = heap_.front();
    cancel(*t);
    return t;
}

}  // namespace riptide::event
