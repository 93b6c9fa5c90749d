// Upstream groups as one worker sees them: peers with their weights and passive health,
// the balancing methods (smooth weighted round robin, least_conn, ip_hash, hash with
// optional ketama-style consistency) and the pool of idle keep-alive connections.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "os/socket.hpp"

namespace riptide::http {

struct ResolvedPeer {
    os::SocketAddress addr;
    std::string name;  // "127.0.0.1:9001", for logs and $upstream_addr
    uint32_t weight = 1;
    uint32_t max_fails = 1;
    uint64_t fail_timeout_ms = 10000;
    bool backup = false;
    bool down = false;
};

// What the master resolves once (getaddrinfo at start and reload, never per request).
struct ResolvedUpstream {
    std::string name;
    config::BalanceMethod method = config::BalanceMethod::RoundRobin;
    std::string hash_key;
    bool consistent = false;
    uint32_t keepalive = 0;
    std::vector<ResolvedPeer> peers;
};

struct Settings;
// Resolves every upstream{} block and every proxy_pass host:port; "" or an error.
std::string resolve_upstreams(const config::HttpConfig& http, std::map<std::string, ResolvedUpstream>& out);
// The key under which a proxy_pass finds its group.
std::string upstream_key(const config::ProxyPassConfig& pp);

class UpstreamConn;

class UpstreamGroup;
// Closes every pooled connection of the group (worker exit).
void close_idle_upstreams(UpstreamGroup& g);

class UpstreamGroup {
public:
    explicit UpstreamGroup(const ResolvedUpstream& u);
    ~UpstreamGroup();
    UpstreamGroup(const UpstreamGroup&) = delete;
    UpstreamGroup& operator=(const UpstreamGroup&) = delete;

    struct Peer {
        const ResolvedPeer* conf;
        int64_t current_weight = 0;
        uint32_t fails = 0;
        uint64_t fail_window_start = 0;
        uint64_t down_until = 0;
        uint32_t active = 0;  // requests in flight (least_conn)
    };
    // A peer for this try, or -1 when every candidate is down or tried. `key` is the
    // hash key (client address for ip_hash, the expanded key for hash).
    int pick(std::string_view key, const std::vector<bool>& tried, uint64_t now_ms);
    void on_failure(int peer, uint64_t now_ms);
    void on_success(int peer);
    Peer& peer(int i) { return peers_[static_cast<size_t>(i)]; }
    size_t size() const { return peers_.size(); }
    const ResolvedUpstream& conf() const { return conf_; }

    // Keep-alive pool: an idle connection to a peer, or nullptr.
    UpstreamConn* take_idle(int peer);
    // Returns false when the pool is full (the caller closes the connection).
    bool put_idle(UpstreamConn* c);
    void drop_idle(UpstreamConn* c);
    UpstreamConn* take_any_idle();

private:
    bool usable(const Peer& p, bool backup, uint64_t now) const;
    int pick_round_robin(const std::vector<bool>& tried, bool backup, uint64_t now);

    ResolvedUpstream conf_;
    std::vector<Peer> peers_;
    std::vector<std::pair<uint32_t, int>> ring_;  // consistent hash points
    std::vector<UpstreamConn*> idle_;             // most recent last
};

}  // namespace riptide::http
