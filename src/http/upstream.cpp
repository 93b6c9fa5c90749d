#include "http/upstream.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "os/resolve.hpp"

namespace riptide::http {

namespace {

uint32_t fnv1a(std::string_view s) {
    uint32_t h = 2166136261u;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    // A final mix so that close keys land far apart on the ring.
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

std::string display(const os::SocketAddress& a) { return a.to_string(); }

bool add_peers(const std::string& host, uint16_t port, ResolvedPeer proto, ResolvedUpstream& u, std::string& err) {
    std::string e;
    auto addrs = os::resolve_host(host, port, e);
    if (addrs.empty()) {
        err = e;
        return false;
    }
    for (const auto& a : addrs) {
        ResolvedPeer p = proto;
        p.addr = a;
        p.name = display(a);
        u.peers.push_back(p);
    }
    return true;
}

void walk_locations(const std::vector<config::LocationConfig>& locs, std::map<std::string, ResolvedUpstream>& out,
                    std::string& err) {
    for (const config::LocationConfig& l : locs) {
        if (l.proxy_pass && l.proxy_pass->upstream.empty() && !l.proxy_pass->has_variables) {
            std::string key = upstream_key(*l.proxy_pass);
            if (!out.count(key)) {
                ResolvedUpstream u;
                u.name = key;
                ResolvedPeer proto;
                proto.max_fails = 0;  // a single server is never marked down (nginx)
                if (!add_peers(l.proxy_pass->host, l.proxy_pass->port, proto, u, err)) {
                    err = l.proxy_pass->pos.to_string() + ": " + err;
                    return;
                }
                out.emplace(key, std::move(u));
            }
        }
        walk_locations(l.locations, out, err);
        if (!err.empty()) return;
    }
}

}  // namespace

std::string upstream_key(const config::ProxyPassConfig& pp) {
    if (!pp.upstream.empty()) return pp.upstream;
    std::string k = pp.host.find(':') != std::string::npos ? "[" + pp.host + "]" : pp.host;
    return k + ":" + std::to_string(pp.port);
}

std::string resolve_upstreams(const config::HttpConfig& http, std::map<std::string, ResolvedUpstream>& out) {
    std::string err;
    for (const config::UpstreamConfig& uc : http.upstreams) {
        ResolvedUpstream u;
        u.name = uc.name;
        u.method = uc.method;
        u.hash_key = uc.hash_key;
        u.consistent = uc.hash_consistent;
        u.keepalive = uc.keepalive ? *uc.keepalive : 0;
        for (const config::UpstreamServerConfig& s : uc.servers) {
            ResolvedPeer proto;
            proto.weight = s.weight ? s.weight : 1;
            proto.max_fails = s.max_fails;
            proto.fail_timeout_ms = static_cast<uint64_t>(s.fail_timeout_ms);
            proto.backup = s.backup;
            proto.down = s.down;
            if (!add_peers(s.host, s.port, proto, u, err)) return s.pos.to_string() + ": " + err;
        }
        out.emplace(uc.name, std::move(u));
    }
    for (const config::ServerConfig& s : http.servers) {
        walk_locations(s.locations, out, err);
        if (err.empty()) walk_locations(s.named_locations, out, err);
        if (!err.empty()) return err;
    }
    return "";
}

UpstreamGroup::UpstreamGroup(const ResolvedUpstream& u) : conf_(u) {
    for (const ResolvedPeer& p : conf_.peers) peers_.push_back(Peer{&p});
    if (conf_.method == config::BalanceMethod::Hash && conf_.consistent) {
        // Ketama-style: 160 points per unit of weight, placed by hashing "name-N".
        for (size_t i = 0; i < peers_.size(); ++i) {
            if (peers_[i].conf->backup) continue;
            uint32_t points = 160 * peers_[i].conf->weight;
            for (uint32_t k = 0; k < points; ++k)
                ring_.emplace_back(fnv1a(peers_[i].conf->name + "-" + std::to_string(k)), static_cast<int>(i));
        }
        std::sort(ring_.begin(), ring_.end());
    }
}

UpstreamGroup::~UpstreamGroup() = default;

bool UpstreamGroup::usable(const Peer& p, bool backup, uint64_t now) const {
    if (p.conf->down || p.conf->backup != backup) return false;
    return p.down_until <= now;
}

int UpstreamGroup::pick_round_robin(const std::vector<bool>& tried, bool backup, uint64_t now) {
    // Smooth weighted round robin (nginx's): every candidate gains its weight, the
    // richest is chosen and pays the total. 3:1 gives a a b a, never a a a b.
    int best = -1;
    int64_t total = 0;
    for (size_t i = 0; i < peers_.size(); ++i) {
        Peer& p = peers_[i];
        if (tried[i] || !usable(p, backup, now)) continue;
        p.current_weight += p.conf->weight;
        total += p.conf->weight;
        if (best < 0 || p.current_weight > peers_[static_cast<size_t>(best)].current_weight) best = static_cast<int>(i);
    }
    if (best >= 0) peers_[static_cast<size_t>(best)].current_weight -= total;
    return best;
}

int UpstreamGroup::pick(std::string_view key, const std::vector<bool>& tried, uint64_t now) {
    for (bool backup : {false, true}) {
        int chosen = -1;
        switch (conf_.method) {
            case config::BalanceMethod::LeastConn: {
                // Fewest requests in flight relative to weight; ties go round robin.
                double best = 0;
                for (size_t i = 0; i < peers_.size(); ++i) {
                    const Peer& p = peers_[i];
                    if (tried[i] || !usable(p, backup, now)) continue;
                    double load = static_cast<double>(p.active) / p.conf->weight;
                    if (chosen < 0 || load < best) {
                        best = load;
                        chosen = static_cast<int>(i);
                    }
                }
                if (chosen >= 0) {
                    // Several with the same load: let round robin choose among them.
                    std::vector<bool> others(peers_.size(), true);
                    int ties = 0;
                    for (size_t i = 0; i < peers_.size(); ++i) {
                        const Peer& p = peers_[i];
                        if (!tried[i] && usable(p, backup, now) &&
                            static_cast<double>(p.active) / p.conf->weight == best) {
                            others[i] = false;
                            ++ties;
                        }
                    }
                    if (ties > 1) chosen = pick_round_robin(others, backup, now);
                }
                break;
            }
            case config::BalanceMethod::IpHash:
            case config::BalanceMethod::Hash: {
                if (backup) break;  // hashing does not use backup servers (nginx)
                if (!ring_.empty()) {
                    uint32_t h = fnv1a(key);
                    auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(h, -1));
                    for (size_t n = 0; n < ring_.size(); ++n, ++it) {
                        if (it == ring_.end()) it = ring_.begin();
                        size_t i = static_cast<size_t>(it->second);
                        if (!tried[i] && usable(peers_[i], false, now)) {
                            chosen = it->second;
                            break;
                        }
                    }
                    break;
                }
                // ip_hash hashes the first three octets of an IPv4 address, as nginx does.
                std::string_view k = key;
                if (conf_.method == config::BalanceMethod::IpHash) {
                    size_t dot = k.rfind('.');
                    if (dot != std::string_view::npos && k.find(':') == std::string_view::npos) k = k.substr(0, dot);
                }
                uint64_t total = 0;
                for (const Peer& p : peers_)
                    if (!p.conf->backup) total += p.conf->weight;
                if (total == 0) break;
                uint32_t h = fnv1a(k);
                for (int attempt = 0; attempt < 20 && chosen < 0; ++attempt) {
                    uint64_t w = (h + static_cast<uint32_t>(attempt) * 2654435761u) % total;
                    for (size_t i = 0; i < peers_.size(); ++i) {
                        if (peers_[i].conf->backup) continue;
                        if (w < peers_[i].conf->weight) {
                            if (!tried[i] && usable(peers_[i], false, now)) chosen = static_cast<int>(i);
                            break;
                        }
                        w -= peers_[i].conf->weight;
                    }
                }
                if (chosen < 0) chosen = pick_round_robin(tried, false, now);
                break;
            }
            default:
                chosen = pick_round_robin(tried, backup, now);
        }
        if (chosen >= 0) return chosen;
    }
    return -1;
}

void UpstreamGroup::on_failure(int i, uint64_t now) {
    Peer& p = peers_[static_cast<size_t>(i)];
    if (p.conf->max_fails == 0) return;
    if (now - p.fail_window_start > p.conf->fail_timeout_ms) {
        p.fail_window_start = now;
        p.fails = 0;
    }
    if (++p.fails >= p.conf->max_fails) {
        p.down_until = now + p.conf->fail_timeout_ms;
        p.fails = 0;
    }
}

void UpstreamGroup::on_success(int i) {
    Peer& p = peers_[static_cast<size_t>(i)];
    p.fails = 0;
}

}  // namespace riptide::http
