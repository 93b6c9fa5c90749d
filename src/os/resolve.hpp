// Name resolution at start-up and reload (blocking getaddrinfo: never on the request path).
#pragma once

#include <string>
#include <vector>

#include "os/socket.hpp"

namespace riptide::os {

// Addresses for host ("127.0.0.1", "::1", "localhost", a name) and port, TCP only.
// Empty with `error` set when the name cannot be resolved.
std::vector<SocketAddress> resolve_host(const std::string& host, uint16_t port, std::string& error);

}  // namespace riptide::os
