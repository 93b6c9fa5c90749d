// What one worker's HTTP side needs: the typed configuration and what was resolved from
// it before the workers start (document root descriptors, listen groups, limits).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "config/server_match.hpp"
#include "http/parser.hpp"
#include "http/upstream.hpp"

namespace riptide::http {

// Directories named by root/alias, opened once (O_PATH) so that every file is opened
// beneath them with openat2. A root that could not be opened maps to -1 (404 at request
// time, like nginx, with an error logged at start).
class RootTable {
public:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    // Most requests of a worker name the same root as the one before: that one is
    // remembered and compared before hashing.
    int find(std::string_view configured) const {
        if (has_last_ && configured == last_) return last_fd_;
        auto it = fds_.find(configured);
        int fd = it == fds_.end() ? -1 : it->second;
        last_.assign(configured);
        last_fd_ = fd;
        has_last_ = true;
        return fd;
    }
    void set(std::string configured, int fd) {
        fds_[std::move(configured)] = fd;
        has_last_ = false;
    }
    bool contains(std::string_view configured) const { return fds_.find(configured) != fds_.end(); }
    const std::unordered_map<std::string, int, Hash, std::equal_to<>>& all() const { return fds_; }

private:
    std::unordered_map<std::string, int, Hash, std::equal_to<>> fds_;
    mutable std::string last_;
    mutable int last_fd_ = -1;
    mutable bool has_last_ = false;
};

// A listening address as the workers see it: its port and the servers behind it.
struct ListenContext {
    uint16_t port = 0;
    const config::ListenGroup* group = nullptr;
};

struct Settings {
    std::shared_ptr<const config::Config> config;
    const config::HttpConfig* http = nullptr;
    std::vector<config::ListenGroup> groups;
    std::string prefix;
    RootTable roots;
    std::map<std::string, ResolvedUpstream> upstreams;  // by upstream name or proxy_pass host:port
    ParserLimits parser;
    uint32_t worker_connections = 10240;
    uint64_t lingering_timeout_ms = 5000;
    uint64_t lingering_time_ms = 30000;
    uint64_t open_file_cache_valid_ms = 1000;
    bool quick_start = false;  // started from command-line flags, not a configuration file
};

}  // namespace riptide::http
