#include "http/variables.hpp"

#include <cctype>
#include <cstring>

#include "config/server_match.hpp"
#include "core/strings.hpp"
#include "http/connection.hpp"
#include "http/exchange.hpp"
#include "http/server.hpp"

namespace riptide::http {

namespace {

std::string_view host_of(const Exchange& ex, std::string& scratch) {
    if (!ex.r.host.empty()) {
        scratch = config::normalize_host(ex.r.host);
        return scratch;
    }
    if (ex.server && !ex.server->server_names.empty() && ex.server->server_names[0].kind == config::ServerName::Kind::Exact)
        return ex.server->server_names[0].name;
    return "";
}

const char* const kKnown[] = {"remote_addr", "remote_port", "remote_user", "time_local", "time_iso8601", "msec",
                              "request", "status", "body_bytes_sent", "bytes_sent", "request_time",
                              "request_length", "host", "http_host", "request_method", "request_uri", "uri",
                              "document_uri", "args", "query_string", "is_args", "server_protocol", "scheme",
                              "server_port", "server_name", "connection", "connection_requests", "pid",
                              "document_root", "realpath_root", "content_length", "content_type",
                              "upstream_addr", "upstream_status", "upstream_response_time", "proxy_add_x_forwarded_for",
                              "nginx_version", "riptide_version", "hostname"};

bool is_capture(std::string_view name) { return name.size() == 1 && name[0] >= '1' && name[0] <= '9'; }  // $1..$9

}  // namespace

bool known_variable(std::string_view name) {
    if (is_capture(name)) return true;
    if (name.substr(0, 5) == "http_" || name.substr(0, 4) == "arg_" || name.substr(0, 7) == "cookie_" ||
        name.substr(0, 13) == "sent_http_")
        return true;
    for (const char* k : kKnown)
        if (name == k) return true;
    return false;
}

bool append_variable(const Exchange& ex, std::string_view name, std::string& out) {
    const Request& r = ex.r;
    Server& s = ex.c.server();
    std::string scratch;
    if (is_capture(name)) {
        size_t i = static_cast<size_t>(name[0] - '1');
        if (i < ex.captures.size()) out += ex.captures[i];
        return true;
    }
    switch (name.empty() ? '\0' : name[0]) {
        case 'a':
            if (name == "args") { out += ex.args; return true; }
            if (name.substr(0, 4) == "arg_") {
                std::string_view q = ex.args, key = name.substr(4);
                while (!q.empty()) {
                    size_t amp = q.find('&');
                    std::string_view kv = q.substr(0, amp);
                    size_t eq = kv.find('=');
                    if (core::iequals(kv.substr(0, eq), key)) {
                        if (eq != std::string_view::npos) out += kv.substr(eq + 1);
                        return true;
                    }
                    if (amp == std::string_view::npos) break;
                    q.remove_prefix(amp + 1);
                }
                return true;
            }
            break;
        case 'b':
            if (name == "body_bytes_sent") { core::append_decimal(out, ex.body_bytes); return true; }
            if (name == "bytes_sent") { core::append_decimal(out, ex.body_bytes); return true; }
            break;
        case 'c':
            if (name == "connection") { core::append_decimal(out, ex.c.serial()); return true; }
            if (name == "connection_requests") { core::append_decimal(out, ex.c.requests()); return true; }
            if (name == "content_length") { out += r.header("content-length"); return true; }
            if (name == "content_type") { out += r.header("content-type"); return true; }
            if (name.substr(0, 7) == "cookie_") {
                std::string_view v = r.header("cookie"), key = name.substr(7);
                while (!v.empty()) {
                    size_t semi = v.find(';');
                    std::string_view kv = core::trim_ows(v.substr(0, semi));
                    size_t eq = kv.find('=');
                    if (eq != std::string_view::npos && kv.substr(0, eq) == key) {
                        out += kv.substr(eq + 1);
                        return true;
                    }
                    if (semi == std::string_view::npos) break;
                    v.remove_prefix(semi + 1);
                }
                return true;
            }
            break;
        case 'd':
            if (name == "document_uri") { out += ex.uri; return true; }
            if (name == "document_root") { if (ex.cfg) out += ex.cfg->root; return true; }
            break;
        case 'h':
            if (name == "host") { out += host_of(ex, scratch); return true; }
            if (name == "hostname") { out += s.hostname(); return true; }
            if (name.substr(0, 5) == "http_") {
                std::string field(name.substr(5));
                for (char& ch : field) if (ch == '_') ch = '-';
                out += r.header(field);
                return true;
            }
            break;
        case 'i':
            if (name == "is_args") { if (ex.has_args) out += '?'; return true; }
            break;
        case 'm':
            if (name == "msec") {
                core::append_decimal(out, static_cast<uint64_t>(s.loop().wall_sec()));
                out += '.';
                char ms[4];
                uint64_t v = static_cast<uint64_t>(s.loop().wall_usec()) / 1000;
                ms[0] = static_cast<char>('0' + v / 100);
                ms[1] = static_cast<char>('0' + v / 10 % 10);
                ms[2] = static_cast<char>('0' + v % 10);
                out.append(ms, 3);
                return true;
            }
            break;
        case 'n':
            if (name == "nginx_version") { out += "1.22.1"; return true; }
            break;
        case 'p':
            if (name == "pid") { core::append_decimal(out, static_cast<uint64_t>(s.pid())); return true; }
            if (name == "proxy_add_x_forwarded_for") {
                std::string_view xff = r.header("x-forwarded-for");
                if (!xff.empty()) {
                    out += xff;
                    out += ", ";
                }
                out += ex.c.peer_address();
                return true;
            }
            break;
        case 'q':
            if (name == "query_string") { out += ex.args; return true; }
            break;
        case 'r':
            if (name == "remote_addr") { out += ex.c.peer_address(); return true; }
            if (name == "remote_port") { core::append_decimal(out, ex.c.peer_port()); return true; }
            if (name == "remote_user") {
                out += r.authorization.empty() ? std::string_view() : std::string_view();
                return true;
            }
            if (name == "request") {
                out += r.method_name;
                out += ' ';
                out += r.target;
                out += r.version_minor ? " HTTP/1.1" : " HTTP/1.0";
                return true;
            }
            if (name == "request_method") { out += r.method_name; return true; }
            if (name == "request_uri") { out += r.target; return true; }
            if (name == "request_length") { core::append_decimal(out, r.header_bytes); return true; }
            if (name == "request_time") {
                uint64_t ms = s.loop().now_ms() - (ex.start_ms ? ex.start_ms : s.loop().now_ms());
                core::append_decimal(out, ms / 1000);
                out += '.';
                char frac[3] = {static_cast<char>('0' + ms % 1000 / 100), static_cast<char>('0' + ms % 100 / 10),
                                static_cast<char>('0' + ms % 10)};
                out.append(frac, 3);
                return true;
            }
            if (name == "realpath_root") { if (ex.cfg) out += ex.cfg->root; return true; }
            if (name == "riptide_version") { out += RIPTIDE_VERSION; return true; }
            break;
        case 's':
            if (name == "status") { core::append_decimal(out, static_cast<uint64_t>(ex.status)); return true; }
            if (name == "scheme") { out += "http"; return true; }
            if (name == "server_protocol") { out += r.version_minor ? "HTTP/1.1" : "HTTP/1.0"; return true; }
            if (name == "server_port") { core::append_decimal(out, ex.c.local_port()); return true; }
            if (name == "server_name") {
                if (ex.server && !ex.server->server_names.empty()) out += ex.server->server_names[0].name;
                return true;
            }
            if (name.substr(0, 10) == "sent_http_") return true;
            break;
        case 't':
            if (name == "time_local") { out += s.time_local(); return true; }
            if (name == "time_iso8601") { out += s.time_iso8601(); return true; }
            break;
        case 'u':
            if (name == "uri") { out += ex.uri; return true; }
            if (name == "upstream_addr") { out += ex.upstream_addr; return true; }
            if (name == "upstream_status") {
                if (ex.upstream_status) core::append_decimal(out, static_cast<uint64_t>(ex.upstream_status));
                return true;
            }
            if (name == "upstream_response_time") {
                if (ex.upstream_addr.empty()) return true;
                core::append_decimal(out, ex.upstream_ms / 1000);
                out += '.';
                char ms[3] = {static_cast<char>('0' + ex.upstream_ms % 1000 / 100),
                              static_cast<char>('0' + ex.upstream_ms % 100 / 10), static_cast<char>('0' + ex.upstream_ms % 10)};
                out.append(ms, 3);
                return true;
            }
            if (name.substr(0, 9) == "upstream_") return true;
            break;
        default:
            break;
    }
    return false;
}

std::string expand_variables(const Exchange& ex, std::string_view text) {
    std::string out;
    out.reserve(text.size() + 32);
    for (size_t i = 0; i < text.size();) {
        char ch = text[i];
        if (ch != '$' || i + 1 >= text.size()) {
            out += ch;
            ++i;
            continue;
        }
        size_t start = i + 1, end;
        if (text[start] == '{') {
            end = text.find('}', start);
            if (end == std::string_view::npos) {
                out += text.substr(i);
                break;
            }
            append_variable(ex, text.substr(start + 1, end - start - 1), out);
            i = end + 1;
            continue;
        }
        end = start;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
        if (end == start) {
            out += '$';
            ++i;
            continue;
        }
        append_variable(ex, text.substr(start, end - start), out);
        i = end;
    }
    return out;
}

}  // namespace riptide::http
