// server{}, listen, server_name, location{}, and the per-location actions
// (try_files, return, proxy_pass), which nginx does not inherit.
#include <arpa/inet.h>

#include <algorithm>

#include "config/builder.hpp"
#include "config/units.hpp"

namespace riptide::config::detail {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return s;
}

void server(Builder& b, const Directive& d, Scope& s) {
    s.http->servers.emplace_back();
    ServerConfig& srv = s.http->servers.back();
    srv.pos = d.pos;
    Scope inner = s;
    inner.context = kServer;
    inner.server = &srv;
    inner.settings = &srv.settings;
    b.run_block(d.children, inner);
}

// Parses the address part of listen: "addr:port", "port", "addr", "[v6]:port", "*:port".
void parse_listen_address(const Directive& d, const Arg& a, ListenConfig& l) {
    std::string_view t = a.text;
    std::string host;
    std::string_view port_text;
    if (t.starts_with("unix:")) fail(a.pos, "unix sockets are not supported in \"listen\": expected addr:port or port");
    if (t.starts_with("[")) {
        auto close = t.find(']');
        if (close == std::string_view::npos) fail(a.pos, "invalid address " + quote(a.text) + " in \"listen\": missing \"]\"");
        host = std::string(t.substr(1, close - 1));
        std::string_view rest = t.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') {
            fail(a.pos, "invalid address " + quote(a.text) + " in \"listen\": expected \":port\" after \"]\"");
        }
        if (!rest.empty()) port_text = rest.substr(1);
        in6_addr addr6{};
        if (::inet_pton(AF_INET6, host.c_str(), &addr6) != 1) {
            fail(a.pos, "invalid IPv6 address " + quote(host) + " in \"listen\"");
        }
        char buf[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, &addr6, buf, sizeof buf);
        l.host = buf;
        l.ipv6 = true;
        if (!rest.empty() && port_text.empty()) fail(a.pos, "missing port after \":\" in \"listen\" " + quote(a.text));
    } else if (std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) && !t.empty()) {
        port_text = t;
    } else {
        auto colon = t.rfind(':');
        host = std::string(t.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = t.substr(colon + 1);
            if (port_text.empty()) fail(a.pos, "missing port after \":\" in \"listen\" " + quote(a.text));
        }
        if (host == "*" || host == "0.0.0.0") {
            l.host = "*";
        } else if (host == "localhost") {
            l.host = "127.0.0.1";
        } else {
            in_addr addr4{};
            if (host.find(':') != std::string::npos) {
                fail(a.pos, "invalid address " + quote(a.text) + " in \"listen\": write IPv6 addresses in brackets, "
                            "as [::1]:8080");
            }
            if (::inet_pton(AF_INET, host.c_str(), &addr4) != 1) {
                fail(a.pos, "invalid address " + quote(host) + " in \"listen\": expected an IPv4 address, \"*\", "
                            "\"localhost\" or [IPv6] (host names are not resolved)");
            }
            l.host = host;
        }
    }
    if (!port_text.empty()) {
        // Port 0 lets the kernel pick one, which tests find handy.
        l.port = static_cast<std::uint16_t>(count_arg(d, Arg{std::string(port_text), false, a.pos}, 0, 65535));
    }
}

