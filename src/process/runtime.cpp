#include "process/runtime.hpp"

#include "config/loader.hpp"
#include "core/log.hpp"
#include "os/file.hpp"
#include "os/error.hpp"
#include "os/log_file.hpp"
#include "os/process.hpp"

namespace riptide::process {

namespace {

void open_roots(http::Settings& s, const config::Settings& cs, const std::string& prefix) {
    auto open_one = [&](const std::string& configured) {
        if (s.roots.contains(configured)) return;
        std::string path = config::resolve_path(prefix, configured);
        auto fd = os::open_root(path);
        if (!fd) {
            core::logf(core::LogLevel::warn, "document root %s: requests for it will get 404", fd.error().what.c_str());
            s.roots.set(configured, -1);
            return;
        }
        s.roots.set(configured, fd->release());
    };
    open_one(cs.root);
    if (cs.alias) open_one(std::string(config::alias_folder(*cs.alias)));
}

// Access logs are opened (and created) here once so that a path that cannot be written is
// a start-up or reload error with its position, not a worker that fails later.
std::string check_logs(const config::Settings& cs, const std::string& prefix) {
    if (cs.access_log_off) return "";
    for (const config::AccessLogConfig& al : cs.access_logs) {
        if (al.path == "stderr") continue;
        std::string path = config::resolve_path(prefix, al.path);
        int fd = os::open_log_file(path);
        if (fd < 0) return al.pos.to_string() + ": cannot open access log \"" + path + "\": " + os::errno_text(-fd);
        os::close_fd(fd);
    }
    return "";
}

void walk(http::Settings& s, const std::vector<config::LocationConfig>& locs, const std::string& prefix,
          std::string& err) {
    for (const config::LocationConfig& l : locs) {
        open_roots(s, l.settings, prefix);
        if (err.empty()) err = check_logs(l.settings, prefix);
        walk(s, l.locations, prefix, err);
    }
}

core::LogLevel to_core(config::LogLevel l) { return static_cast<core::LogLevel>(static_cast<int>(l)); }

}  // namespace

core::Result<Runtime, std::string> make_runtime(std::shared_ptr<const config::Config> cfg, const std::string& prefix,
                                                bool quick_start) {
    if (!cfg->http) return core::Unexpected(std::string("the configuration has no http block: nothing to serve"));
    Runtime rt;
    auto s = std::make_shared<http::Settings>();
    s->config = cfg;
    s->http = &*cfg->http;
    s->prefix = prefix;
    s->quick_start = quick_start;
    s->groups = config::group_listens(*s->http);
    const config::Settings& hs = s->http->settings;
    s->parser.max_request_line = static_cast<uint32_t>(hs.large_client_header_buffers_size);
    // nginx fits a head in client_header_buffer_size, then in up to N large buffers, a
    // line never split between two: the request line and each field line within one large
    // buffer, the whole head within all of them.
    s->parser.max_field_line = static_cast<uint32_t>(hs.large_client_header_buffers_size);
    s->parser.max_header_bytes = static_cast<uint32_t>(
        hs.client_header_buffer_size + hs.large_client_header_buffers_size * hs.large_client_header_buffers_count);
    s->parser.max_headers = 100;
    s->worker_connections = cfg->main.events.worker_connections;
    if (hs.is_set("root") || hs.is_set("alias")) open_roots(*s, hs, prefix);
    std::string err = check_logs(hs, prefix);
    for (const config::ServerConfig& srv : s->http->servers) {
        open_roots(*s, srv.settings, prefix);
        if (err.empty()) err = check_logs(srv.settings, prefix);
        walk(*s, srv.locations, prefix, err);
        walk(*s, srv.named_locations, prefix, err);
    }
    if (err.empty()) err = http::resolve_upstreams(*s->http, s->upstreams);
    if (!err.empty()) {
        rt.settings = std::move(s);
        release_runtime(rt);
        return core::Unexpected(err);
    }
    rt.workers = cfg->main.worker_processes_auto ? os::cpu_count() : static_cast<int>(cfg->main.worker_processes);
    if (!quick_start) rt.pid_file = config::resolve_path(prefix, cfg->main.pid);
    if (!cfg->main.error_logs.empty()) {
        const config::ErrorLogConfig& el = cfg->main.error_logs.front();
        rt.error_log = el.path == "stderr" ? el.path : config::resolve_path(prefix, el.path);
        rt.error_level = to_core(el.level);
    } else {
        rt.error_log = quick_start ? "stderr" : config::resolve_path(prefix, "logs/error.log");
        rt.error_level = quick_start ? core::LogLevel::notice : core::LogLevel::error;
    }
    if (cfg->main.worker_rlimit_nofile) rt.rlimit_nofile = static_cast<long>(*cfg->main.worker_rlimit_nofile);
    rt.settings = std::move(s);
    return rt;
}

void release_runtime(Runtime& rt) {
    if (!rt.settings) return;
    for (const auto& [path, fd] : rt.settings->roots.all())
        if (fd >= 0) os::close_fd(fd);
    rt.settings.reset();
}

}  // namespace riptide::process
