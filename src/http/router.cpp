#include "http/router.hpp"

#include <sys/socket.h>

#include <cstring>

#include "config/location_match.hpp"
#include "config/server_match.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/connection.hpp"
#include "http/path.hpp"
#include "http/proxy.hpp"
#include "http/server.hpp"
#include "http/static_handler.hpp"
#include "http/variables.hpp"

namespace riptide::http {

namespace {

// allow/deny: the first rule that matches the client decides (a denial is logged, as
// nginx does); no rule, or none matching, allows.
bool access_allowed(const Exchange& ex) {
    if (ex.cfg->access.empty()) return true;
    int family = ex.c.peer_family();
    const unsigned char* a = ex.c.peer_bytes();
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && std::memcmp(a, kMapped, 12) == 0) {  // ::ffff:a.b.c.d is an IPv4 client
        family = AF_INET;
        a += 12;
    }
    for (const config::AccessRule& rule : ex.cfg->access) {
        bool match = rule.all;
        if (!match && rule.family == family) {
            unsigned bits = rule.prefix, i = 0;
            match = true;
            for (; bits >= 8; bits -= 8, ++i) match &= a[i] == rule.addr[i];
            if (match && bits) {
                unsigned char mask = static_cast<unsigned char>(0xff << (8 - bits));
                match = (a[i] & mask) == (rule.addr[i] & mask);
            }
        }
        if (match) {
            if (!rule.allow)
                core::logf(core::LogLevel::error, "access forbidden by rule, client: %s, request: \"%.*s %s\"",
                           ex.c.peer_address().c_str(), static_cast<int>(ex.r.method_name.size()),
                           ex.r.method_name.data(), ex.uri.c_str());
            return rule.allow;
        }
    }
    return true;
}

constexpr int kMaxRedirects = 10;  // internal redirects per request, as nginx's uri changes

bool is_redirect(int code) { return code == 301 || code == 302 || code == 303 || code == 307 || code == 308; }

}  // namespace

void Router::select_server(Exchange& ex) {
    const config::ListenGroup* g = ex.c.listen().group;
    if (g->servers.size() == 1) {
        ex.server = g->servers[0];
        return;
    }
    ex.server = config::match_server(*g, config::normalize_host(ex.r.host));
    if (!ex.server) ex.server = g->default_server;
}

void Router::handle(Exchange& ex) {
    if (!ex.server) select_server(ex);
    ex.head = ex.r.method == Method::head;
    ex.args.assign(ex.r.query);
    ex.has_args = ex.r.has_query;
    ex.cfg = &ex.server->settings;
    if (ex.r.method == Method::connect) {  // authority-form: no path to route
        finish_error(ex, 405, "Allow: GET, HEAD\r\n");
        return;
    }
    if (normalize_path(ex.r.path, ex.uri) != PathError::none) {
        ex.keep_alive = false;
        StaticHandler::respond_error(ex, 400);
        return;
    }
    // A server-level return runs before any location is chosen (nginx's server rewrite phase).
    if (ex.server->return_) {
        do_return(ex, *ex.server->return_);
        return;
    }
    run(ex);
}

void Router::run(Exchange& ex) {
    ex.captures.clear();
    ex.location = config::match_location(*ex.server, ex.uri, &ex.captures);
    ex.cfg = ex.location ? &ex.location->settings : &ex.server->settings;
    if (ex.location && ex.location->internal && ex.redirects == 0 && !ex.in_error_page) {
        finish_error(ex, 404);  // "internal": not for requests from outside
        return;
    }
    // keepalive_timeout and keepalive_requests of the location (nginx applies them once
    // the location is known; the server's were applied when the request was read).
    if (ex.cfg->keepalive_timeout_ms <= 0 || ex.c.requests() >= ex.cfg->keepalive_requests) ex.keep_alive = false;
    if (!access_allowed(ex)) {
        finish_error(ex, 403);
        return;
    }
    uint64_t max_body = static_cast<uint64_t>(ex.cfg->client_max_body_size);
    if (ex.redirects == 0 && max_body && !ex.r.chunked && ex.r.content_length > max_body) {
        // Too large to read: answer and close (lingering drains what is in flight).
        ex.keep_alive = false;
        finish_error(ex, 413);
        return;
    }
    if (ex.redirects == 0 && !ex.in_error_page) ex.c.continue_if_expected(ex);
    const config::ReturnConfig* ret = ex.location && ex.location->return_ ? &*ex.location->return_ : nullptr;
    if (ret) {
        do_return(ex, *ret);
        return;
    }
    if (ex.location && ex.location->proxy_pass) {
        Proxy::start(ex);
        return;
    }
    const config::TryFilesConfig* tf = ex.location && ex.location->try_files ? &*ex.location->try_files
                                       : (!ex.location && ex.server->try_files ? &*ex.server->try_files : nullptr);
    if (tf) {
        do_try_files(ex, *tf);
        return;
    }
    int status = StaticHandler::serve(ex);
    if (status == 405) {
        finish_error(ex, 405, "Allow: GET, HEAD\r\n");
        return;
    }
    if (status) finish_error(ex, status);
}

