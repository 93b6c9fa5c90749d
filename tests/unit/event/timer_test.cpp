#include "event/timer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using riptide::event::Timer;
using riptide::event::TimerHeap;

namespace {
void count(void* ctx) { ++*static_cast<int*>(ctx); }
}  // namespace

TEST(TimerHeap, FiresInDeadlineOrderThenInsertionOrder) {
    TimerHeap h;
    int fired = 0;
    std::vector<std::unique_ptr<Timer>> timers;
    std::mt19937 rng(42);
    for (int i = 0; i < 1000; ++i) {
        timers.push_back(std::make_unique<Timer>(&count, &fired));
        h.schedule(*timers.back(), rng() % 100);
    }
    uint64_t last = 0;
    Timer* t;
    size_t n = 0;
    while ((t = h.pop_due(1000)) != nullptr) {
        EXPECT_GE(t->deadline(), last);
        last = t->deadline();
        EXPECT_FALSE(t->active());
        ++n;
    }
    EXPECT_EQ(n, 1000u);
    EXPECT_TRUE(h.empty());
}

TEST(TimerHeap, CancelAndRearm) {
    TimerHeap h;
    int fired = 0;
    Timer a(&count, &fired), b(&count, &fired), c(&count, &fired);
    h.schedule(a, 10);
    h.schedule(b, 20);
    h.schedule(c, 30);
    h.cancel(b);
    EXPECT_FALSE(b.active());
    h.cancel(b);  // twice is harmless
    EXPECT_EQ(h.size(), 2u);
    h.schedule(a, 40);  // re-arm moves it
    EXPECT_EQ(h.next_deadline(), 30u);
    EXPECT_EQ(h.pop_due(29), nullptr);
    EXPECT_EQ(h.pop_due(30), &c);
    EXPECT_EQ(h.pop_due(100), &a);
    EXPECT_TRUE(h.empty());
}

TEST(TimerHeap, RandomOperationsKeepTheHeapValid) {
    TimerHeap h;
    int fired = 0;
    std::vector<std::unique_ptr<Timer>> timers;
    for (int i = 0; i < 200; ++i) timers.push_back(std::make_unique<Timer>(&count, &fired));
    std::mt19937 rng(7);
    for (int step = 0; step < 20000; ++step) {
        Timer& t = *timers[rng() % timers.size()];
        if (rng() % 3 == 0) h.cancel(t);
        else h.schedule(t, rng() % 10000);
    }
    uint64_t last = 0;
    size_t active = 0;
    for (auto& t : timers) active += t->active();
    EXPECT_EQ(active, h.size());
    while (Timer* t = h.pop_due(UINT64_MAX)) {
        EXPECT_GE(t->deadline(), last);
        last = t->deadline();
    }
}