void listen(Builder&, const Directive& d, Scope& s) {
    ListenConfig l;
    l.pos = d.pos;
    parse_listen_address(d, d.args[0], l);
    for (std::size_t i = 1; i < d.args.size(); ++i) {
        const Arg& a = d.args[i];
        if (a.text == "default_server" || a.text == "default") {
            l.default_server = true;
        } else if (a.text == "reuseport") {
            l.reuseport = true;
        } else if (a.text == "deferred") {
            l.deferred = true;
        } else if (auto bl = param_value(a, "backlog")) {
            auto v = count_arg(d, Arg{std::string(*bl), false, a.pos}, 1, INT32_MAX);
            l.backlog = static_cast<int>(v);
        } else if (auto v6 = param_value(a, "ipv6only")) {
            if (!l.ipv6 || l.host != "::") {
                fail(a.pos, "ipv6only is only valid for the [::] wildcard address in \"listen\"");
            }
            Directive tmp{"listen", a.pos, {Arg{std::string(*v6), false, a.pos}}, false, {}};
            l.ipv6only = flag_arg(tmp);
        } else {
            fail(a.pos, "invalid parameter " + quote(a.text) +
                            " in \"listen\" directive: expected default_server, reuseport, deferred, backlog=N or "
                            "ipv6only=on|off (ssl, http2 and others are not supported yet)");
        }
    }
    for (const auto& other : s.server->listens) {
        if (other.address() == l.address()) {
            fail(d.pos, "duplicate listen " + l.address() + " in this server: it is already listed at " +
                            other.pos.to_string());
        }
    }
    s.server->listens.push_back(std::move(l));
}

void add_server_name(const Directive& d, const Arg& a, ServerConfig& srv) {
    ServerName n;
    n.pos = a.pos;
    const std::string& t = a.text;
    if (t.starts_with("~")) {
        n.kind = ServerName::Kind::Regex;
        n.name = t.substr(1);
        // Host names are case-insensitive, so nginx compiles these caseless too.
        auto r = Regex::compile(n.name, true);
        if (!r) fail(a.pos, r.error() + " in \"server_name\"");
        n.regex = std::move(r.value());
        srv.server_names.push_back(std::move(n));
        return;
    }
    std::string name = lower(t);
    if (name == ".") fail(a.pos, "invalid server name \".\" in \"server_name\": expected a host name");
    if (!name.empty() && name.back() == '.') name.pop_back();  // "example.com." is "example.com"
    auto star = name.find('*');
    if (name.starts_with(".")) {
        if (name.size() < 2 || star != std::string::npos) fail(a.pos, "invalid server name " + quote(t) + " in \"server_name\"");
        n.kind = ServerName::Kind::Exact;
        n.name = name.substr(1);
        srv.server_names.push_back(n);
        n.kind = ServerName::Kind::LeadingWildcard;
        n.name = name;
    } else if (star == std::string::npos) {
        n.kind = ServerName::Kind::Exact;
        n.name = name;
    } else if (name.starts_with("*.") && star == name.rfind('*') && name.size() > 2) {
        n.kind = ServerName::Kind::LeadingWildcard;
        n.name = name.substr(1);
    } else if (name.ends_with(".*") && star == name.size() - 1 && name.size() > 2) {
        n.kind = ServerName::Kind::TrailingWildcard;
        n.name = name.substr(0, name.size() - 1);
    } else {
        fail(a.pos, "invalid server name or wildcard " + quote(t) +
                        " in \"server_name\": \"*\" may only be a whole first label (*.example.com) or a "
                        "whole last label (www.example.*); use ~regex for anything else");
    }
    (void)d;
    srv.server_names.push_back(std::move(n));
}

void server_name(Builder&, const Directive& d, Scope& s) {
    for (const auto& a : d.args) add_server_name(d, a, *s.server);
}

// "=" and "^~" locations and plain prefixes share one namespace: "^~ /a" and "/a" clash.
int location_kind(LocationModifier m) {
    switch (m) {
        case LocationModifier::Exact:
            return 1;
        case LocationModifier::Prefix:
        case LocationModifier::PreferPrefix:
            return 2;
        case LocationModifier::Named:
            return 3;
        case LocationModifier::Regex:
        case LocationModifier::RegexCaseless:
            break;
    }
    return 0;
}

