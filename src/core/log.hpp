// The error log: one line per event, written with one write(2) so that lines from
// several workers never interleave. Levels follow nginx's.
#pragma once

#include <string_view>

namespace riptide::core {

enum class LogLevel { debug, info, notice, warn, error, crit, alert, emerg };

// The sink is a function pointer so that core stays free of syscalls; os/ installs it.
using LogSink = void (*)(std::string_view line);

void set_log_sink(LogSink sink);
void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(std::string_view s, LogLevel& out);
std::string_view log_level_name(LogLevel l);
// The "YYYY/MM/DD HH:MM:SS" prefix text, refreshed by the loop once per second.
void set_log_time(std::string_view t);

void log(LogLevel level, std::string_view msg);
void logf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace riptide::core
