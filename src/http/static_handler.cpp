#include "http/static_handler.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "core/http_date.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/connection.hpp"
#include "http/file_cache.hpp"
#include "http/path.hpp"
#include "http/range.hpp"
#include "http/response.hpp"
#include "http/server.hpp"
#include "http/variables.hpp"
#include "os/file.hpp"

namespace riptide::http {

namespace {

// Entity-tag comparison (RFC 9110 § 8.8.3.2): weak ignores the W/ prefix on both sides.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
    if (core::trim_ows(list) == "*") return true;
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view t = core::trim_ows(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        bool t_weak = t.size() > 2 && t[0] == 'W' && t[1] == '/';
        if (t_weak) {
            if (!weak) continue;  // a weak tag never matches strongly
            t.remove_prefix(2);
        }
        if (t == etag) return true;
    }
    return false;
}

int errno_status(int err) {
    switch (err) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG: return 404;
        case EACCES:
        case EPERM:
        case EXDEV:  // a symlink that leads out of the root
        case ELOOP: return 403;
        default: return 500;
    }
}

// add_header and expires apply to these statuses unless `always` (nginx's list).
bool headers_apply(int status) {
    switch (status) {
        case 200: case 201: case 204: case 206: case 301: case 302: case 303: case 304: case 307: case 308:
            return true;
        default:
            return false;
    }
}

void append_expires(const Exchange& ex, std::string& o, const config::ExpiresConfig& e) {
    using Mode = config::ExpiresConfig::Mode;
    if (e.mode == Mode::Off) return;
    if (e.mode == Mode::Epoch) {
        o += "Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\nCache-Control: no-cache\r\n";
        return;
    }
    if (e.mode == Mode::Max) {
        o += "Expires: Thu, 31 Dec 2037 23:55:55 GMT\r\nCache-Control: max-age=315360000\r\n";
        return;
    }
    int64_t now = ex.c.server().loop().wall_sec();
    int64_t secs = e.offset_ms / 1000;
    char date[core::kHttpDateLen];
    core::format_http_date(now + secs, date);
    o += "Expires: ";
    o.append(date, core::kHttpDateLen);
    o += "\r\nCache-Control: ";
    if (secs < 0) {
        o += "no-cache\r\n";
    } else {
        o += "max-age=";
        core::append_decimal(o, static_cast<uint64_t>(secs));
        o += "\r\n";
    }
}

// Whether what expires and add_header add to a 200 is the same on every request: no
// variable in a value and no expiry time computed from the clock.
bool fixed_configured_headers(const config::Settings& cfg) {
    if (cfg.expires.mode == config::ExpiresConfig::Mode::Time) return false;
    for (const config::HeaderConfig& h : cfg.add_headers)
        if (h.value.find('$') != std::string::npos) return false;
    return true;
}

// `rel` as a C string: itself when it is `scratch`, else copied there.
const char* c_path(std::string_view rel, std::string& scratch) {
    if (rel.data() != scratch.data() || rel.size() != scratch.size()) scratch.assign(rel);
    return scratch.c_str();
}

// "bytes first-last/size"
void append_range(std::string& o, const ByteRange& br, uint64_t size) {
    o += "bytes ";
    core::append_decimal(o, br.first);
    o += '-';
    core::append_decimal(o, br.last);
    o += '/';
    core::append_decimal(o, size);
}

}  // namespace

std::string StaticHandler::origin(const Exchange& ex) {
    // nginx's absolute redirects: the request's host (else the server name), and the port
    // the connection came in on unless it is 80.
    std::string o = "http://";
    std::string_view host = ex.r.host;
    if (!host.empty() && host.front() == '[') host = host.substr(0, host.find(']') + 1);
    else host = host.substr(0, host.find(':'));
    if (host.empty() && ex.server && !ex.server->server_names.empty()) host = ex.server->server_names[0].name;
    if (host.empty()) host = "localhost";
    o += host;
    if (ex.c.local_port() != 80) {
        o += ':';
        core::append_decimal(o, ex.c.local_port());
    }
    return o;
}

void StaticHandler::append_head_start(Exchange& ex, std::string& o, int status) {
    Server& s = ex.c.server();
    const bool tokens = !ex.cfg || ex.cfg->server_tokens;
    if (status == 200) {
        o += s.ok_head_start(tokens);
        return;
    }
    append_status_line(o, status);
    o += tokens ? s.server_header() : std::string_view("Server: riptide\r\n");
    o += s.date().header();
}