void Router::internal_redirect(Exchange& ex, std::string_view target) {
    if (++ex.redirects > kMaxRedirects) {
        core::log(core::LogLevel::error, "rewrite or internal redirection cycle");
        StaticHandler::respond_error(ex, 500);
        return;
    }
    if (!target.empty() && target.front() == '@') {
        const config::LocationConfig* named = ex.server->named_location(target);
        if (!named) {
            StaticHandler::respond_error(ex, 500);
            return;
        }
        ex.location = named;
        ex.cfg = &named->settings;
        if (!access_allowed(ex)) {
            finish_error(ex, 403);
            return;
        }
        if (named->return_) {
            do_return(ex, *named->return_);
            return;
        }
        if (named->proxy_pass) {
            Proxy::start(ex);
            return;
        }
        if (named->try_files) {
            do_try_files(ex, *named->try_files);
            return;
        }
        int status = StaticHandler::serve(ex);
        if (status) finish_error(ex, status);
        return;
    }
    size_t q = target.find('?');
    std::string path(target.substr(0, q));
    if (q != std::string_view::npos) {
        ex.args.assign(target.substr(q + 1));
        ex.has_args = true;
    }
    // The new URI is decoded and normalized like a request's.
    if (normalize_path(path, ex.uri) != PathError::none) {
        StaticHandler::respond_error(ex, 400);
        return;
    }
    run(ex);
}

void Router::do_return(Exchange& ex, const config::ReturnConfig& ret) {
    if (ret.code == 444) {  // nginx's "close without an answer"
        ex.close_now = true;
        ex.status = 444;
        return;
    }
    std::string text = ret.text.find('$') == std::string::npos ? ret.text : expand_variables(ex, ret.text);
    if (is_redirect(ret.code)) {
        std::string loc = "Location: ";
        if (!text.empty() && text.front() == '/') loc += StaticHandler::origin(ex);
        loc += text;
        loc += "\r\n";
        StaticHandler::respond_error(ex, ret.code, loc);
        return;
    }
    if (text.empty() && ret.code >= 400) {
        finish_error(ex, ret.code);
        return;
    }
    // Inside an error page the original status stands (nginx's err_status).
    int code = ex.in_error_page && ex.override_status ? ex.override_status : ret.code;
    // The type of the URI's extension, else default_type (nginx's ngx_http_set_content_type).
    StaticHandler::respond_text(ex, code, ex.cfg->mime_type(extension_of(ex.uri)), text);
}

void Router::do_try_files(Exchange& ex, const config::TryFilesConfig& tf) {
    for (const std::string& f : tf.files) {
        std::string cand = f.find('$') == std::string::npos ? f : expand_variables(ex, f);
        // "name/" tests for a directory, and the URI becomes "name" (nginx): a directory
        // asked for without its slash is then redirected to it like any other. Whether it
        // is a directory test is the template's, not what its variables expand to.
        bool dir = !f.empty() && f.back() == '/';
        if (dir && !cand.empty() && cand.back() == '/') cand.pop_back();
        if (cand.empty() || cand.front() != '/') cand.insert(cand.begin(), '/');
        std::string norm;
        if (normalize_path(cand, norm) != PathError::none) continue;
        if (StaticHandler::exists(ex, norm, dir)) {
            // Served in this location, without matching locations again (nginx's try_files).
            ex.uri = norm;
            int status = StaticHandler::serve(ex);
            if (status == 405) finish_error(ex, 405, "Allow: GET, HEAD\r\n");
            else if (status) finish_error(ex, status);
            return;
        }
    }
    if (tf.fallback_code) {
        finish_error(ex, *tf.fallback_code);
        return;
    }
    std::string target = tf.fallback_uri.find('$') == std::string::npos ? tf.fallback_uri
                                                                         : expand_variables(ex, tf.fallback_uri);
    internal_redirect(ex, target);
}

void Router::finish_error(Exchange& ex, int status, std::string_view extra_headers) {
    if (StaticHandler::error_closes(status)) ex.keep_alive = false;
    if (ex.cfg && !ex.in_error_page) {
        for (const config::ErrorPageConfig& ep : ex.cfg->error_pages) {
            bool match = false;
            for (int code : ep.codes) match |= code == status;
            if (!match) continue;
            std::string uri = ep.uri.find('$') == std::string::npos ? ep.uri : expand_variables(ex, ep.uri);
            if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
                int code = ep.response_code && is_redirect(*ep.response_code) ? *ep.response_code : 302;
                StaticHandler::respond_error(ex, code, "Location: " + uri + "\r\n");
                return;
            }
            ex.in_error_page = true;
            // The page is fetched with GET (HEAD stays HEAD) and answered with the original
            // status unless "=code" says otherwise.
            // "=" alone: the status of whatever the page's URI produces.
            ex.override_status = ep.response_code ? *ep.response_code : status;
            size_t before = ex.c.state().out.pending();
            internal_redirect(ex, uri);
            if (ex.c.state().out.pending() == before && !ex.close_now) StaticHandler::respond_error(ex, status, extra_headers);
            return;
        }
    }
    if (ex.in_error_page && ex.override_status) status = ex.override_status;
    StaticHandler::respond_error(ex, status, extra_headers);
}

}  // namespace riptide::http