void location(Builder& b, const Directive& d, Scope& s) {
    LocationConfig loc;
    loc.pos = d.pos;
    const Arg* pattern_arg = &d.args.back();
    std::string mod;
    std::string pattern = pattern_arg->text;
    if (d.args.size() == 2) {
        mod = d.args[0].text;
        if (mod != "=" && mod != "~" && mod != "~*" && mod != "^~") {
            fail(d.args[0].pos, "invalid location modifier " + quote(mod) + ": expected =, ~, ~* or ^~");
        }
    } else if (!pattern_arg->quoted) {
        // nginx also accepts the modifier glued to the pattern: "=/x", "~*\.png$".
        for (std::string_view m : {"^~", "~*", "=", "~"}) {
            if (pattern.size() > m.size() && pattern.starts_with(m)) {
                mod = std::string(m);
                pattern = pattern.substr(m.size());
                break;
            }
        }
    }
    if (pattern.empty()) fail(pattern_arg->pos, "empty location pattern: expected a URI, regex or @name");
    if (mod == "=") loc.modifier = LocationModifier::Exact;
    else if (mod == "^~") loc.modifier = LocationModifier::PreferPrefix;
    else if (mod == "~") loc.modifier = LocationModifier::Regex;
    else if (mod == "~*") loc.modifier = LocationModifier::RegexCaseless;
    else if (pattern.starts_with("@")) loc.modifier = LocationModifier::Named;
    loc.pattern = pattern;
    if (loc.is_regex()) {
        auto r = Regex::compile(pattern, loc.modifier == LocationModifier::RegexCaseless);
        if (!r) fail(pattern_arg->pos, r.error() + " in \"location\"");
        loc.regex = std::move(r.value());
    }

    const LocationConfig* parent = s.location;
    if (parent != nullptr) {
        if (parent->modifier == LocationModifier::Exact) {
            fail(d.pos, "location " + quote(pattern) + " cannot be inside the exact location " + quote(parent->pattern));
        }
        if (parent->modifier == LocationModifier::Named) {
            fail(d.pos, "location " + quote(pattern) + " cannot be inside the named location " + quote(parent->pattern));
        }
        if (loc.modifier == LocationModifier::Named) {
            fail(d.pos, "named location " + quote(pattern) + " can be on the server level only");
        }
        if (!loc.is_regex() && !pattern.starts_with(parent->pattern)) {
            fail(pattern_arg->pos, "location " + quote(pattern) + " is outside location " + quote(parent->pattern) +
                                       ": a nested prefix must start with its parent's prefix");
        }
    }
    auto& siblings = loc.modifier == LocationModifier::Named
                         ? s.server->named_locations
                         : (parent != nullptr ? s.location->locations : s.server->locations);
    if (int kind = location_kind(loc.modifier); kind != 0) {
        for (const auto& other : siblings) {
            if (location_kind(other.modifier) == kind && other.pattern == pattern) {
                fail(d.pos, "duplicate location " + quote(pattern) + ": already defined at " + other.pos.to_string());
            }
        }
    }
    siblings.push_back(std::move(loc));
    LocationConfig& added = siblings.back();
    Scope inner = s;
    inner.context = kLocation;
    inner.location = &added;
    inner.settings = &added.settings;
    b.run_block(d.children, inner);
}

std::optional<TryFilesConfig>& try_files_slot(Scope& s) {
    return s.location != nullptr ? s.location->try_files : s.server->try_files;
}

void try_files(Builder&, const Directive& d, Scope& s) {
    TryFilesConfig t;
    t.pos = d.pos;
    for (std::size_t i = 0; i + 1 < d.args.size(); ++i) t.files.push_back(nonempty_arg(d, d.args[i]));
    const Arg& last = d.args.back();
    if (last.text.starts_with("=")) {
        t.fallback_code = static_cast<int>(count_arg(d, Arg{last.text.substr(1), false, last.pos}, 100, 999));
    } else {
        t.fallback_uri = nonempty_arg(d, last);
    }
    try_files_slot(s) = std::move(t);
}

void internal(Builder&, const Directive& d, Scope& s) {
    if (!s.location) fail(d.pos, "\"internal\" directive is allowed only in a location");
    s.location->internal = true;
}

