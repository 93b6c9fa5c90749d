#include "os/socket.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/strings.hpp"

namespace riptide::os {

uint16_t SocketAddress::port() const {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

void SocketAddress::set_port(uint16_t p) {
    if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(p);
    if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(p);
}

std::string SocketAddress::host_string() const {
    char buf[INET6_ADDRSTRLEN] = "";
    if (family() == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    else if (family() == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
    return buf;
}

std::string SocketAddress::to_string() const {
    std::string h = host_string();
    std::string out = family() == AF_INET6 ? "[" + h + "]" : h;
    out += ':';
    core::append_decimal(out, port());
    return out;
}

bool SocketAddress::operator==(const SocketAddress& o) const {
    return len == o.len && std::memcmp(&storage, &o.storage, len) == 0;
}

std::optional<SocketAddress> parse_socket_address(std::string_view s) {
    SocketAddress a;
    std::string_view host, port;
    if (!s.empty() && s.front() == '[') {
        size_t close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
        auto p = core::parse_decimal(port, 65535);
        if (!p) return std::nullopt;
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(static_cast<uint16_t>(*p));
        std::string h(host);
        if (inet_pton(AF_INET6, h.c_str(), &sin6->sin6_addr) != 1) return std::nullopt;
        a.len = sizeof(sockaddr_in6);
        return a;
    }
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
        host = "*";
        port = s;
    } else {
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    auto p = core::parse_decimal(port, 65535);
    if (!p) return std::nullopt;
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(*p));
    if (host == "*" || host.empty()) {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (host == "localhost") {
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        std::string h(host);
        if (inet_pton(AF_INET, h.c_str(), &sin->sin_addr) != 1) return std::nullopt;
    }
    a.len = sizeof(sockaddr_in);
    return a;
}

core::Result<UniqueFd, SysError> open_listener(const SocketAddress& addr, const ListenOptions& opts) {
    std::string name = addr.to_string();
    UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return core::Unexpected(last_error("socket(" + name + ")"));
    int one = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return core::Unexpected(last_error("setsockopt(SO_REUSEADDR, " + name + ")"));
    if (opts.reuseport && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return core::Unexpected(last_error("setsockopt(SO_REUSEPORT, " + name + ")"));
    if (addr.family() == AF_INET6 && opts.ipv6only >= 0) {
        int v = opts.ipv6only;
        if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) != 0)
            return core::Unexpected(last_error("setsockopt(IPV6_V6ONLY, " + name + ")"));
    }
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opts.deferred && !set_deferred_accept(fd.get(), true))
        return core::Unexpected(last_error("setsockopt(TCP_DEFER_ACCEPT, " + name + ")"));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0)
        return core::Unexpected(last_error("bind(" + name + ")"));
    if (::listen(fd.get(), opts.backlog) != 0) return core::Unexpected(last_error("listen(" + name + ")"));
    return fd;
}

bool set_deferred_accept(int fd, bool on) {
    int seconds = on ? 1 : 0;
    return ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds) == 0;
}

int accept_connection(int listen_fd, SocketAddress* peer) {
    for (;;) {
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = ::accept4(listen_fd, peer ? reinterpret_cast<sockaddr*>(&ss) : nullptr, peer ? &len : nullptr,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (peer) {
                std::memcpy(&peer->storage, &ss, len);
                peer->len = len;
            }
            return fd;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return -errno;
    }
}

std::optional<SocketAddress> local_address(int fd) {
    SocketAddress a;
    a.len = sizeof a.storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.len) != 0) return std::nullopt;
    return a;
}

core::Result<UniqueFd, SysError> connect_nonblocking(const SocketAddress& addr, bool* in_progress) {
    UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return core::Unexpected(last_error("socket"));
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *in_progress = false;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0) {
        if (errno != EINPROGRESS) return core::Unexpected(last_error("connect(" + addr.to_string() + ")"));
        *in_progress = true;
    }
    return fd;
}

int socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

}  // namespace riptide::os
