// Groups servers by the socket they listen on and picks the server for a Host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace riptide::config {

// The servers that share one listening address ("127.0.0.1:8080"), in config order.
struct ListenGroup {
    ListenConfig listen;  // the socket to open: the listen that carried options, else the first
    std::vector<const ServerConfig*> servers;
    const ServerConfig* default_server = nullptr;  // default_server, else the first server
};

// One group per distinct address, in order of first appearance. The pointers point
// into `http`, which must outlive the groups.
std::vector<ListenGroup> group_listens(const HttpConfig& http);

// Lower-cases `host`, strips a ":port" and one trailing dot, as the server does
// before calling match_server ("Example.COM.:80" → "example.com"; "[::1]:80" → "[::1]").
std::string normalize_host(std::string_view host);

// nginx's order: exact name; longest "*.suffix" wildcard; longest "prefix.*"
// wildcard; the first matching regex in config order; else the group's default
// server. `host` must already be normalized.
const ServerConfig* match_server(const ListenGroup& group, std::string_view host);

}  // namespace riptide::config
