#include "os/resolve.hpp"

#include <netdb.h>

#include <cstring>

namespace riptide::os {

std::vector<SocketAddress> resolve_host(const std::string& host, uint16_t port, std::string& error) {
    std::vector<SocketAddress> out;
    addrinfo hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    int rc = ::getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0) {
        error = "host not found in upstream \"" + host + "\": " + ::gai_strerror(rc);
        return out;
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        SocketAddress a;
        std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
        a.len = ai->ai_addrlen;
        bool dup = false;
        for (const auto& o : out) dup |= o == a;
        if (!dup) out.push_back(a);
    }
    ::freeaddrinfo(res);
    return out;
}

}  // namespace riptide::os
