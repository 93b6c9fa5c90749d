// The loop with real descriptors (eventfd/pipes), no sockets to the network.
#include "event/loop.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <functional>

using riptide::event::Handler;
using riptide::event::Loop;
using riptide::event::Timer;

namespace {

struct Recorder final : Handler {
    std::function<void()> fn;
    int calls = 0;
    void on_event(uint32_t) override {
        ++calls;
        if (fn) fn();
    }
};

Loop make_loop() { return Loop(std::move(riptide::os::Epoll::create()).value()); }

int ready_eventfd() {
    int fd = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);  // readable at once
    EXPECT_GE(fd, 0);
    return fd;
}

}  // namespace

TEST(Loop, EventForAFdClosedAndReusedInTheSameBatchIsDropped) {
    // Whichever of the two ready fds is dispatched first closes the other and reuses its
    // number for a new registration. The stale event still in the batch must reach neither
    // the closed handler nor the new one.
    Loop loop = make_loop();
    int a = ready_eventfd(), b = ready_eventfd();
    Recorder ha, hb, fresh;
    int reused = -1;
    auto close_other = [&](int other, Recorder& /*other_handler*/) {
        loop.forget(other);
        ::close(other);
        reused = ready_eventfd();
        ASSERT_EQ(reused, other);  // the kernel hands out the lowest free number
        ASSERT_EQ(loop.add(reused, EPOLLIN | EPOLLET, &fresh), 0);
    };
    ha.fn = [&] { if (hb.calls == 0 && reused < 0) close_other(b, hb); };
    hb.fn = [&] { if (ha.calls == 0 && reused < 0) close_other(a, ha); };
    ASSERT_EQ(loop.add(a, EPOLLIN | EPOLLET, &ha), 0);
    ASSERT_EQ(loop.add(b, EPOLLIN | EPOLLET, &hb), 0);
    ASSERT_TRUE(loop.run_once());
    EXPECT_EQ(ha.calls + hb.calls, 1);  // one ran; the other's event was stale
    EXPECT_EQ(fresh.calls, 0);          // the stale event did not leak to the new owner
    // The new registration gets its own, fresh event on the next iteration.
    ASSERT_TRUE(loop.run_once());
    EXPECT_EQ(fresh.calls, 1);
    loop.forget(reused);
    ::close(reused);
    ::close(ha.calls ? a : b);
    EXPECT_EQ(loop.registered(), 1u);
}

TEST(Loop, TimersFireAndTimeoutIsNearest) {
    Loop loop = make_loop();
    int fired = 0;
    Timer t([](void* c) { ++*static_cast<int*>(c); }, &fired);
    loop.schedule(t, 20);
    uint64_t start = loop.now_ms();
    while (fired == 0) ASSERT_TRUE(loop.run_once());
    EXPECT_GE(loop.now_ms() - start, 20u);
    EXPECT_EQ(loop.timers().size(), 0u);
}

TEST(Loop, DeferredDeleteRunsAfterTheBatch) {
    struct Obj : riptide::event::Deletable {
        bool* flag;
        explicit Obj(bool* f) : flag(f) {}
        ~Obj() override { *flag = true; }
    };
    Loop loop = make_loop();
    bool deleted = false;
    int fd = ready_eventfd();
    Recorder h;
    h.fn = [&] {
        loop.defer_delete(new Obj(&deleted));
        EXPECT_FALSE(deleted);  // not inside the callback
    };
    ASSERT_EQ(loop.add(fd, EPOLLIN | EPOLLET, &h), 0);
    ASSERT_TRUE(loop.run_once());
    EXPECT_TRUE(deleted);
    loop.forget(fd);
    ::close(fd);
    EXPECT_EQ(loop.registered(), 0u);
}

TEST(Loop, PostedWorkRunsBeforeSleeping) {
    Loop loop = make_loop();
    int ran = 0;
    loop.post([&] { ++ran; });
    ASSERT_TRUE(loop.run_once());  // would block forever if the posted work did not make the timeout 0
    EXPECT_EQ(ran, 1);
}
