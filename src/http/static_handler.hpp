// The static file handler: files beneath the root (or alias), index files, directory
// listings, redirects for directories, conditional requests and byte ranges; and the
// writers of every response head (standard fields, add_header, expires).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/exchange.hpp"

namespace riptide::http {

class CachedFile;

class StaticHandler {
public:
    // Serves ex.uri. Returns 0 when a response was written, else an error status for
    // the router (404, 403, 405, 500...) and writes nothing.
    static int serve(Exchange& ex);
    // Whether ex.uri names an existing regular file (when dir: a directory), for try_files.
    static bool exists(Exchange& ex, std::string_view uri, bool dir);

    // A response with an nginx-style HTML body for the status (error or redirect).
    static void respond_error(Exchange& ex, int status, std::string_view extra_headers = {});
    // Whether an error answer with this status ends the connection (as in nginx), also
    // when an error_page serves it.
    static bool error_closes(int status);
    // A response with the given body and Content-Type (return code "text").
    static void respond_text(Exchange& ex, int status, std::string_view content_type, std::string_view body,
                             std::string_view extra_headers = {});
    // "Content-Type: type[; charset=...]" (nothing for an empty type).
    static void append_content_type(const Exchange& ex, std::string& o, std::string_view type);
    // Status line, Server and Date.
    static void append_head_start(Exchange& ex, std::string& o, int status);
    // expires and add_header as configured for this status (nginx's status list, or `always`).
    static void append_configured_headers(const Exchange& ex, std::string& o, int status);
    // Connection (and Keep-Alive).
    static void append_connection(bool keep_alive, const config::Settings* cfg, std::string& o);
    // Connection (and Keep-Alive), then add_header/expires for this status.
    static void append_head_end(Exchange& ex, std::string& o, int status);
    // "http://host[:port]" for an absolute Location, as nginx builds it.
    static std::string origin(const Exchange& ex);
    // An error answered before routing (malformed request): minimal and always closing.
    static void respond_bare_error(Connection& c, int status);

    // The directory and the path beneath it (`rel`: a view of `uri`, or of `scratch` when
    // an alias rewrites it) for `uri` under root or alias; false when the location's root
    // could not be opened.
    static bool map_uri(const Exchange& ex, std::string_view uri, int& dir_fd, std::string& scratch,
                        std::string_view& rel);

private:
    static void serve_file(Exchange& ex, CachedFile& f);
    static int serve_directory(Exchange& ex, int dir_fd, std::string_view rel);
};

}  // namespace riptide::http
