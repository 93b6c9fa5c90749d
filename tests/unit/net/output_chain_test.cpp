// The output chain against a real socketpair: order, partial writes, bounded storage.
#include "net/output_chain.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

using riptide::net::OutputChain;

TEST(OutputChain, StreamThatNeverDrainsStaysBounded) {
    // A proxied body: data keeps being appended while the peer reads slowly, so the chain
    // never becomes empty; its own storage must not grow with the bytes already sent.
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    OutputChain out;
    std::string chunk(16 * 1024, 'x');
    std::string received;
    char buf[8192];
    uint64_t sent_total = 0;
    size_t max_own = 0;
    for (int i = 0; i < 2000; ++i) {
        chunk[0] = static_cast<char>('a' + i % 26);
        out.append(chunk);
        uint64_t written = 0;
        int err = 0;
        ASSERT_NE(out.flush(sv[0], written, err), OutputChain::Flush::error);
        sent_total += written;
        ssize_t n = ::read(sv[1], buf, sizeof buf);  // the reader takes less than is sent
        if (n > 0) received.append(buf, static_cast<size_t>(n));
        max_own = std::max(max_own, out.own().size());
        if (out.pending() > 512 * 1024) {
            // backpressure, as the connection applies it: drain the reader a little
            while ((n = ::read(sv[1], buf, sizeof buf)) > 0) received.append(buf, static_cast<size_t>(n));
        }
    }
    EXPECT_LT(max_own, 4u * 1024 * 1024);  // 32 MiB went through
    // Everything arrives in order.
    for (;;) {
        uint64_t written = 0;
        int err = 0;
        auto r = out.flush(sv[0], written, err);
        ssize_t n;
        while ((n = ::read(sv[1], buf, sizeof buf)) > 0) received.append(buf, static_cast<size_t>(n));
        if (r == OutputChain::Flush::done) break;
    }
    ssize_t n;
    while ((n = ::read(sv[1], buf, sizeof buf)) > 0) received.append(buf, static_cast<size_t>(n));
    ASSERT_EQ(received.size(), 2000u * chunk.size());
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(received[static_cast<size_t>(i) * chunk.size()], static_cast<char>('a' + i % 26));
    ::close(sv[0]);
    ::close(sv[1]);
}
