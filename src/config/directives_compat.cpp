// Directives of nginx that riptide accepts so that real nginx configurations load, but that
// change nothing here: tuning knobs of nginx's own data structures, and features riptide
// does not have yet. None is silently ignored: each records a warning with its position,
// logged at start and printed by -t. Directives whose absence would change what a client
// may see or do (allow/deny, auth_basic, limit_*, rewrite, if, ssl listeners...) are not
// here: they stay errors.
#include "config/builder.hpp"

namespace riptide::config::detail {

namespace {

void note(const Directive& d, Scope& s, const char* why) {
    s.config->warnings.push_back(d.pos.to_string() + ": \"" + d.name + "\" has no effect in riptide: " + why);
}

void tuning(Builder&, const Directive& d, Scope& s) { note(d, s, "riptide sizes its tables itself"); }
void no_gzip(Builder&, const Directive& d, Scope& s) {
    note(d, s, "compression is not supported yet; responses are sent uncompressed");
}
void no_tls(Builder&, const Directive& d, Scope& s) {
    note(d, s, "TLS is not supported yet (a \"listen ... ssl\" is an error)");
}
void always(Builder&, const Directive& d, Scope& s) { note(d, s, "riptide always behaves this way"); }
void not_yet(Builder&, const Directive& d, Scope& s) { note(d, s, "not supported yet"); }

constexpr unsigned kMainOnly = kMain;
constexpr unsigned kHttpAll = kHttp | kServer | kLocation;
constexpr unsigned kHttpServer = kHttp | kServer;

constexpr DirectiveSpec kSpecs[] = {
    {"worker_cpu_affinity", kMainOnly, 1, kAnyArgs, false, false, not_yet},
    {"worker_priority", kMainOnly, 1, 1, false, false, not_yet},
    {"worker_shutdown_timeout", kMainOnly, 1, 1, false, false, not_yet},
    {"pcre_jit", kMainOnly, 1, 1, false, false, always},
    {"load_module", kMainOnly, 1, 1, false, true, not_yet},
    {"types_hash_max_size", kHttpAll, 1, 1, false, false, tuning},
    {"types_hash_bucket_size", kHttpAll, 1, 1, false, false, tuning},
    {"server_names_hash_max_size", kHttp, 1, 1, false, false, tuning},
    {"server_names_hash_bucket_size", kHttp, 1, 1, false, false, tuning},
    {"variables_hash_max_size", kHttp, 1, 1, false, false, tuning},
    {"variables_hash_bucket_size", kHttp, 1, 1, false, false, tuning},
    {"client_body_buffer_size", kHttpAll, 1, 1, false, false, tuning},
    {"output_buffers", kHttpAll, 2, 2, false, false, tuning},
    {"postpone_output", kHttpAll, 1, 1, false, false, tuning},
    {"sendfile_max_chunk", kHttpAll, 1, 1, false, false, tuning},
    {"proxy_buffers", kHttpAll, 2, 2, false, false, tuning},
    {"proxy_buffer_size", kHttpAll, 1, 1, false, false, tuning},
    {"proxy_busy_buffers_size", kHttpAll, 1, 1, false, false, tuning},
    {"proxy_max_temp_file_size", kHttpAll, 1, 1, false, false, tuning},
    {"proxy_temp_path", kHttpAll, 1, 4, false, false, tuning},
    {"client_body_temp_path", kHttpAll, 1, 4, false, false, tuning},
    {"open_file_cache_valid", kHttpAll, 1, 1, false, false, always},
    {"open_file_cache_min_uses", kHttpAll, 1, 1, false, false, always},
    {"open_file_cache_errors", kHttpAll, 1, 1, false, false, always},
    {"reset_timedout_connection", kHttpAll, 1, 1, false, false, always},
    {"lingering_close", kHttpAll, 1, 1, false, false, always},
    {"lingering_time", kHttpAll, 1, 1, false, false, always},
    {"lingering_timeout", kHttpAll, 1, 1, false, false, always},
    {"msie_padding", kHttpAll, 1, 1, false, false, always},
    {"log_not_found", kHttpAll, 1, 1, false, false, always},
    {"server_name_in_redirect", kHttpAll, 1, 1, false, false, always},
    {"port_in_redirect", kHttpAll, 1, 1, false, false, always},
    {"absolute_redirect", kHttpAll, 1, 1, false, false, always},
    {"merge_slashes", kHttpServer, 1, 1, false, false, always},
    {"ignore_invalid_headers", kHttpServer, 1, 1, false, false, always},
    {"underscores_in_headers", kHttpServer, 1, 1, false, false, always},
    {"keepalive_disable", kHttpAll, 1, kAnyArgs, false, false, always},
    {"aio", kHttpAll, 1, 1, false, false, not_yet},
    {"directio", kHttpAll, 1, 1, false, false, not_yet},
    {"autoindex_exact_size", kHttpAll, 1, 1, false, false, always},
    {"autoindex_localtime", kHttpAll, 1, 1, false, false, not_yet},
    {"autoindex_format", kHttpAll, 1, 1, false, false, not_yet},
    {"charset_types", kHttpAll, 1, kAnyArgs, false, false, not_yet},
    {"source_charset", kHttpAll, 1, 1, false, false, not_yet},
    {"proxy_redirect", kHttpAll, 1, 2, false, true, not_yet},
    {"proxy_intercept_errors", kHttpAll, 1, 1, false, false, not_yet},
    {"proxy_ignore_client_abort", kHttpAll, 1, 1, false, false, not_yet},
    {"proxy_request_buffering", kHttpAll, 1, 1, false, false, always},
    {"proxy_hide_header", kHttpAll, 1, 1, false, true, not_yet},
    {"proxy_pass_header", kHttpAll, 1, 1, false, true, not_yet},
    {"gzip", kHttpAll, 1, 1, false, false, no_gzip},
    {"gzip_types", kHttpAll, 1, kAnyArgs, false, false, no_gzip},
    {"gzip_vary", kHttpAll, 1, 1, false, false, no_gzip},
    {"gzip_comp_level", kHttpAll, 1, 1, false, false, no_gzip},
    {"gzip_min_length", kHttpAll, 1, 1, false, false, no_gzip},
    {"gzip_proxied", kHttpAll, 1, kAnyArgs, false, false, no_gzip},
    {"gzip_disable", kHttpAll, 1, kAnyArgs, false, false, no_gzip},
    {"gzip_http_version", kHttpAll, 1, 1, false, false, no_gzip},
    {"gzip_buffers", kHttpAll, 2, 2, false, false, no_gzip},
    {"gzip_static", kHttpAll, 1, 1, false, false, no_gzip},
    {"ssl_protocols", kHttpServer, 1, kAnyArgs, false, false, no_tls},
    {"ssl_prefer_server_ciphers", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_ciphers", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_session_cache", kHttpServer, 1, 2, false, false, no_tls},
    {"ssl_session_timeout", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_session_tickets", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_dhparam", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_stapling", kHttpServer, 1, 1, false, false, no_tls},
    {"ssl_stapling_verify", kHttpServer, 1, 1, false, false, no_tls},
};

}  // namespace

std::span<const DirectiveSpec> compat_directives() { return kSpecs; }

}  // namespace riptide::config::detail
