#include "config/server_match.hpp"

#include <algorithm>

namespace riptide::config {

std::vector<ListenGroup> group_listens(const HttpConfig& http) {
    std::vector<ListenGroup> groups;
    for (const auto& server : http.servers) {
        for (const auto& l : server.listens) {
            const std::string addr = l.address();
            auto it = std::find_if(groups.begin(), groups.end(),
                                   [&addr](const ListenGroup& g) { return g.listen.address() == addr; });
            if (it == groups.end()) {
                groups.push_back(ListenGroup{l, {}, &server});
                it = groups.end() - 1;
            }
            it->servers.push_back(&server);
            if (l.default_server) it->default_server = &server;
            // Loading guarantees socket options appear in one server only.
            if (l.reuseport || l.deferred || l.backlog || l.ipv6only) {
                it->listen.reuseport = l.reuseport;
                it->listen.deferred = l.deferred;
                it->listen.backlog = l.backlog;
                it->listen.ipv6only = l.ipv6only;
            }
            if (l.default_server) it->listen.default_server = true;
        }
    }
    return groups;
}

std::string normalize_host(std::string_view host) {
    std::string out;
    if (host.starts_with("[")) {
        auto close = host.find(']');
        host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
    } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (host.ends_with(".")) host.remove_suffix(1);
    out.reserve(host.size());
    for (char c : host) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return out;
}

const ServerConfig* match_server(const ListenGroup& group, std::string_view host) {
    const ServerConfig* leading = nullptr;
    std::size_t leading_len = 0;
    const ServerConfig* trailing = nullptr;
    std::size_t trailing_len = 0;
    for (const auto* server : group.servers) {
        for (const auto& n : server->server_names) {
            switch (n.kind) {
                case ServerName::Kind::Exact:
                    if (host == n.name) return server;
                    break;
                case ServerName::Kind::LeadingWildcard:
                    // ".example.com" (from "*.example.com") needs at least one more label.
                    if (host.size() > n.name.size() && host.ends_with(n.name) && n.name.size() > leading_len) {
                        leading = server;
                        leading_len = n.name.size();
                    }
                    break;
                case ServerName::Kind::TrailingWildcard:
                    if (host.size() > n.name.size() && host.starts_with(n.name) && n.name.size() > trailing_len) {
                        trailing = server;
                        trailing_len = n.name.size();
                    }
                    break;
                case ServerName::Kind::Regex:
                    break;
            }
        }
    }
    if (leading != nullptr) return leading;
    if (trailing != nullptr) return trailing;
    if (!host.empty()) {
        for (const auto* server : group.servers) {
            for (const auto& n : server->server_names) {
                if (n.kind == ServerName::Kind::Regex && n.regex.matches(host)) return server;
            }
        }
    }
    return group.default_server;
}

}  // namespace riptide::config
