// Directives of the main and events contexts, the http block itself, and upstream{}.
#include <algorithm>

#include "config/builder.hpp"

namespace riptide::config::detail {

namespace {

void worker_processes(Builder&, const Directive& d, Scope& s) {
    if (d.args[0].text == "auto") {
        s.config->main.worker_processes_auto = true;
        return;
    }
    s.config->main.worker_processes = static_cast<std::uint32_t>(count_arg(d, d.args[0], 1, 1024));
}

void worker_rlimit_nofile(Builder&, const Directive& d, Scope& s) {
    s.config->main.worker_rlimit_nofile = static_cast<std::uint64_t>(count_arg(d, d.args[0], 1, INT32_MAX));
}

void error_log(Builder&, const Directive& d, Scope& s) {
    static constexpr std::pair<std::string_view, LogLevel> levels[] = {
        {"debug", LogLevel::Debug}, {"info", LogLevel::Info},   {"notice", LogLevel::Notice},
        {"warn", LogLevel::Warn},   {"error", LogLevel::Error}, {"crit", LogLevel::Crit},
        {"alert", LogLevel::Alert}, {"emerg", LogLevel::Emerg},
    };
    ErrorLogConfig log;
    log.path = nonempty_arg(d, d.args[0]);
    log.pos = d.pos;
    if (d.args.size() == 2) {
        const Arg& a = d.args[1];
        auto it = std::find_if(std::begin(levels), std::end(levels), [&a](auto& l) { return l.first == a.text; });
        if (it == std::end(levels)) {
            fail(a.pos, "invalid log level " + quote(a.text) +
                            " in \"error_log\" directive: expected debug, info, notice, warn, error, crit, "
                            "alert or emerg");
        }
        log.level = it->second;
    }
    if (s.context != kMain && s.context != kHttp)
        s.config->warnings.push_back(d.pos.to_string() + ": riptide keeps one error log per process; "
                                                         "\"error_log\" here applies to the whole server");
    s.config->main.error_logs.push_back(std::move(log));
}

void user(Builder&, const Directive& d, Scope& s) {
    s.config->main.user = nonempty_arg(d, d.args[0]);
    s.config->main.group = d.args.size() > 1 ? d.args[1].text : std::string();
}

void pid(Builder&, const Directive& d, Scope& s) { s.config->main.pid = nonempty_arg(d, d.args[0]); }
void daemon(Builder&, const Directive& d, Scope& s) { s.config->main.daemon = flag_arg(d); }

void events(Builder& b, const Directive& d, Scope& s) {
    Scope inner = s;
    inner.context = kEvents;
    b.run_block(d.children, inner);
}

void worker_connections(Builder&, const Directive& d, Scope& s) {
    s.config->main.events.worker_connections = static_cast<std::uint32_t>(count_arg(d, d.args[0], 1, 1 << 24));
}

void use(Builder&, const Directive& d, Scope&) {
    if (d.args[0].text != "epoll") {
        fail(d.args[0].pos, "invalid event method " + quote(d.args[0].text) +
                                " in \"use\" directive: riptide supports only \"epoll\"");
    }
}

void multi_accept(Builder&, const Directive& d, Scope& s) { s.config->main.events.multi_accept = flag_arg(d); }
void accept_mutex(Builder&, const Directive& d, Scope& s) { s.config->main.events.accept_mutex = flag_arg(d); }

void http(Builder& b, const Directive& d, Scope& s) {
    s.config->http.emplace();
    HttpConfig& h = *s.config->http;
    LogFormat combined;
    combined.name = "combined";
    combined.text = std::string(kCombinedLogFormat);
    combined.segments = split_log_format(combined.text, d.pos);
    h.log_formats.push_back(std::move(combined));
    Scope inner = s;
    inner.context = kHttp;
    inner.http = &h;
    inner.settings = &h.settings;
    b.run_block(d.children, inner);
}

// ---- upstream{} ----

void upstream(Builder& b, const Directive& d, Scope& s) {
    const std::string& name = nonempty_arg(d, d.args[0]);
    if (const auto* other = s.http->upstream(name)) {
        fail(d.args[0].pos, "duplicate upstream " + quote(name) + ": already defined at " + other->pos.to_string());
    }
    s.http->upstreams.emplace_back();
    UpstreamConfig& u = s.http->upstreams.back();
    u.name = name;
    u.pos = d.pos;
    Scope inner = s;
    inner.context = kUpstream;
    inner.upstream = &u;
    inner.settings = nullptr;
    b.run_block(d.children, inner);
    if (u.servers.empty()) fail(d.pos, "no servers are inside upstream " + quote(name) + ": add at least one \"server\"");
    if (u.method == BalanceMethod::IpHash || u.method == BalanceMethod::Hash) {
        for (const auto& srv : u.servers) {
            if (srv.backup) {
                fail(srv.pos, "the \"backup\" server parameter cannot be used with the hash or ip_hash "
                              "balancing method of upstream " + quote(name));
            }
        }
    }
}

// Splits "host:port", "host", "[v6]:port" or "[v6]"; port defaults to 80.
void split_host_port(const Directive& d, const Arg& a, std::string& host, std::uint16_t& port) {
    std::string_view t = a.text;
    std::string_view port_text;
    if (t.starts_with("unix:")) {
        fail(a.pos, "unix sockets are not supported in " + quote(d.name) + " directive: expected host:port");
    }
    if (t.starts_with("[")) {
        auto close = t.find(']');
        if (close == std::string_view::npos) fail(a.pos, "invalid address " + quote(a.text) + ": missing \"]\"");
        host = std::string(t.substr(1, close - 1));
        std::string_view rest = t.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') fail(a.pos, "invalid address " + quote(a.text) + ": expected \":port\" after \"]\"");
            port_text = rest.substr(1);
        }
    } else {
        auto colon = t.rfind(':');
        host = std::string(t.substr(0, colon));
        if (colon != std::string_view::npos) port_text = t.substr(colon + 1);
    }
    if (host.empty()) fail(a.pos, "invalid address " + quote(a.text) + ": the host is empty");
    if (!port_text.empty() || t.ends_with(":")) {
        Arg p{std::string(port_text), false, a.pos};
        port = static_cast<std::uint16_t>(count_arg(d, p, 1, 65535));
    }
}

void upstream_server(Builder&, const Directive& d, Scope& s) {
    UpstreamServerConfig srv;
    srv.pos = d.pos;
    split_host_port(d, d.args[0], srv.host, srv.port);
    for (std::size_t i = 1; i < d.args.size(); ++i) {
        const Arg& a = d.args[i];
        if (auto v = param_value(a, "weight")) {
            srv.weight = static_cast<std::uint32_t>(count_arg(d, Arg{std::string(*v), false, a.pos}, 1, 1000));
        } else if (auto mf = param_value(a, "max_fails")) {
            srv.max_fails = static_cast<std::uint32_t>(count_arg(d, Arg{std::string(*mf), false, a.pos}, 0, 1000));
        } else if (auto ft = param_value(a, "fail_timeout")) {
            srv.fail_timeout_ms = time_arg(d, Arg{std::string(*ft), false, a.pos});
        } else if (a.text == "backup") {
            srv.backup = true;
        } else if (a.text == "down") {
            srv.down = true;
        } else {
            fail(a.pos, "invalid parameter " + quote(a.text) +
                            " in upstream \"server\" directive: expected weight=N, max_fails=N, "
                            "fail_timeout=time, backup or down");
        }
    }
    s.upstream->servers.push_back(std::move(srv));
}

void set_method(const Directive& d, UpstreamConfig& u, BalanceMethod m) {
    if (u.method != BalanceMethod::RoundRobin) {
        fail(d.pos, "load balancing method redefined by " + quote(d.name) + " in upstream " + quote(u.name) +
                        ": use only one of least_conn, ip_hash, hash");
    }
    u.method = m;
}

void upstream_keepalive(Builder&, const Directive& d, Scope& s) {
    s.upstream->keepalive = static_cast<std::uint32_t>(count_arg(d, d.args[0], 1, 1 << 20));
}

void least_conn(Builder&, const Directive& d, Scope& s) { set_method(d, *s.upstream, BalanceMethod::LeastConn); }
void ip_hash(Builder&, const Directive& d, Scope& s) { set_method(d, *s.upstream, BalanceMethod::IpHash); }

void hash(Builder&, const Directive& d, Scope& s) {
    set_method(d, *s.upstream, BalanceMethod::Hash);
    s.upstream->hash_key = nonempty_arg(d, d.args[0]);
    if (d.args.size() == 2) {
        if (d.args[1].text != "consistent") {
            fail(d.args[1].pos, "invalid parameter " + quote(d.args[1].text) +
                                    " in \"hash\" directive: expected \"consistent\"");
        }
        s.upstream->hash_consistent = true;
    }
}

constexpr DirectiveSpec kSpecs[] = {
    {"worker_processes", kMain, 1, 1, false, false, worker_processes},
    {"worker_rlimit_nofile", kMain, 1, 1, false, false, worker_rlimit_nofile},
    {"error_log", kMain | kHttp | kServer | kLocation, 1, 2, false, true, error_log},
    {"user", kMain, 1, 2, false, false, user},
    {"pid", kMain, 1, 1, false, false, pid},
    {"daemon", kMain, 1, 1, false, false, daemon},
    {"events", kMain, 0, 0, true, false, events},
    {"worker_connections", kEvents, 1, 1, false, false, worker_connections},
    {"use", kEvents, 1, 1, false, false, use},
    {"multi_accept", kEvents, 1, 1, false, false, multi_accept},
    {"accept_mutex", kEvents, 1, 1, false, false, accept_mutex},
    {"http", kMain, 0, 0, true, false, http},
    {"upstream", kHttp, 1, 1, true, true, upstream},
    {"server", kUpstream, 1, kAnyArgs, false, true, upstream_server},
    {"keepalive", kUpstream, 1, 1, false, false, upstream_keepalive},
    {"least_conn", kUpstream, 0, 0, false, true, least_conn},
    {"ip_hash", kUpstream, 0, 0, false, true, ip_hash},
    {"hash", kUpstream, 1, 2, false, true, hash},
};

}  // namespace

std::span<const DirectiveSpec> main_directives() { return kSpecs; }

}  // namespace riptide::config::detail
