// Directives that http, server and location share (the ones inner levels inherit),
// plus log_format and types{}.
#include <algorithm>

#include "config/builder.hpp"

#include <arpa/inet.h>

namespace riptide::config::detail {

namespace {

constexpr unsigned kHS = kHttp | kServer;
constexpr unsigned kHSL = kHttp | kServer | kLocation;

Settings& st(Scope& s) { return *s.settings; }

void root(Builder&, const Directive& d, Scope& s) {
    if (st(s).is_set("alias")) {
        fail(d.pos, "\"root\" directive is duplicate: \"alias\" was already given in this location; use one of them");
    }
    st(s).root = nonempty_arg(d, d.args[0]);
    st(s).alias.reset();
}

void alias(Builder&, const Directive& d, Scope& s) {
    if (st(s).is_set("root")) {
        fail(d.pos, "\"alias\" directive is duplicate: \"root\" was already given in this location; use one of them");
    }
    st(s).alias = nonempty_arg(d, d.args[0]);
}

void index(Builder&, const Directive& d, Scope& s) {
    if (!st(s).is_set("index")) st(s).index.clear();
    for (const auto& a : d.args) st(s).index.push_back(nonempty_arg(d, a));
}

void autoindex(Builder&, const Directive& d, Scope& s) { st(s).autoindex = flag_arg(d); }

void keepalive_timeout(Builder&, const Directive& d, Scope& s) {
    st(s).keepalive_timeout_ms = time_arg(d, d.args[0]);
    if (d.args.size() == 2) st(s).keepalive_header_timeout_ms = time_arg(d, d.args[1]);
}

void keepalive_requests(Builder&, const Directive& d, Scope& s) {
    st(s).keepalive_requests = static_cast<std::uint32_t>(count_arg(d, d.args[0], 0, UINT32_MAX));
}

void client_header_timeout(Builder&, const Directive& d, Scope& s) { st(s).client_header_timeout_ms = time_arg(d, d.args[0]); }
void client_body_timeout(Builder&, const Directive& d, Scope& s) { st(s).client_body_timeout_ms = time_arg(d, d.args[0]); }
void send_timeout(Builder&, const Directive& d, Scope& s) { st(s).send_timeout_ms = time_arg(d, d.args[0]); }
void client_max_body_size(Builder&, const Directive& d, Scope& s) { st(s).client_max_body_size = size_arg(d, d.args[0]); }

void client_header_buffer_size(Builder&, const Directive& d, Scope& s) {
    std::int64_t v = size_arg(d, d.args[0]);
    if (v == 0) fail(d.args[0].pos, "invalid size \"0\" in \"client_header_buffer_size\" directive: expected at least 1 byte");
    st(s).client_header_buffer_size = v;
}

void large_client_header_buffers(Builder&, const Directive& d, Scope& s) {
    st(s).large_client_header_buffers_count = static_cast<std::uint32_t>(count_arg(d, d.args[0], 1, 1024));
    std::int64_t size = size_arg(d, d.args[1]);
    if (size == 0) fail(d.args[1].pos, "invalid size \"0\" in \"large_client_header_buffers\" directive: expected at least 1 byte");
    st(s).large_client_header_buffers_size = size;
}

void default_type(Builder&, const Directive& d, Scope& s) { st(s).default_type = nonempty_arg(d, d.args[0]); }

void types(Builder&, const Directive& d, Scope& s) {
    std::map<std::string, std::string> table;
    std::map<std::string, Position> where;
    for (const auto& entry : d.children) {
        if (entry.has_block) fail(entry.pos, "unexpected block in \"types\": expected \"type extension ...;\"");
        if (entry.args.empty()) {
            fail(entry.pos, "invalid number of arguments for type " + quote(entry.name) +
                                " in \"types\": expected at least one file extension");
        }
        for (const auto& a : entry.args) {
            std::string ext = a.text;
            std::transform(ext.begin(), ext.end(), ext.begin(),
                           [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
            if (ext.empty()) fail(a.pos, "empty extension for type " + quote(entry.name) + " in \"types\"");
            auto [it, inserted] = where.emplace(ext, a.pos);
            if (!inserted) {
                fail(a.pos, "duplicate extension " + quote(ext) + " in \"types\": it is already mapped to " +
                                quote(table[ext]) + " at " + it->second.to_string());
            }
            table[ext] = entry.name;
        }
    }
    st(s).types = std::make_shared<const std::map<std::string, std::string>>(std::move(table));
}

void sendfile(Builder&, const Directive& d, Scope& s) { st(s).sendfile = flag_arg(d); }
void tcp_nopush(Builder&, const Directive& d, Scope& s) { st(s).tcp_nopush = flag_arg(d); }
void tcp_nodelay(Builder&, const Directive& d, Scope& s) { st(s).tcp_nodelay = flag_arg(d); }
void server_tokens(Builder&, const Directive& d, Scope& s) { st(s).server_tokens = flag_arg(d); }
void etag(Builder&, const Directive& d, Scope& s) { st(s).etag = flag_arg(d); }
void charset(Builder&, const Directive& d, Scope& s) {
    const std::string& v = nonempty_arg(d, d.args[0]);
    st(s).charset = v == "off" ? std::string() : v;
}

void access_rule(Builder&, const Directive& d, Scope& s) {
    Settings& set = st(s);
    AccessRule r;
    r.allow = d.name == "allow";
    r.pos = d.pos;
    const std::string& v = nonempty_arg(d, d.args[0]);
    if (v == "all") {
        r.all = true;
    } else {
        std::string addr = v;
        int max_bits = 0;
        size_t slash = v.find('/');
        if (slash != std::string::npos) addr = v.substr(0, slash);
        if (inet_pton(AF_INET, addr.c_str(), r.addr) == 1) {
            r.family = AF_INET;
            max_bits = 32;
        } else if (inet_pton(AF_INET6, addr.c_str(), r.addr) == 1) {
            r.family = AF_INET6;
            max_bits = 128;
        } else {
            fail(d.args[0].pos, "invalid address " + quote(v) + " in \"" + d.name +
                                    "\" directive: expected an IPv4 or IPv6 address, a CIDR block or \"all\"");
        }
        r.prefix = static_cast<unsigned>(max_bits);
        if (slash != std::string::npos) {
            std::string bits = v.substr(slash + 1);
            bool ok = !bits.empty() && bits.size() <= 3 && bits.find_first_not_of("0123456789") == std::string::npos;
            int n = ok ? std::stoi(bits) : -1;
            if (n < 0 || n > max_bits)
                fail(d.args[0].pos, "invalid prefix length " + quote(bits) + " in \"" + d.name + "\" directive");
            r.prefix = static_cast<unsigned>(n);
        }
    }
    // The first allow/deny at a level replaces the inherited list (nginx's array rule).
    if (!set.is_set("allow") && !set.is_set("deny")) set.access.clear();
    set.access.push_back(r);
}

void access_log(Builder&, const Directive& d, Scope& s) {
    Settings& set = st(s);
    const bool first = !set.is_set("access_log");
    if (d.args[0].text == "off") {
        if (d.args.size() != 1) {
            fail(d.args[1].pos, "unexpected " + quote(d.args[1].text) + " after \"access_log off\": expected \";\"");
        }
        if (!first) fail(d.pos, "\"access_log off\" cannot be combined with other access_log directives at the same level");
        set.access_log_off = true;
        return;
    }
    if (!first && set.access_log_off) {
        fail(d.pos, "\"access_log\" cannot be combined with \"access_log off\" at the same level");
    }
    AccessLogConfig log;
    log.path = nonempty_arg(d, d.args[0]);
    log.pos = d.pos;
    for (std::size_t i = 1; i < d.args.size(); ++i) {
        const Arg& a = d.args[i];
        if (auto b = param_value(a, "buffer")) {
            log.buffer_bytes = size_arg(d, Arg{std::string(*b), false, a.pos});
        } else if (auto f = param_value(a, "flush")) {
            log.flush_ms = time_arg(d, Arg{std::string(*f), false, a.pos});
        } else if (i == 1 && a.text.find('=') == std::string::npos) {
            log.format = nonempty_arg(d, a);
        } else {
            fail(a.pos, "invalid parameter " + quote(a.text) +
                            " in \"access_log\" directive: expected a format name first, then buffer=size "
                            "and flush=time (gzip and if= are not supported)");
        }
    }
    if (log.flush_ms && !log.buffer_bytes) {
        fail(d.pos, "\"access_log\" has flush= but no buffer=: flush needs a buffer to flush");
    }
    if (first) set.access_logs.clear();
    set.access_logs.push_back(std::move(log));
}


void log_format(Builder&, const Directive& d, Scope& s) {
    LogFormat f;
    f.name = nonempty_arg(d, d.args[0]);
    f.pos = d.pos;
    if (const auto* other = s.http->log_format(f.name)) {
        fail(d.args[0].pos, "duplicate log_format name " + quote(f.name) +
                                (other->pos.file ? ": already defined at " + other->pos.to_string()
                                                 : ": it is predefined"));
    }
    std::size_t first = 1;
    if (auto e = param_value(d.args[1], "escape")) {
        if (*e == "default") f.escape = LogEscape::Default;
        else if (*e == "json") f.escape = LogEscape::Json;
        else if (*e == "none") f.escape = LogEscape::None;
        else fail(d.args[1].pos, "invalid escape " + quote(*e) + " in \"log_format\": expected default, json or none");
        first = 2;
    }
    if (first >= d.args.size()) fail(d.pos, "invalid number of arguments in \"log_format\" directive: expected a format string");
    for (std::size_t i = first; i < d.args.size(); ++i) f.text += d.args[i].text;
    f.segments = split_log_format(f.text, d.args[first].pos);
    s.http->log_formats.push_back(std::move(f));
}

void max_ranges(Builder&, const Directive& d, Scope& s) {
    st(s).max_ranges = static_cast<std::uint32_t>(count_arg(d, d.args[0], 0, INT32_MAX));
}

void add_header(Builder&, const Directive& d, Scope& s) {
    HeaderConfig h{nonempty_arg(d, d.args[0]), d.args[1].text, false, d.pos};
    if (d.args.size() == 3) {
        if (d.args[2].text != "always") {
            fail(d.args[2].pos, "invalid parameter " + quote(d.args[2].text) + " in \"add_header\" directive: expected \"always\"");
        }
        h.always = true;
    }
    st(s).add_headers.push_back(std::move(h));
}

void expires(Builder&, const Directive& d, Scope& s) {
    const Arg& a = d.args[0];
    ExpiresConfig e;
    if (a.text == "off") {
        e.mode = ExpiresConfig::Mode::Off;
    } else if (a.text == "epoch") {
        e.mode = ExpiresConfig::Mode::Epoch;
    } else if (a.text == "max") {
        e.mode = ExpiresConfig::Mode::Max;
    } else if (a.text == "modified" || a.text.starts_with("@")) {
        fail(a.pos, "\"expires\" " + quote(a.text) + " is not supported: expected off, epoch, max, time or -time");
    } else {
        bool negative = a.text.starts_with("-");
        Arg t{negative ? a.text.substr(1) : a.text, a.quoted, a.pos};
        e.mode = ExpiresConfig::Mode::Time;
        e.offset_ms = time_arg(d, t) * (negative ? -1 : 1);
    }
    st(s).expires = e;
}

int status_code(const Directive& d, const Arg& a, std::string_view text, int min, int max) {
    return static_cast<int>(count_arg(d, Arg{std::string(text), false, a.pos}, min, max));
}

void error_page(Builder&, const Directive& d, Scope& s) {
    ErrorPageConfig ep;
    ep.pos = d.pos;
    ep.uri = nonempty_arg(d, d.args.back());
    std::size_t codes_end = d.args.size() - 1;
    const Arg& maybe_eq = d.args[codes_end - 1];
    if (maybe_eq.text.starts_with("=")) {
        ep.response_code = maybe_eq.text.size() == 1 ? 0 : status_code(d, maybe_eq, maybe_eq.text.substr(1), 100, 599);
        --codes_end;
    }
    if (codes_end == 0) fail(d.pos, "invalid number of arguments in \"error_page\" directive: expected at least one status code before the uri");
    for (std::size_t i = 0; i < codes_end; ++i) {
        int code = status_code(d, d.args[i], d.args[i].text, 300, 599);
        if (code == 499) fail(d.args[i].pos, "value \"499\" in \"error_page\" directive is not allowed: expected a code from 300 to 599 other than 499");
        ep.codes.push_back(code);
    }
    st(s).error_pages.push_back(std::move(ep));
}

void if_modified_since(Builder&, const Directive& d, Scope& s) {
    const Arg& a = d.args[0];
    if (a.text == "off") st(s).if_modified_since = IfModifiedSince::Off;
    else if (a.text == "exact") st(s).if_modified_since = IfModifiedSince::Exact;
    else if (a.text == "before") st(s).if_modified_since = IfModifiedSince::Before;
    else fail(a.pos, "invalid value " + quote(a.text) + " in \"if_modified_since\" directive: expected off, exact or before");
}

void open_file_cache(Builder&, const Directive& d, Scope& s) {
    OpenFileCacheConfig c;
    if (d.args[0].text == "off") {
        if (d.args.size() != 1) fail(d.args[1].pos, "unexpected " + quote(d.args[1].text) + " after \"open_file_cache off\"");
        st(s).open_file_cache = c;
        return;
    }
    c.enabled = true;
    bool has_max = false;
    for (const auto& a : d.args) {
        if (auto m = param_value(a, "max")) {
            c.max = static_cast<std::uint64_t>(count_arg(d, Arg{std::string(*m), false, a.pos}, 1, INT32_MAX));
            has_max = true;
        } else if (auto i = param_value(a, "inactive")) {
            c.inactive_ms = time_arg(d, Arg{std::string(*i), false, a.pos});
        } else {
            fail(a.pos, "invalid parameter " + quote(a.text) + " in \"open_file_cache\" directive: expected off, max=N or inactive=time");
        }
    }
    if (!has_max) fail(d.pos, "\"open_file_cache\" needs max=N");
    st(s).open_file_cache = c;
}

void proxy_set_header(Builder&, const Directive& d, Scope& s) {
    st(s).proxy_set_headers.push_back(HeaderConfig{nonempty_arg(d, d.args[0]), d.args[1].text, false, d.pos});
}

void proxy_connect_timeout(Builder&, const Directive& d, Scope& s) { st(s).proxy_connect_timeout_ms = time_arg(d, d.args[0]); }
void proxy_read_timeout(Builder&, const Directive& d, Scope& s) { st(s).proxy_read_timeout_ms = time_arg(d, d.args[0]); }
void proxy_send_timeout(Builder&, const Directive& d, Scope& s) { st(s).proxy_send_timeout_ms = time_arg(d, d.args[0]); }
void proxy_buffering(Builder&, const Directive& d, Scope& s) { st(s).proxy_buffering = flag_arg(d); }

void proxy_next_upstream(Builder&, const Directive& d, Scope& s) {
    static constexpr std::pair<std::string_view, std::uint32_t> names[] = {
        {"error", kNextError},       {"timeout", kNextTimeout}, {"invalid_header", kNextInvalidHeader},
        {"http_500", kNextHttp500},  {"http_502", kNextHttp502}, {"http_503", kNextHttp503},
        {"http_504", kNextHttp504},  {"http_404", kNextHttp404}, {"non_idempotent", kNextNonIdempotent},
    };
    std::uint32_t mask = 0;
    for (const auto& a : d.args) {
        if (a.text == "off") {
            if (d.args.size() != 1) fail(a.pos, "\"off\" in \"proxy_next_upstream\" directive must be the only value");
            continue;
        }
        auto it = std::find_if(std::begin(names), std::end(names), [&a](auto& n) { return n.first == a.text; });
        if (it == std::end(names)) {
            fail(a.pos, "invalid value " + quote(a.text) +
                            " in \"proxy_next_upstream\" directive: expected error, timeout, invalid_header, "
                            "http_500, http_502, http_503, http_504, http_404, non_idempotent or off");
        }
        mask |= it->second;
    }
    st(s).proxy_next_upstream = mask;
}

void proxy_http_version(Builder&, const Directive& d, Scope& s) {
    const Arg& a = d.args[0];
    if (a.text != "1.0" && a.text != "1.1") {
        fail(a.pos, "invalid value " + quote(a.text) + " in \"proxy_http_version\" directive: expected 1.0 or 1.1");
    }
    st(s).proxy_http_version = a.text;
}

constexpr DirectiveSpec kSpecs[] = {
    {"root", kHSL, 1, 1, false, false, root},
    {"alias", kLocation, 1, 1, false, false, alias},
    {"index", kHSL, 1, kAnyArgs, false, true, index},
    {"autoindex", kHSL, 1, 1, false, false, autoindex},
    {"keepalive_timeout", kHSL, 1, 2, false, false, keepalive_timeout},
    {"keepalive_requests", kHSL, 1, 1, false, false, keepalive_requests},
    {"client_header_timeout", kHS, 1, 1, false, false, client_header_timeout},
    {"client_body_timeout", kHSL, 1, 1, false, false, client_body_timeout},
    {"send_timeout", kHSL, 1, 1, false, false, send_timeout},
    {"client_max_body_size", kHSL, 1, 1, false, false, client_max_body_size},
    {"client_header_buffer_size", kHS, 1, 1, false, false, client_header_buffer_size},
    {"large_client_header_buffers", kHS, 2, 2, false, false, large_client_header_buffers},
    {"default_type", kHSL, 1, 1, false, false, default_type},
    {"types", kHSL, 0, 0, true, false, types},
    {"sendfile", kHSL, 1, 1, false, false, sendfile},
    {"charset", kHSL, 1, 1, false, false, charset},
    {"allow", kHSL, 1, 1, false, true, access_rule},
    {"deny", kHSL, 1, 1, false, true, access_rule},
    {"tcp_nopush", kHSL, 1, 1, false, false, tcp_nopush},
    {"tcp_nodelay", kHSL, 1, 1, false, false, tcp_nodelay},
    {"access_log", kHSL, 1, 4, false, true, access_log},
    {"log_format", kHttp, 2, kAnyArgs, false, true, log_format},
    {"server_tokens", kHSL, 1, 1, false, false, server_tokens},
    {"max_ranges", kHSL, 1, 1, false, false, max_ranges},
    {"add_header", kHSL, 2, 3, false, true, add_header},
    {"expires", kHSL, 1, 1, false, false, expires},
    {"error_page", kHSL, 2, kAnyArgs, false, true, error_page},
    {"etag", kHSL, 1, 1, false, false, etag},
    {"if_modified_since", kHSL, 1, 1, false, false, if_modified_since},
    {"open_file_cache", kHSL, 1, 2, false, false, open_file_cache},
    {"proxy_set_header", kHSL, 2, 2, false, true, proxy_set_header},
    {"proxy_connect_timeout", kHSL, 1, 1, false, false, proxy_connect_timeout},
    {"proxy_read_timeout", kHSL, 1, 1, false, false, proxy_read_timeout},
    {"proxy_send_timeout", kHSL, 1, 1, false, false, proxy_send_timeout},
    {"proxy_next_upstream", kHSL, 1, kAnyArgs, false, false, proxy_next_upstream},
    {"proxy_buffering", kHSL, 1, 1, false, false, proxy_buffering},
    {"proxy_http_version", kHSL, 1, 1, false, false, proxy_http_version},
};

}  // namespace

// Splits a format into literal text and $variables ("$name" or "${name}").
std::vector<LogSegment> split_log_format(const std::string& text, const Position& pos) {
    std::vector<LogSegment> out;
    auto is_name = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '$') {
            std::size_t j = text.find('$', i);
            if (j == std::string::npos) j = text.size();
            out.push_back(LogSegment{false, text.substr(i, j - i)});
            i = j;
            continue;
        }
        ++i;
        bool braced = i < text.size() && text[i] == '{';
        if (braced) ++i;
        std::size_t start = i;
        while (i < text.size() && is_name(text[i])) ++i;
        if (i == start || (braced && (i >= text.size() || text[i] != '}'))) {
            fail(pos, "invalid variable name in log format near " + quote(text.substr(start > 0 ? start - 1 : 0, 20)) +
                          ": expected $name or ${name}");
        }
        out.push_back(LogSegment{true, text.substr(start, i - start)});
        if (braced) ++i;
    }
    return out;
}

std::span<const DirectiveSpec> http_directives() { return kSpecs; }

}  // namespace riptide::config::detail
