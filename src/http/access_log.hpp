// The access log: log_format compiled once into literal pieces and variables, lines
// gathered in a per-worker buffer per file and written on buffer full, on the flush
// interval and at exit, so a line is never cut in half (one write per flush, whole lines).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "event/loop.hpp"
#include "event/timer.hpp"

namespace riptide::http {

struct Exchange;

class AccessLogs {
public:
    explicit AccessLogs(event::Loop& loop) : loop_(loop) {}
    ~AccessLogs();
    AccessLogs(const AccessLogs&) = delete;
    AccessLogs& operator=(const AccessLogs&) = delete;

    // Opens every access_log of the configuration. Returns an error text or "".
    std::string open_all(const config::HttpConfig& http, const std::string& prefix);
    // Writes the lines for this exchange to the logs of its effective settings.
    void log(const Exchange& ex);
    void flush_all();
    // SIGUSR1: flush, then reopen every file by its path (logrotate renamed it).
    void reopen_all();

private:
    struct File {
        std::string path;
        int fd = -1;
        std::string buffer;
        size_t buffer_size = 0;  // 0: write each line at once
        uint64_t flush_ms = 0;
        bool timer_armed = false;
        event::Timer timer;
        AccessLogs* owner = nullptr;
    };
    struct Format {
        std::vector<config::LogSegment> segments;
        config::LogEscape escape = config::LogEscape::Default;
    };
    struct Target {
        File* file;
        const Format* format;
    };
    static void on_flush(void* file);
    void flush(File& f);
    const std::vector<Target>* targets_for(const config::Settings* s);
    void collect(const config::Settings& s, const config::HttpConfig& http, const std::string& prefix,
                 std::string& err);

    event::Loop& loop_;
    std::vector<std::unique_ptr<File>> files_;
    std::vector<std::unique_ptr<Format>> formats_;
    std::unordered_map<const config::Settings*, std::vector<Target>> by_settings_;
    std::string line_;
};

}  // namespace riptide::http
