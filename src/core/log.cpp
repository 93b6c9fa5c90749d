#include "core/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace riptide::core {

namespace {
LogSink g_sink = nullptr;
LogLevel g_level = LogLevel::notice;
char g_time[32] = "";
const char* const kNames[] = {"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"};
}  // namespace

void set_log_sink(LogSink sink) { g_sink = sink; }
void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
std::string_view log_level_name(LogLevel l) { return kNames[static_cast<int>(l)]; }

bool parse_log_level(std::string_view s, LogLevel& out) {
    for (int i = 0; i < 8; ++i)
        if (s == kNames[i]) {
            out = static_cast<LogLevel>(i);
            return true;
        }
    return false;
}

void set_log_time(std::string_view t) {
    size_t n = t.size() < sizeof g_time - 1 ? t.size() : sizeof g_time - 1;
    std::memcpy(g_time, t.data(), n);
    g_time[n] = '\0';
}

void log(LogLevel level, std::string_view msg) {
    if (level < g_level || !g_sink) return;
    std::string line;
    line.reserve(msg.size() + 48);
    if (g_time[0]) {
        line += g_time;
        line += ' ';
    }
    line += '[';
    line += kNames[static_cast<int>(level)];
    line += "] ";
    line += msg;
    line += '\n';
    g_sink(line);
}

void logf(LogLevel level, const char* fmt, ...) {
    if (level < g_level || !g_sink) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    log(level, std::string_view(buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1));
}

}  // namespace riptide::core
