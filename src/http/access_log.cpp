#include "http/access_log.hpp"

#include "config/loader.hpp"
#include "core/log.hpp"
#include "http/exchange.hpp"
#include "http/variables.hpp"
#include "os/fd.hpp"
#include "os/log_file.hpp"

namespace riptide::http {

namespace {

void escape_into(std::string& out, std::string_view v, config::LogEscape mode) {
    static const char hex[] = "0123456789ABCDEF";
    for (char ch : v) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (mode == config::LogEscape::None) {
            out += ch;
        } else if (mode == config::LogEscape::Json) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += ch;
            } else if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        } else if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
}

}  // namespace

AccessLogs::~AccessLogs() {
    flush_all();
    for (auto& f : files_) {
        loop_.cancel(f->timer);
        if (f->fd > 2) os::close_fd(f->fd);
    }
}

void AccessLogs::collect(const config::Settings& s, const config::HttpConfig& http, const std::string& prefix,
                         std::string& err) {
    std::vector<Target> targets;
    if (!s.access_log_off) {
        for (const config::AccessLogConfig& al : s.access_logs) {
            std::string path = al.path == "stderr" ? al.path : config::resolve_path(prefix, al.path);
            File* file = nullptr;
            for (auto& f : files_)
                if (f->path == path) file = f.get();
            if (!file) {
                auto f = std::make_unique<File>();
                f->path = path;
                f->fd = os::open_log_file(path);
                if (f->fd < 0) {
                    if (err.empty()) err = al.pos.to_string() + ": cannot open access log \"" + path + "\": errno " +
                                           std::to_string(-f->fd);
                    continue;
                }
                f->buffer_size = al.buffer_bytes ? static_cast<size_t>(*al.buffer_bytes) : 0;
                f->flush_ms = al.flush_ms ? static_cast<uint64_t>(*al.flush_ms) : 0;
                f->owner = this;
                f->timer.set_callback(&AccessLogs::on_flush, f.get());
                if (f->buffer_size) f->buffer.reserve(f->buffer_size);
                file = f.get();
                files_.push_back(std::move(f));
            }
            const config::LogFormat* lf = http.log_format(al.format);
            if (!lf) {
                if (err.empty()) err = al.pos.to_string() + ": unknown log format \"" + al.format + "\"";
                continue;
            }
            for (const config::LogSegment& seg : lf->segments)
                if (seg.is_variable && !known_variable(seg.text) && err.empty())
                    err = lf->pos.to_string() + ": unknown variable \"$" + seg.text + "\" in log_format";
            auto fmt = std::make_unique<Format>();
            fmt->segments = lf->segments;
            fmt->escape = lf->escape;
            targets.push_back({file, fmt.get()});
            formats_.push_back(std::move(fmt));
        }
    }
    by_settings_.emplace(&s, std::move(targets));
}

std::string AccessLogs::open_all(const config::HttpConfig& http, const std::string& prefix) {
    std::string err;
    auto walk = [&](auto& self, const std::vector<config::LocationConfig>& locs) -> void {
        for (const config::LocationConfig& l : locs) {
            collect(l.settings, http, prefix, err);
            self(self, l.locations);
        }
    };
    collect(http.settings, http, prefix, err);
    for (const config::ServerConfig& s : http.servers) {
        collect(s.settings, http, prefix, err);
        walk(walk, s.locations);
        walk(walk, s.named_locations);
    }
    return err;
}

const std::vector<AccessLogs::Target>* AccessLogs::targets_for(const config::Settings* s) {
    auto it = by_settings_.find(s);
    return it == by_settings_.end() ? nullptr : &it->second;
}

void AccessLogs::log(const Exchange& ex) {
    if (files_.empty()) return;  // no access log anywhere (quick start): no lookup per request
    const std::vector<Target>* targets = targets_for(ex.cfg);
    if (!targets || targets->empty()) return;
    for (const Target& t : *targets) {
        line_.clear();
        for (const config::LogSegment& seg : t.format->segments) {
            if (!seg.is_variable) {
                line_ += seg.text;
                continue;
            }
            std::string v;
            append_variable(ex, seg.text, v);
            if (v.empty() && t.format->escape != config::LogEscape::Json) line_ += '-';  // nginx logs "-" for empty
            else escape_into(line_, v, t.format->escape);
        }
        line_ += '\n';
        File& f = *t.file;
        if (!f.buffer_size) {
            os::append_to_log(f.fd, line_);
            continue;
        }
        if (f.buffer.size() + line_.size() > f.buffer_size) flush(f);
        if (line_.size() > f.buffer_size) {
            os::append_to_log(f.fd, line_);
            continue;
        }
        f.buffer += line_;
        if (f.flush_ms && !f.timer_armed) {
            f.timer_armed = true;
            loop_.schedule(f.timer, f.flush_ms);
        }
    }
}

void AccessLogs::on_flush(void* p) {
    File* f = static_cast<File*>(p);
    f->timer_armed = false;
    f->owner->flush(*f);
}

void AccessLogs::flush(File& f) {
    if (f.buffer.empty()) return;
    if (int err = os::append_to_log(f.fd, f.buffer))
        core::logf(core::LogLevel::alert, "write to access log \"%s\" failed: errno %d", f.path.c_str(), err);
    f.buffer.clear();
}

void AccessLogs::flush_all() {
    for (auto& f : files_) flush(*f);
}

void AccessLogs::reopen_all() {
    for (auto& f : files_) {
        flush(*f);
        if (f->fd == 2) continue;
        int fd = os::open_log_file(f->path);
        if (fd < 0) {
            core::logf(core::LogLevel::alert, "reopen of \"%s\" failed: errno %d", f->path.c_str(), -fd);
            continue;
        }
        os::close_fd(f->fd);
        f->fd = fd;
    }
}

}  // namespace riptide::http