void StaticHandler::append_configured_headers(const Exchange& ex, std::string& o, int status) {
    if (!ex.cfg) return;
    bool apply = headers_apply(status);
    if (apply) append_expires(ex, o, ex.cfg->expires);
    for (const config::HeaderConfig& h : ex.cfg->add_headers) {
        if (!apply && !h.always) continue;
        std::string v = h.value.find('$') == std::string::npos ? h.value : expand_variables(ex, h.value);
        if (v.empty()) continue;  // nginx adds nothing for an empty value
        o += h.name;
        o += ": ";
        o += v;
        o += "\r\n";
    }
}

void StaticHandler::append_head_end(Exchange& ex, std::string& o, int status) {
    append_connection(ex.keep_alive, ex.cfg, o);
    append_configured_headers(ex, o, status);
}

void StaticHandler::append_connection(bool keep_alive, const config::Settings* cfg, std::string& o) {
    if (keep_alive) {
        o += "Connection: keep-alive\r\n";
        if (cfg && cfg->keepalive_header_timeout_ms) {
            o += "Keep-Alive: timeout=";
            core::append_decimal(o, static_cast<uint64_t>(*cfg->keepalive_header_timeout_ms / 1000));
            o += "\r\n";
        }
    } else {
        o += "Connection: close\r\n";
    }
}

void StaticHandler::append_content_type(const Exchange& ex, std::string& o, std::string_view type) {
    if (type.empty()) return;
    o += "Content-Type: ";
    o += type;
    // nginx's charset filter: the default charset_types.
    if (ex.cfg && !ex.cfg->charset.empty() &&
        (type == "text/html" || type == "text/xml" || type == "text/plain" || type == "text/vnd.wap.wml" ||
         type == "application/javascript" || type == "application/rss+xml")) {
        o += "; charset=";
        o += ex.cfg->charset;
    }
    o += "\r\n";
}

void StaticHandler::respond_text(Exchange& ex, int status, std::string_view content_type, std::string_view body,
                                 std::string_view extra_headers) {
    net::OutputChain& out = ex.c.state().out;
    std::string& o = out.own();
    size_t from = o.size();
    append_head_start(ex, o, status);
    if (status == 204) {
        // No content: no type and no length (RFC 9110 § 8.6), as nginx.
        content_type = {};
        body = {};
    } else {
        append_content_type(ex, o, content_type);
        o += "Content-Length: ";
        core::append_decimal(o, body.size());
        o += "\r\n";
    }
    o += extra_headers;
    append_head_end(ex, o, status);
    o += "\r\n";
    if (!ex.head) {
        o += body;
        ex.body_bytes = body.size();
    }
    out.commit_own(from);
    ex.status = status;
}

bool StaticHandler::error_closes(int status) {
    // nginx's special response handler drops keep-alive for these (a `return` with a
    // text of its own does not go through it and keeps the connection).
    return status == 400 || status == 413 || status == 414 || status == 500 || status == 501;
}

void StaticHandler::respond_error(Exchange& ex, int status, std::string_view extra_headers) {
    if (error_closes(status)) ex.keep_alive = false;
    std::string_view body = error_page_body(status, !ex.cfg || ex.cfg->server_tokens);
    respond_text(ex, status, body.empty() ? std::string_view() : std::string_view("text/html"), body, extra_headers);
}

void StaticHandler::respond_bare_error(Connection& c, int status) {
    Request none;
    Exchange ex(c, none);
    ex.keep_alive = false;
    respond_error(ex, status);
}

bool StaticHandler::map_uri(const Exchange& ex, std::string_view uri, int& dir_fd, std::string& scratch,
                            std::string_view& rel) {
    const config::Settings& cfg = *ex.cfg;
    const Settings& s = ex.c.server().settings();
    if (cfg.alias && ex.location && cfg.alias->find('$') != std::string::npos) {
        // alias with variables ("location ~ ^/i/(.*)$ { alias /data/img/$1; }"): the file is
        // the expanded alias. Its fixed leading folder was opened at start; what the
        // variables produce is normalized, so no capture can climb out of that folder.
        std::string_view folder = config::alias_folder(*cfg.alias);
        dir_fd = s.roots.find(folder);
        std::string expanded = "/" + expand_variables(ex, std::string_view(*cfg.alias).substr(folder.size()));
        if (normalize_path(expanded, scratch) != PathError::none) {
            scratch.clear();
            rel = {};
            return false;
        }
        scratch.erase(0, 1);
        rel = scratch;
    } else if (cfg.alias && ex.location) {
        // alias replaces the location's prefix: "location /i/ { alias /data/img/; }" maps
        // /i/a.png to /data/img/a.png.
        dir_fd = s.roots.find(*cfg.alias);
        std::string_view rest = uri;
        if (ex.location->modifier == config::LocationModifier::Prefix ||
            ex.location->modifier == config::LocationModifier::PreferPrefix) {
            rest = uri.size() >= ex.location->pattern.size() ? uri.substr(ex.location->pattern.size()) : "";
        } else if (ex.location->modifier == config::LocationModifier::Exact) {
            rest = "";
        }
        while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
        scratch.assign(rest);
        if (!uri.empty() && uri.back() == '/' && !scratch.empty() && scratch.back() != '/') scratch += '/';
        rel = scratch;
    } else {
        dir_fd = s.roots.find(cfg.root);
        rel = uri.substr(uri.empty() ? 0 : 1);  // no copy: the URI without its slash
    }
    return dir_fd >= 0;
}