void return_(Builder&, const Directive& d, Scope& s) {
    ReturnConfig r;
    r.pos = d.pos;
    const Arg& first = d.args[0];
    bool is_url = first.text.starts_with("http://") || first.text.starts_with("https://") ||
                  first.text.starts_with("$scheme");
    if (d.args.size() == 1 && is_url) {
        r.code = 302;
        r.text = first.text;
    } else {
        auto code = parse_count(first.text, 999);
        if (!code) {
            fail(first.pos, "invalid return code " + quote(first.text) +
                                ": expected a status code (for example 404 or 301 URL) or a URL starting with "
                                "http://, https:// or $scheme");
        }
        r.code = static_cast<int>(*code);
        if (d.args.size() == 2) r.text = d.args[1].text;
    }
    auto& slot = s.location != nullptr ? s.location->return_ : s.server->return_;
    slot = std::move(r);
}

void proxy_pass(Builder&, const Directive& d, Scope& s) {
    const Arg& a = d.args[0];
    ProxyPassConfig p;
    p.raw = a.text;
    p.pos = d.pos;
    std::string_view t = a.text;
    if (t.starts_with("http://")) {
        p.scheme = "http";
        t.remove_prefix(7);
    } else if (t.starts_with("https://")) {
        p.scheme = "https";
        t.remove_prefix(8);
    } else {
        fail(a.pos, "invalid URL prefix in " + quote(a.text) + " in \"proxy_pass\": expected http:// or https://");
    }
    p.has_variables = a.text.find('$') != std::string::npos;
    auto slash = t.find('/');
    std::string_view authority = t.substr(0, slash);
    if (slash != std::string_view::npos) p.uri = std::string(t.substr(slash));
    if (authority.empty()) fail(a.pos, "no host in " + quote(a.text) + " in \"proxy_pass\"");
    if (!p.has_variables) {
        std::string_view port_text;
        if (authority.starts_with("[")) {
            auto close = authority.find(']');
            if (close == std::string_view::npos) fail(a.pos, "invalid host in " + quote(a.text) + " in \"proxy_pass\": missing \"]\"");
            p.host = std::string(authority.substr(1, close - 1));
            if (close + 1 < authority.size()) {
                if (authority[close + 1] != ':') fail(a.pos, "invalid host in " + quote(a.text) + " in \"proxy_pass\"");
                port_text = authority.substr(close + 2);
                p.has_port = true;
            }
        } else {
            auto colon = authority.find(':');
            p.host = std::string(authority.substr(0, colon));
            if (colon != std::string_view::npos) {
                port_text = authority.substr(colon + 1);
                p.has_port = true;
            }
        }
        if (p.host.empty()) fail(a.pos, "no host in " + quote(a.text) + " in \"proxy_pass\"");
        if (p.has_port) {
            p.port = static_cast<std::uint16_t>(count_arg(d, Arg{std::string(port_text), false, a.pos}, 1, 65535));
        } else {
            p.port = p.scheme == "https" ? 443 : 80;
        }
    } else {
        p.host = std::string(authority);
    }
    if (p.uri && s.location->is_regex() && !p.has_variables) {
        fail(a.pos, "\"proxy_pass\" cannot have a URI part in a location given by a regular expression: "
                    "remove " + quote(*p.uri) + " or use variables");
    }
    s.location->proxy_pass = std::move(p);
}

constexpr DirectiveSpec kSpecs[] = {
    {"server", kHttp, 0, 0, true, true, server},
    {"listen", kServer, 1, kAnyArgs, false, true, listen},
    {"server_name", kServer, 1, kAnyArgs, false, true, server_name},
    {"location", kServer | kLocation, 1, 2, true, true, location},
    {"try_files", kServer | kLocation, 2, kAnyArgs, false, false, try_files},
    {"return", kServer | kLocation, 1, 2, false, false, return_},
    {"internal", kLocation, 0, 0, false, false, internal},
    {"proxy_pass", kLocation, 1, 1, false, false, proxy_pass},
};

}  // namespace

std::span<const DirectiveSpec> server_directives() { return kSpecs; }

}  // namespace riptide::config::detail
