// Log files: opened for appending, written with one write(2) per flush so that lines of
// several workers never interleave.
#pragma once

#include <string>
#include <string_view>

namespace riptide::os {

// open(O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644); returns fd or -errno. "stderr" gives 2.
int open_log_file(const std::string& path);
// Writes all of data (blocking regular file); returns 0 or errno.
int append_to_log(int fd, std::string_view data);
// Formats an IP address ("127.0.0.1", "::1") from raw bytes.
std::string format_ip(int family, const unsigned char* addr);
std::string host_name();

}  // namespace riptide::os