bool StaticHandler::exists(Exchange& ex, std::string_view uri, bool dir) {
    int dir_fd;
    std::string& scratch = ex.c.state().rel;
    std::string_view rel;
    if (!map_uri(ex, uri, dir_fd, scratch, rel)) return false;
    if (dir) {
        int fd = os::open_beneath(dir_fd, c_path(rel, scratch), true);
        if (fd < 0) return false;
        os::close_fd(fd);
        return true;
    }
    if (rel.empty() || rel.back() == '/') return false;
    Server& s = ex.c.server();
    OpenResult res = s.files().open(dir_fd, rel, *ex.cfg, s.loop().now_ms());
    return static_cast<bool>(res.file);
}

int StaticHandler::serve(Exchange& ex) {
    // As nginx: POST looks for the file like GET (404 when there is none, the redirect of
    // a directory) and is refused only when there is something to serve; others at once.
    const bool post = ex.r.method == Method::post && !ex.in_error_page;
    if (ex.r.method != Method::get && ex.r.method != Method::head && !post && !ex.in_error_page) return 405;
    int dir_fd;
    std::string& scratch = ex.c.state().rel;
    std::string_view rel;
    if (!map_uri(ex, ex.uri, dir_fd, scratch, rel)) {
        core::logf(core::LogLevel::error, "root \"%s\" is not an open directory", ex.cfg->root.c_str());
        return 404;
    }
    Server& s = ex.c.server();
    if (ex.uri.back() == '/') return serve_directory(ex, dir_fd, rel);

    OpenResult res = s.files().open(dir_fd, rel, *ex.cfg, s.loop().now_ms());
    if (res.is_dir) {
        // A directory named without its slash: redirect to it (absolute, as nginx does).
        std::string loc = "Location: " + origin(ex);
        loc += escape_path(ex.uri);
        loc += '/';
        if (ex.has_args) {
            loc += '?';
            loc += ex.args;
        }
        loc += "\r\n";
        respond_error(ex, 301, loc);
        return 0;
    }
    if (!res.file) {
        if (res.err != ENOENT) core::logf(core::LogLevel::error, "open() \"%.*s\" failed (errno %d)", static_cast<int>(rel.size()),
                                             rel.data(), res.err);
        return errno_status(res.err);
    }
    if (post) return 405;
    serve_file(ex, *static_cast<CachedFile*>(res.file.get()));
    return 0;
}

