#include "config/builder.hpp"

#include <algorithm>

#include "config/units.hpp"

namespace riptide::config::detail {

void fail(const Position& pos, const std::string& message) { throw ConfigError(pos, message); }

std::string context_name(unsigned context) {
    static constexpr std::pair<unsigned, std::string_view> names[] = {
        {kMain, "main"},         {kEvents, "events"},     {kHttp, "http"},   {kServer, "server"},
        {kLocation, "location"}, {kUpstream, "upstream"}, {kTypes, "types"},
    };
    std::string out;
    for (auto [bit, name] : names) {
        if ((context & bit) == 0) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

bool flag_arg(const Directive& d, std::size_t i) {
    const Arg& a = d.args.at(i);
    if (a.text == "on") return true;
    if (a.text == "off") return false;
    fail(a.pos, "invalid value " + quote(a.text) + " in " + quote(d.name) +
                    " directive: expected \"on\" or \"off\"");
}

std::int64_t size_arg(const Directive& d, const Arg& a) {
    auto v = parse_size(a.text);
    if (!v) {
        fail(a.pos, "invalid size " + quote(a.text) + " in " + quote(d.name) +
                        " directive: expected a number of bytes with an optional k, m or g suffix "
                        "(for example 512, 10k, 1m)");
    }
    return *v;
}

std::int64_t time_arg(const Directive& d, const Arg& a) {
    auto v = parse_time_ms(a.text);
    if (!v) {
        fail(a.pos, "invalid time " + quote(a.text) + " in " + quote(d.name) +
                        " directive: expected a number with an optional unit ms, s, m, h, d, w, M "
                        "or y, larger units first (for example 75s, 500ms, 1h30m)");
    }
    return *v;
}

std::int64_t count_arg(const Directive& d, const Arg& a, std::int64_t min, std::int64_t max) {
    auto v = parse_count(a.text);
    if (!v || *v < min || *v > max) {
        fail(a.pos, "invalid number " + quote(a.text) + " in " + quote(d.name) +
                        " directive: expected a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max));
    }
    return *v;
}

std::optional<std::string_view> param_value(const Arg& a, std::string_view name) {
    std::string_view t = a.text;
    if (t.size() > name.size() && t.starts_with(name) && t[name.size()] == '=') {
        return t.substr(name.size() + 1);
    }
    return std::nullopt;
}

const std::string& nonempty_arg(const Directive& d, const Arg& a) {
    if (a.text.empty()) fail(a.pos, "empty value in " + quote(d.name) + " directive: expected a non-empty value");
    return a.text;
}

namespace {

std::string expected_args(const DirectiveSpec& s) {
    if (s.max_args == 0) return "no arguments";
    if (s.min_args == s.max_args) {
        return std::to_string(s.min_args) + (s.min_args == 1 ? " argument" : " arguments");
    }
    if (s.max_args == kAnyArgs) return "at least " + std::to_string(s.min_args) + (s.min_args == 1 ? " argument" : " arguments");
    return std::to_string(s.min_args) + " to " + std::to_string(s.max_args) + " arguments";
}

}  // namespace

void Builder::run_block(const std::vector<Directive>& block, Scope scope) {
    std::map<std::string, Position> seen;
    for (const auto& d : block) run_directive(d, scope, seen);
}

void Builder::run_directive(const Directive& d, Scope& scope, std::map<std::string, Position>& seen) {
    const DirectiveSpec* spec = nullptr;
    unsigned allowed = 0;
    for (const auto* s : specs_) {
        if (s->name != d.name) continue;
        allowed |= s->contexts;
        if ((s->contexts & scope.context) != 0) {
            spec = s;
            break;
        }
    }
    if (allowed == 0) fail(d.pos, "unknown directive " + quote(d.name));
    if (spec == nullptr) {
        fail(d.pos, quote(d.name) + " directive is not allowed here in " + context_name(scope.context) +
                        " (it belongs in: " + context_name(allowed) + ")");
    }
    const auto n = static_cast<int>(d.args.size());
    if (n < spec->min_args || (spec->max_args != kAnyArgs && n > spec->max_args)) {
        fail(d.pos, "invalid number of arguments in " + quote(d.name) + " directive: expected " +
                        expected_args(*spec) + ", got " + std::to_string(n));
    }
    if (spec->block && !d.has_block) {
        fail(d.pos, quote(d.name) + " directive has no opening \"{\": expected a block after its arguments");
    }
    if (!spec->block && d.has_block) {
        fail(d.pos, quote(d.name) + " directive does not take a block: expected \";\" after its arguments");
    }
    if (!spec->repeatable) {
        auto [it, inserted] = seen.emplace(d.name, d.pos);
        if (!inserted) {
            fail(d.pos, quote(d.name) + " directive is duplicate: it was already set at " +
                            it->second.to_string());
        }
    }
    // Recorded after the handler so that it can tell the first occurrence at this
    // level (which replaces inherited or default lists) from the next ones.
    spec->handler(*this, d, scope);
    if (scope.settings != nullptr) scope.settings->set_here.insert(d.name);
}

Config Builder::build(const std::vector<Directive>& tree, std::vector<SourceFile> files) {
    specs_.clear();
    for (auto table : {main_directives(), http_directives(), server_directives(), compat_directives()}) {
        for (const auto& s : table) specs_.push_back(&s);
    }
    Config config;
    config.files = std::move(files);
    Scope scope;
    scope.context = kMain;
    scope.config = &config;
    run_block(tree, scope);
    finish(config);
    return config;
}

// ---- after the walk: defaults, cross-references, inheritance ----

namespace {

void inherit(Settings& s, const Settings& p) {
    // Copy field `f` from the parent unless one of `names` was set at this level.
    auto unset = [&s](std::initializer_list<std::string_view> names) {
        return std::none_of(names.begin(), names.end(), [&s](std::string_view n) { return s.is_set(n); });
    };
    if (unset({"root", "alias"})) {
        s.root = p.root;
        s.alias = p.alias;
    }
    if (unset({"index"})) s.index = p.index;
    if (unset({"autoindex"})) s.autoindex = p.autoindex;
    if (unset({"keepalive_timeout"})) {
        s.keepalive_timeout_ms = p.keepalive_timeout_ms;
        s.keepalive_header_timeout_ms = p.keepalive_header_timeout_ms;
    }
    if (unset({"keepalive_requests"})) s.keepalive_requests = p.keepalive_requests;
    if (unset({"client_header_timeout"})) s.client_header_timeout_ms = p.client_header_timeout_ms;
    if (unset({"client_body_timeout"})) s.client_body_timeout_ms = p.client_body_timeout_ms;
    if (unset({"send_timeout"})) s.send_timeout_ms = p.send_timeout_ms;
    if (unset({"client_max_body_size"})) s.client_max_body_size = p.client_max_body_size;
    if (unset({"client_header_buffer_size"})) s.client_header_buffer_size = p.client_header_buffer_size;
    if (unset({"large_client_header_buffers"})) {
        s.large_client_header_buffers_count = p.large_client_header_buffers_count;
        s.large_client_header_buffers_size = p.large_client_header_buffers_size;
    }
    if (unset({"default_type"})) s.default_type = p.default_type;
    if (unset({"types"})) s.types = p.types;
    if (unset({"sendfile"})) s.sendfile = p.sendfile;
    if (unset({"tcp_nopush"})) s.tcp_nopush = p.tcp_nopush;
    if (unset({"tcp_nodelay"})) s.tcp_nodelay = p.tcp_nodelay;
    if (unset({"access_log"})) {
        s.access_logs = p.access_logs;
        s.access_log_off = p.access_log_off;
    }
    if (unset({"server_tokens"})) s.server_tokens = p.server_tokens;
    if (unset({"max_ranges"})) s.max_ranges = p.max_ranges;
    if (unset({"add_header"})) s.add_headers = p.add_headers;
    if (unset({"expires"})) s.expires = p.expires;
    if (unset({"error_page"})) s.error_pages = p.error_pages;
    if (unset({"etag"})) s.etag = p.etag;
    if (unset({"if_modified_since"})) s.if_modified_since = p.if_modified_since;
    if (unset({"open_file_cache"})) s.open_file_cache = p.open_file_cache;
    if (unset({"proxy_set_header"})) s.proxy_set_headers = p.proxy_set_headers;
    if (unset({"proxy_connect_timeout"})) s.proxy_connect_timeout_ms = p.proxy_connect_timeout_ms;
    if (unset({"proxy_read_timeout"})) s.proxy_read_timeout_ms = p.proxy_read_timeout_ms;
    if (unset({"proxy_send_timeout"})) s.proxy_send_timeout_ms = p.proxy_send_timeout_ms;
    if (unset({"proxy_next_upstream"})) s.proxy_next_upstream = p.proxy_next_upstream;
    if (unset({"proxy_buffering"})) s.proxy_buffering = p.proxy_buffering;
    if (unset({"proxy_http_version"})) s.proxy_http_version = p.proxy_http_version;
    if (unset({"charset"})) s.charset = p.charset;
    if (unset({"allow", "deny"})) s.access = p.access;
}

void inherit_locations(std::vector<LocationConfig>& locations, const Settings& parent) {
    for (auto& loc : locations) {
        inherit(loc.settings, parent);
        inherit_locations(loc.locations, loc.settings);
    }
}

template <typename Fn>
void for_each_location(std::vector<LocationConfig>& locations, Fn&& fn) {
    for (auto& loc : locations) {
        fn(loc);
        for_each_location(loc.locations, fn);
    }
}

void check_access_logs(const HttpConfig& http, const Settings& s) {
    for (const auto& log : s.access_logs) {
        if (http.log_format(log.format) == nullptr) {
            fail(log.pos, "unknown log format " + quote(log.format) +
                              " in \"access_log\" directive: define it with log_format in http{}");
        }
    }
}

void check_server_names(const HttpConfig& http) {
    // An explicitly written name used twice on one address would make one server
    // unreachable; nginx only warns, riptide refuses.
    std::map<std::string, std::map<std::string, Position>> seen;  // address → name key → pos
    for (const auto& server : http.servers) {
        for (const auto& listen : server.listens) {
            auto& names = seen[listen.address()];
            for (const auto& n : server.server_names) {
                if (n.kind == ServerName::Kind::Regex || !n.pos.file) continue;
                std::string key = std::to_string(static_cast<int>(n.kind)) + n.name;
                auto [it, inserted] = names.emplace(key, n.pos);
                if (!inserted && it->second.to_string() != n.pos.to_string()) {
                    fail(n.pos, "conflicting server name " + quote(n.name) + " on " + listen.address() +
                                    ": another server already uses it (at " + it->second.to_string() + ")");
                }
            }
        }
    }
}

void check_listens(const HttpConfig& http) {
    std::map<std::string, const ListenConfig*> defaults, options;
    for (const auto& server : http.servers) {
        for (const auto& l : server.listens) {
            const std::string addr = l.address();
            if (l.default_server) {
                auto [it, inserted] = defaults.emplace(addr, &l);
                if (!inserted) {
                    fail(l.pos, "a duplicate default server for " + addr + ": the default is already set at " +
                                    it->second->pos.to_string());
                }
            }
            if (l.reuseport || l.deferred || l.backlog || l.ipv6only) {
                auto [it, inserted] = options.emplace(addr, &l);
                if (!inserted) {
                    fail(l.pos, "duplicate listen options for " + addr + ": socket options were already set at " +
                                    it->second->pos.to_string() + "; set them in one server only");
                }
            }
        }
    }
}

void resolve_proxy_pass(const HttpConfig& http, ProxyPassConfig& p) {
    if (p.has_variables || p.has_port) return;
    if (http.upstream(p.host) != nullptr) p.upstream = p.host;
}

std::shared_ptr<const std::map<std::string, std::string>> default_types() {
    // nginx's built-in table when no types{} is given.
    return std::make_shared<const std::map<std::string, std::string>>(std::map<std::string, std::string>{
        {"html", "text/html"}, {"gif", "image/gif"}, {"jpg", "image/jpeg"}});
}

}  // namespace

void Builder::finish(Config& config) {
    if (!config.http) return;
    HttpConfig& http = *config.http;
    if (!http.settings.types) http.settings.types = default_types();
    if (!http.settings.is_set("access_log")) {
        AccessLogConfig log;
        log.path = "logs/access.log";
        http.settings.access_logs.push_back(log);
    }

    check_access_logs(http, http.settings);
    for (auto& server : http.servers) {
        if (server.listens.empty()) {
            ListenConfig l;
            l.pos = server.pos;
            server.listens.push_back(l);
        }
        if (server.server_names.empty()) server.server_names.push_back(ServerName{});
        inherit(server.settings, http.settings);
        inherit_locations(server.locations, server.settings);
        inherit_locations(server.named_locations, server.settings);
        check_access_logs(http, server.settings);
        auto per_location = [&http](LocationConfig& loc) {
            check_access_logs(http, loc.settings);
            if (loc.proxy_pass) resolve_proxy_pass(http, *loc.proxy_pass);
        };
        for_each_location(server.locations, per_location);
        for_each_location(server.named_locations, per_location);
    }
    check_listens(http);
    check_server_names(http);
}

}  // namespace riptide::config::detail
