// Socket addresses and listening sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace riptide::os {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t len = 0;

    int family() const { return storage.ss_family; }
    uint16_t port() const;
    void set_port(uint16_t port);
    // "127.0.0.1:8080" or "[::1]:8080"
    std::string to_string() const;
    // Only the address part: "127.0.0.1" or "::1".
    std::string host_string() const;
    bool operator==(const SocketAddress& o) const;
};

// Parses "ADDR:PORT", "[V6]:PORT", "*:PORT" or "PORT" (all IPv4 addresses). No name lookup.
std::optional<SocketAddress> parse_socket_address(std::string_view s);

struct ListenOptions {
    int backlog = 511;
    bool reuseport = false;
    int ipv6only = -1;  // -1: leave the kernel's default, 0/1: set IPV6_V6ONLY
    bool deferred = false;  // TCP_DEFER_ACCEPT (see set_deferred_accept)
};

// socket + SO_REUSEADDR (+ SO_REUSEPORT) + bind + listen, non-blocking and close-on-exec.
// TCP_NODELAY is set on the listener: Linux copies it to every accepted socket, which
// saves one setsockopt per connection.
core::Result<UniqueFd, SysError> open_listener(const SocketAddress& addr, const ListenOptions& opts);

// TCP_DEFER_ACCEPT on or off for a listening socket. On, the kernel completes the handshake
// but queues the connection for accept only when the client's first bytes arrive (or, for
// a client that sends nothing, after about a second and a SYN-ACK retransmission): one
// wakeup per connection instead of two, and the request is there to read at once.
bool set_deferred_accept(int fd, bool on);

// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC). Returns the fd, or -errno.
int accept_connection(int listen_fd, SocketAddress* peer);

// Local address of a socket (for the port in redirects).
std::optional<SocketAddress> local_address(int fd);

// Non-blocking connect; Ok when connected or in progress (EINPROGRESS).
core::Result<UniqueFd, SysError> connect_nonblocking(const SocketAddress& addr, bool* in_progress);
int socket_error(int fd);  // SO_ERROR

}  // namespace riptide::os