int StaticHandler::serve_directory(Exchange& ex, int dir_fd, std::string_view rel) {
    Server& s = ex.c.server();
    std::string& candidate = ex.c.state().candidate;
    for (const std::string& index : ex.cfg->index) {
        candidate.assign(rel);
        candidate += index;
        OpenResult res = s.files().open(dir_fd, candidate, *ex.cfg, s.loop().now_ms());
        if (res.file) {
            if (ex.r.method == Method::post && !ex.in_error_page) return 405;
            serve_file(ex, *static_cast<CachedFile*>(res.file.get()));
            return 0;
        }
        if (res.is_dir || res.err == ENOENT) continue;
        return errno_status(res.err);
    }
    int fd = os::open_beneath(dir_fd, c_path(rel, candidate), true);
    if (fd < 0) return errno_status(-fd);
    os::UniqueFd dir(fd);
    if (!ex.cfg->autoindex || ex.r.method == Method::post) return 403;  // nginx lists for GET and HEAD only

    // A listing: directories first, then files, each sorted by name; names escaped.
    std::vector<os::DirEntry> entries;
    if (!os::list_directory(fd, entries)) return 403;
    std::sort(entries.begin(), entries.end(), [](const os::DirEntry& a, const os::DirEntry& b) {
        if (a.info.is_dir != b.info.is_dir) return a.info.is_dir;
        return a.name < b.name;
    });
    std::string title = core::html_escape(ex.uri);
    std::string body = "<html>\r\n<head><title>Index of " + title + "</title></head>\r\n<body>\r\n<h1>Index of " + title +
                       "</h1><hr><pre><a href=\"../\">../</a>\r\n";
    for (const os::DirEntry& e : entries) {
        if (e.name.empty() || e.name[0] == '.') continue;  // hidden files stay hidden
        std::string name = e.name + (e.info.is_dir ? "/" : "");
        std::string shown = name.size() > 50 ? name.substr(0, 47) + "..>" : name;
        // the link: the name as one escaped segment (nginx's), "/" after a directory's
        body += "<a href=\"" + escape_segment(e.name) + (e.info.is_dir ? "/" : "") + "\">" + core::html_escape(shown) +
                "</a>";
        body.append(shown.size() < 51 ? 51 - shown.size() : 1, ' ');
        char date[core::kHttpDateLen];
        core::format_http_date(e.info.mtime, date);
        // "22-Nov-2026 00:34" from "Sun, 22 Nov 2026 00:34:20 GMT"
        std::string d(date + 5, 2);
        d += '-';
        d.append(date + 8, 3);
        d += '-';
        d.append(date + 12, 4);
        d += ' ';
        d.append(date + 17, 5);
        body += d;
        std::string size = e.info.is_dir ? "-" : std::to_string(e.info.size);
        body.append(size.size() < 20 ? 20 - size.size() : 1, ' ');
        body += size;
        body += "\r\n";
    }
    body += "</pre><hr></body>\r\n</html>\r\n";
    respond_text(ex, 200, "text/html", body);
    return 0;
}

