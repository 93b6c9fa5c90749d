// Balancing and passive health of an upstream group, without sockets.
#include "http/upstream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

using namespace riptide::http;
using riptide::config::BalanceMethod;

namespace {

ResolvedUpstream group(std::vector<std::pair<uint32_t, bool>> peers, BalanceMethod m = BalanceMethod::RoundRobin) {
    ResolvedUpstream u;
    u.name = "app";
    u.method = m;
    int i = 0;
    for (auto [weight, backup] : peers) {
        ResolvedPeer p;
        p.name = "10.0.0." + std::to_string(++i) + ":80";
        p.weight = weight;
        p.backup = backup;
        p.max_fails = 2;
        p.fail_timeout_ms = 1000;
        u.peers.push_back(p);
    }
    return u;
}

}  // namespace

TEST(Upstream, SmoothWeightedRoundRobin) {
    ResolvedUpstream u = group({{3, false}, {1, false}});
    UpstreamGroup g(u);
    std::vector<bool> none(2, false);
    std::string seq;
    for (int i = 0; i < 8; ++i) seq += g.pick("", none, 0) == 0 ? 'a' : 'b';
    EXPECT_EQ(seq, "aabaaaba");  // nginx's order for 3:1: a a b a, a a b a
    // smooth: every window of four holds exactly one b (plain WRR would give a a a b)
    for (size_t i = 0; i + 4 <= seq.size(); ++i)
        EXPECT_EQ(std::count(seq.begin() + static_cast<long>(i), seq.begin() + static_cast<long>(i) + 4, 'b'), 1);
}

TEST(Upstream, FailuresTakeAPeerOutThenBack) {
    ResolvedUpstream u = group({{1, false}, {1, false}});
    UpstreamGroup g(u);
    std::vector<bool> none(2, false);
    g.on_failure(0, 100);
    g.on_failure(0, 200);  // max_fails=2 within fail_timeout: down until 1200
    for (int i = 0; i < 6; ++i) EXPECT_EQ(g.pick("", none, 500), 1);
    int seen0 = 0;
    for (int i = 0; i < 6; ++i) seen0 += g.pick("", none, 1300) == 0;
    EXPECT_EQ(seen0, 3);  // back after fail_timeout
}

TEST(Upstream, BackupOnlyWhenPrimariesAreDown) {
    ResolvedUpstream u = group({{1, false}, {1, true}});
    UpstreamGroup g(u);
    std::vector<bool> none(2, false);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(g.pick("", none, 0), 0);
    std::vector<bool> tried{true, false};
    EXPECT_EQ(g.pick("", tried, 0), 1);  // the primary was tried: the backup
    std::vector<bool> all{true, true};
    EXPECT_EQ(g.pick("", all, 0), -1);
}

TEST(Upstream, LeastConnPrefersTheIdleOne) {
    ResolvedUpstream u = group({{1, false}, {1, false}}, BalanceMethod::LeastConn);
    UpstreamGroup g(u);
    std::vector<bool> none(2, false);
    g.peer(0).active = 5;
    for (int i = 0; i < 4; ++i) EXPECT_EQ(g.pick("", none, 0), 1);
}

TEST(Upstream, ConsistentHashIsStableAndMovesFewKeys) {
    ResolvedUpstream u3 = group({{1, false}, {1, false}, {1, false}}, BalanceMethod::Hash);
    u3.consistent = true;
    ResolvedUpstream u4 = group({{1, false}, {1, false}, {1, false}, {1, false}}, BalanceMethod::Hash);
    u4.consistent = true;
    UpstreamGroup g3(u3), g4(u4);
    std::vector<bool> none3(3, false), none4(4, false);
    std::map<int, int> spread;
    int moved = 0;
    for (int k = 0; k < 1000; ++k) {
        std::string key = "/item/" + std::to_string(k);
        int a = g3.pick(key, none3, 0);
        EXPECT_EQ(a, g3.pick(key, none3, 0));  // same key, same server
        spread[a]++;
        int b = g4.pick(key, none4, 0);
        if (b != a) ++moved;
    }
    EXPECT_EQ(spread.size(), 3u);
    for (auto [peer, n] : spread) EXPECT_GT(n, 200) << peer;
    // Adding a 4th server moves about a quarter of the keys, not most of them.
    EXPECT_LT(moved, 400);
}

TEST(Upstream, IpHashUsesTheFirstThreeOctets) {
    ResolvedUpstream u = group({{1, false}, {1, false}, {1, false}}, BalanceMethod::IpHash);
    UpstreamGroup g(u);
    std::vector<bool> none(3, false);
    int a = g.pick("192.168.7.1", none, 0);
    for (int last = 2; last < 50; ++last) EXPECT_EQ(g.pick("192.168.7." + std::to_string(last), none, 0), a);
}
