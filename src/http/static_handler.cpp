#include "http/static_handler.hpp"

#include <cerrno>
#include <string>

#include "core/http_date.hpp"
#include "core/strings.hpp"
#include "http/connection.hpp"
#include "http/file_cache.hpp"
#include "http/path.hpp"
#include "http/range.hpp"
#include "http/response.hpp"
#include "http/server.hpp"
#include "os/file.hpp"

namespace riptide::http {

namespace {

std::string_view connection_field(bool keep_alive) {
    return keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
}

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

void append_common(std::string& out, Connection& c, int status);

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

}  // namespace

class StaticHandlerImpl {
public:
    static Server& server(Connection& c) { return c.server_; }
    static ActiveState& st(Connection& c) { return *c.st_; }
    static uint16_t port(Connection& c) { return c.local_port_; }
};

namespace {
void append_common(std::string& out, Connection& c, int status) {
    Server& s = StaticHandlerImpl::server(c);
    append_status_line(out, status);
    out += s.server_header();
    out += s.date().header();
}

void serve_file(Connection& c, const Request& r, CachedFile& f, bool keep_alive) {
    Server& s = StaticHandlerImpl::server(c);
    ActiveState& st = StaticHandlerImpl::st(c);
    net::OutputChain& out = st.out;
    const os::FileInfo& info = f.info();
    std::string_view lm(f.last_modified, core::kHttpDateLen);
    const bool get_or_head = r.method == Method::get || r.method == Method::head;

    // Preconditions, in the order of RFC 9110 § 13.2.2.
    int status = 200;
    if (!r.if_match.empty()) {
        if (!etag_list_matches(r.if_match, f.etag, false)) status = 412;
    } else if (!r.if_unmodified_since.empty()) {
        auto t = core::parse_http_date(r.if_unmodified_since);
        if (t && info.mtime > *t) status = 412;
    }
    if (status == 200) {
        if (!r.if_none_match.empty()) {
            if (etag_list_matches(r.if_none_match, f.etag, true)) status = get_or_head ? 304 : 412;
        } else if (!r.if_modified_since.empty() && get_or_head) {
            auto t = core::parse_http_date(r.if_modified_since);
            if (t && info.mtime <= *t) status = 304;
        }
    }
    if (status == 412) {
        StaticHandler::respond_error(c, &r, 412, keep_alive);
        return;
    }
    std::string& o = out.own();
    size_t from = o.size();
    if (status == 304) {
        append_common(o, c, 304);
        o += "Last-Modified: ";
        o += lm;
        o += "\r\n";
        o += connection_field(keep_alive);
        o += "ETag: ";
        o += f.etag;
        o += "\r\n\r\n";
        out.commit_own(from);
        return;
    }

    // Ranges (GET only), unless If-Range names another representation.
    RangeResult rr = RangeResult::none;
    if (!r.range.empty() && r.method == Method::get) {
        bool if_range_ok = true;
        if (!r.if_range.empty()) {
            std::string_view ir = core::trim_ows(r.if_range);
            if (!ir.empty() && (ir.front() == '"' || ir.substr(0, 2) == "W/")) {
                if_range_ok = ir == f.etag;  // strong comparison
            } else {
                auto t = core::parse_http_date(ir);
                if_range_ok = t && *t == info.mtime;
            }
        }
        if (if_range_ok) rr = parse_range(r.range, info.size, s.settings().max_ranges, st.ranges);
    }
    if (rr == RangeResult::unsatisfiable) {
        std::string extra = "Content-Range: bytes */";
        core::append_decimal(extra, info.size);
        extra += "\r\n";
        StaticHandler::respond_error(c, &r, 416, keep_alive, extra);
        return;
    }

    const bool body = r.method != Method::head;
    net::FileRef ref = net::FileRef::share(&f);
    auto add_body = [&](uint64_t off, uint64_t len) {
        if (f.in_memory()) out.append_memory(ref, f.content().data() + off, static_cast<size_t>(len));
        else out.append_file(ref, off, len);
    };

    if (rr == RangeResult::satisfiable && st.ranges.size() == 1) {
        const ByteRange& br = st.ranges[0];
        append_common(o, c, 206);
        o += "Content-Type: ";
        o += f.content_type;
        o += "\r\nContent-Length: ";
        core::append_decimal(o, br.size());
        o += "\r\nLast-Modified: ";
        o += lm;
        o += "\r\n";
        o += connection_field(keep_alive);
        o += "ETag: ";
        o += f.etag;
        o += "\r\nContent-Range: bytes ";
        core::append_decimal(o, br.first);
        o += '-';
        core::append_decimal(o, br.last);
        o += '/';
        core::append_decimal(o, info.size);
        o += "\r\n\r\n";
        out.commit_own(from);
        if (body) add_body(br.first, br.size());
        return;
    }
    if (rr == RangeResult::satisfiable) {
        // multipart/byteranges (RFC 9110 § 14.6)
        static uint64_t boundary_seq = 0;
        std::string boundary = "00000000000000000000";
        {
            std::string n;
            core::append_decimal(n, ++boundary_seq);
            boundary.replace(boundary.size() - n.size(), n.size(), n);
        }
        std::vector<std::string> part_heads;
        uint64_t total = 0;
        for (const ByteRange& br : st.ranges) {
            std::string h = "\r\n--" + boundary + "\r\nContent-Type: " + f.content_type + "\r\nContent-Range: bytes ";
            core::append_decimal(h, br.first);
            h += '-';
            core::append_decimal(h, br.last);
            h += '/';
            core::append_decimal(h, info.size);
            h += "\r\n\r\n";
            total += h.size() + br.size();
            part_heads.push_back(std::move(h));
        }
        std::string tail = "\r\n--" + boundary + "--\r\n";
        total += tail.size();
        append_common(o, c, 206);
        o += "Content-Type: multipart/byteranges; boundary=";
        o += boundary;
        o += "\r\nContent-Length: ";
        core::append_decimal(o, total);
        o += "\r\nLast-Modified: ";
        o += lm;
        o += "\r\n";
        o += connection_field(keep_alive);
        o += "ETag: ";
        o += f.etag;
        o += "\r\n\r\n";
        out.commit_own(from);
        if (!body) return;
        for (size_t i = 0; i < st.ranges.size(); ++i) {
            out.append(part_heads[i]);
            add_body(st.ranges[i].first, st.ranges[i].size());
        }
        out.append(tail);
        return;
    }

    append_common(o, c, 200);
    o += "Content-Type: ";
    o += f.content_type;
    o += "\r\nContent-Length: ";
    core::append_decimal(o, info.size);
    o += "\r\nLast-Modified: ";
    o += lm;
    o += "\r\n";
    o += connection_field(keep_alive);
    o += "ETag: ";
    o += f.etag;
    o += "\r\nAccept-Ranges: bytes\r\n\r\n";
    out.commit_own(from);
    if (body) add_body(0, info.size);
}

}  // namespace

void StaticHandler::respond_error(Connection& c, const Request* r, int status, bool keep_alive,
                                  std::string_view extra_headers) {
    net::OutputChain& out = StaticHandlerImpl::st(c).out;
    std::string& o = out.own();
    size_t from = o.size();
    std::string_view body = error_page_body(status);
    append_common(o, c, status);
    o += "Content-Type: text/html\r\nContent-Length: ";
    core::append_decimal(o, body.size());
    o += "\r\n";
    o += connection_field(keep_alive);
    o += extra_headers;
    o += "\r\n";
    if (!r || r->method != Method::head) o += body;
    out.commit_own(from);
}

void StaticHandler::serve(Connection& c, const Request& r, bool keep_alive) {
    Server& s = StaticHandlerImpl::server(c);
    ActiveState& st = StaticHandlerImpl::st(c);
    const Settings& cfg = s.settings();

    if (r.method != Method::get && r.method != Method::head) {
        respond_error(c, &r, 405, keep_alive, "Allow: GET, HEAD\r\n");
        return;
    }
    std::string& path = st.path;
    if (normalize_path(r.path, path) != PathError::none) {
        respond_error(c, &r, 400, false);
        return;
    }
    const Site& site = cfg.site;
    std::string_view rel = std::string_view(path).substr(1);
    uint64_t now = s.loop().now_ms();

    if (path.back() == '/') {
        std::string candidate;
        for (const std::string& index : site.index) {
            candidate.assign(rel);
            candidate += index;
            OpenResult res = s.files().open(site.root_fd, site.root, candidate, cfg.mime, now);
            if (res.file) {
                serve_file(c, r, *static_cast<CachedFile*>(res.file.get()), keep_alive);
                return;
            }
            if (res.is_dir || res.err == ENOENT) continue;
            respond_error(c, &r, errno_status(res.err), keep_alive);
            return;
        }
        // No index file: the directory exists (403, listing is off) or not (404).
        std::string dir(rel);
        int fd = os::open_beneath(site.root_fd, dir.c_str(), true);
        if (fd >= 0) {
            os::close_fd(fd);
            respond_error(c, &r, 403, keep_alive);
        } else {
            respond_error(c, &r, errno_status(-fd), keep_alive);
        }
        return;
    }

    OpenResult res = s.files().open(site.root_fd, site.root, rel, cfg.mime, now);
    if (res.is_dir) {
        // A directory named without its slash: redirect to it (nginx's Location is absolute).
        std::string loc = "Location: http://";
        std::string_view host = r.host;
        if (!host.empty() && host.front() == '[') {
            host = host.substr(0, host.find(']') + 1);
        } else {
            host = host.substr(0, host.find(':'));
        }
        if (host.empty()) host = "localhost";
        loc += host;
        if (StaticHandlerImpl::port(c) != 80) {
            loc += ':';
            core::append_decimal(loc, StaticHandlerImpl::port(c));
        }
        loc += escape_path(path);
        loc += '/';
        if (r.has_query) {
            loc += '?';
            loc += r.query;
        }
        loc += "\r\n";
        respond_error(c, &r, 301, keep_alive, loc);
        return;
    }
    if (!res.file) {
        respond_error(c, &r, errno_status(res.err), keep_alive);
        return;
    }
    serve_file(c, r, *static_cast<CachedFile*>(res.file.get()), keep_alive);
}

}  // namespace riptide::http