void StaticHandler::serve_file(Exchange& ex, CachedFile& f) {
    const Request& r = ex.r;
    // The type belongs to the location's `types`, not to whichever location cached the file.
    std::string_view content_type = f.content_type;
    if (f.types_key != ex.cfg->types.get() || f.default_key != &ex.cfg->default_type)
        content_type = ex.cfg->mime_type(extension_of(f.rel_path));  // lives in the configuration
    ActiveState& st = ex.c.state();
    net::OutputChain& out = st.out;
    const os::FileInfo& info = f.info();
    const config::Settings& cfg = *ex.cfg;
    std::string_view lm(f.last_modified, core::kHttpDateLen);
    const bool get_or_head = r.method == Method::get || r.method == Method::head;
    const bool plain = ex.override_status == 0;  // an error page is sent as it is

    // Preconditions, in the order of RFC 9110 § 13.2.2.
    int status = 200;
    if (plain && !r.if_match.empty()) {
        if (!etag_list_matches(r.if_match, f.etag, false)) status = 412;
    } else if (plain && !r.if_unmodified_since.empty()) {
        auto t = core::parse_http_date(r.if_unmodified_since);
        if (t && info.mtime > *t) status = 412;
    }
    if (plain && status == 200) {
        if (!r.if_none_match.empty()) {
            if (cfg.etag && etag_list_matches(r.if_none_match, f.etag, true)) status = get_or_head ? 304 : 412;
        } else if (!r.if_modified_since.empty() && get_or_head &&
                   cfg.if_modified_since != config::IfModifiedSince::Off) {
            auto t = core::parse_http_date(r.if_modified_since);
            if (t) {
                bool exact = cfg.if_modified_since == config::IfModifiedSince::Exact;
                if (exact ? info.mtime == *t : info.mtime <= *t) status = 304;
            }
        }
    }
    if (status == 412) {
        respond_error(ex, 412);
        return;
    }
    std::string& o = out.own();
    size_t from = o.size();
    // Status line, the entity's fields in nginx's order, validators; the caller ends the head.
    // nginx sends Last-Modified only with 200, 206 and 304 (not with an error page's
    // file), and Accept-Ranges only where ranges are allowed.
    bool last_modified = true;
    const bool ranges_on = !cfg.max_ranges || *cfg.max_ranges > 0;
    auto entity_fields = [&](std::string& to, std::string_view type, const uint64_t* length) {
        append_content_type(ex, to, type);
        if (length) {
            to += "Content-Length: ";
            core::append_decimal(to, *length);
            to += "\r\n";
        }
        if (last_modified) {
            to += "Last-Modified: ";
            to += lm;
            to += "\r\n";
        }
    };
    auto entity_head = [&](int code, std::string_view type, const uint64_t* length) {
        last_modified = code == 200 || code == 206 || code == 304;
        append_head_start(ex, o, code);
        entity_fields(o, type, length);
        append_connection(ex.keep_alive, ex.cfg, o);
        // nginx's order: ETag first among the listed headers, then expires and add_header.
        if (cfg.etag) o += f.etag_field;
        append_configured_headers(ex, o, code);
        ex.status = code;
    };
    if (status == 304) {
        entity_head(304, {}, nullptr);
        o += "\r\n";
        out.commit_own(from);
        return;
    }

    // Ranges (GET only), unless If-Range names another representation.
    RangeResult rr = RangeResult::none;
    if (plain && !r.range.empty() && r.method == Method::get) {
        bool if_range_ok = true;
        if (!r.if_range.empty()) {
            std::string_view ir = core::trim_ows(r.if_range);
            if (!ir.empty() && (ir.front() == '"' || ir.substr(0, 2) == "W/")) {
                if_range_ok = cfg.etag && ir == f.etag;  // strong comparison
            } else {
                auto t = core::parse_http_date(ir);
                if_range_ok = t && *t == info.mtime;
            }
        }
        uint32_t max_ranges = cfg.max_ranges ? *cfg.max_ranges : UINT32_MAX;
        if (if_range_ok && max_ranges > 0) rr = parse_range(r.range, info.size, max_ranges, st.ranges);
    }
    if (rr == RangeResult::unsatisfiable) {
        std::string extra = "Content-Range: bytes */";
        core::append_decimal(extra, info.size);
        extra += "\r\n";
        respond_error(ex, 416, extra);
        return;
    }

    const bool body = !ex.head;
    net::FileRef ref = net::FileRef::share(&f);
    auto add_body = [&](uint64_t off, uint64_t len) {
        ex.body_bytes += len;
        if (f.in_memory()) out.append_memory(ref, f.content().data() + off, static_cast<size_t>(len));
        else out.append_file(ref, off, len);
    };

    if (rr == RangeResult::satisfiable && st.ranges.size() == 1) {
        const ByteRange& br = st.ranges[0];
        uint64_t len = br.size();
        entity_head(206, content_type, &len);
        o += "Content-Range: ";
        append_range(o, br, info.size);
        o += "\r\n\r\n";
        out.commit_own(from);
        if (body) add_body(br.first, br.size());
        return;
    }
    if (rr == RangeResult::satisfiable) {
        // multipart/byteranges (RFC 9110 § 14.6)
        std::string boundary = "00000000000000000000";
        {
            std::string n;
            core::append_decimal(n, ex.c.server().next_boundary());
            boundary.replace(boundary.size() - n.size(), n.size(), n);
        }
        std::vector<std::string> part_heads;
        uint64_t total = 0;
        for (const ByteRange& br : st.ranges) {
            std::string h = "\r\n--" + boundary + "\r\nContent-Type: " + std::string(content_type) + "\r\nContent-Range: ";
            append_range(h, br, info.size);
            h += "\r\n\r\n";
            total += h.size() + br.size();
            part_heads.push_back(std::move(h));
        }
        std::string tail = "\r\n--" + boundary + "--\r\n";
        total += tail.size();
        entity_head(206, "multipart/byteranges; boundary=" + boundary, &total);
        o += "\r\n";
        out.commit_own(from);
        if (!body) return;
        for (size_t i = 0; i < st.ranges.size(); ++i) {
            out.append(part_heads[i]);
            add_body(st.ranges[i].first, st.ranges[i].size());
        }
        out.append(tail);
        return;
    }

    if (plain) {
        // The usual answer: the start of every 200 (made once a second) and the rest of
        // this file's head, made once for these settings.
        CachedFile::ReadyHead& ready = f.ready[ex.keep_alive ? 1 : 0];
        if (ready.cfg != &cfg) {
            ready.cfg = &cfg;
            ready.text.clear();
            if (fixed_configured_headers(cfg)) {
                std::string& t = ready.text;
                entity_fields(t, content_type, &info.size);
                append_connection(ex.keep_alive, ex.cfg, t);
                if (cfg.etag) t += f.etag_field;
                append_configured_headers(ex, t, 200);
                t += ranges_on ? "Accept-Ranges: bytes\r\n\r\n" : "\r\n";
            }
        }
        if (!ready.text.empty()) {
            append_head_start(ex, o, 200);
            o += ready.text;
            ex.status = 200;
            out.commit_own(from);
            if (body) add_body(0, info.size);
            return;
        }
    }
    int code = plain ? 200 : ex.override_status;
    entity_head(code, content_type, &info.size);
    o += code == 200 && ranges_on ? "Accept-Ranges: bytes\r\n\r\n" : "\r\n";
    out.commit_own(from);
    if (body) add_body(0, info.size);
}

}  // namespace riptide::http
