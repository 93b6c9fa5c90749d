#include "process/error_log.hpp"

#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/io.hpp"
#include "os/log_file.hpp"

namespace riptide::process {

namespace {
int g_fd = 2;
std::string g_path = "stderr";

void sink(std::string_view line) { os::append_to_log(g_fd, line); }
}  // namespace

std::string open_error_log(const std::string& path, core::LogLevel level) {
    int fd = os::open_log_file(path);
    if (fd < 0) return "cannot open error log \"" + path + "\": " + os::errno_text(-fd);
    if (g_fd > 2) os::close_fd(g_fd);
    g_fd = fd;
    g_path = path;
    core::set_log_level(level);
    core::set_log_sink(&sink);
    return "";
}

void reopen_error_log() {
    if (g_fd <= 2) return;
    int fd = os::open_log_file(g_path);
    if (fd < 0) return;
    os::close_fd(g_fd);
    g_fd = fd;
}

}  // namespace riptide::process
