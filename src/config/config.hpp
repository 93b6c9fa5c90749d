// The typed configuration: what the server reads after loading. Durations are in
// milliseconds (`_ms`), sizes in bytes, as plain integers. Every struct built from a
// directive keeps its Position so later errors (a missing root, a port in use) can
// still point at the line that asked for it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/error.hpp"
#include "config/parser.hpp"
#include "config/regex.hpp"

namespace riptide::config {

enum class LogLevel { Debug, Info, Notice, Warn, Error, Crit, Alert, Emerg };

struct ErrorLogConfig {
    std::string path = "logs/error.log";  // "stderr" means standard error, as in nginx
    LogLevel level = LogLevel::Error;
    Position pos;
};

struct EventsConfig {
    std::uint32_t worker_connections = 512;
    bool multi_accept = false;
    bool accept_mutex = false;
};

struct MainConfig {
    std::uint32_t worker_processes = 1;
    bool worker_processes_auto = false;  // one per CPU; worker_processes is then unused
    std::optional<std::uint64_t> worker_rlimit_nofile;
    std::vector<ErrorLogConfig> error_logs;  // empty: logs/error.log at "error"
    std::string pid = "logs/riptide.pid";
    std::string user;   // "user name [group]": workers drop to it when started as root
    std::string group;
    bool daemon = false;  // riptide stays in the foreground unless told (service managers supervise it)
    EventsConfig events;
};

// One piece of a log format: literal text or a variable name (without '$').
struct LogSegment {
    bool is_variable = false;
    std::string text;
};

enum class LogEscape { Default, Json, None };

struct LogFormat {
    std::string name;
    LogEscape escape = LogEscape::Default;
    std::string text;  // the format strings joined, variables still written "$name"
    std::vector<LogSegment> segments;
    Position pos;
};

struct AccessLogConfig {
    std::string path;
    std::string format = "combined";
    std::optional<std::int64_t> buffer_bytes;
    std::optional<std::int64_t> flush_ms;  // only with a buffer
    Position pos;
};

struct HeaderConfig {
    std::string name;
    std::string value;
    bool always = false;  // also on error responses
    Position pos;
};

struct ExpiresConfig {
    enum class Mode { Off, Epoch, Max, Time };
    Mode mode = Mode::Off;
    std::int64_t offset_ms = 0;  // Mode::Time: from now; negative means "no-cache"
};

struct ErrorPageConfig {
    std::vector<int> codes;
    // What status the client gets: nullopt keeps the original code, 0 means "=" (the
    // code of whatever the uri produces), else that code.
    std::optional<int> response_code;
    std::string uri;  // "/path", "@named" or "http://..." (a redirect)
    Position pos;
};

enum class IfModifiedSince { Off, Exact, Before };

struct OpenFileCacheConfig {
    bool enabled = false;
    std::uint64_t max = 0;
    std::int64_t inactive_ms = 60'000;
};

// proxy_next_upstream conditions, as a bit set.
enum NextUpstream : std::uint32_t {
    kNextError = 1u << 0,
    kNextTimeout = 1u << 1,
    kNextInvalidHeader = 1u << 2,
    kNextHttp500 = 1u << 3,
    kNextHttp502 = 1u << 4,
    kNextHttp503 = 1u << 5,
    kNextHttp504 = 1u << 6,
    kNextHttp404 = 1u << 7,
    kNextNonIdempotent = 1u << 8,
};

struct ProxyPassConfig {
    std::string raw;       // as written
    std::string scheme;    // "http" or "https"
    std::string host;      // host name, IPv4, or IPv6 without brackets
    std::uint16_t port = 0;
    bool has_port = false;
    std::optional<std::string> uri;  // the part after host[:port], if any
    std::string upstream;            // set when host names an upstream{} block
    bool has_variables = false;      // contains '$': resolved per request
    Position pos;
};

// An alias with variables ("/data/img/$1") splits at the last '/' before its first '$':
// the fixed folder ("/data/img/"), opened once at start, and the rest, expanded per
// request beneath it. An alias without variables is all folder.
inline std::string_view alias_folder(std::string_view alias) {
    size_t dollar = alias.find('$');
    if (dollar == std::string_view::npos) return alias;
    size_t slash = alias.rfind('/', dollar);
    return alias.substr(0, slash == std::string_view::npos ? 0 : slash + 1);
}

// allow / deny: the first rule whose address matches the client decides.
struct AccessRule {
    bool allow = false;
    bool all = false;
    int family = 0;             // AF_INET or AF_INET6 (when !all)
    unsigned char addr[16] = {};
    unsigned prefix = 0;        // bits that must match
    Position pos;
};

// Directives that nginx lets http, server and location set and that inner levels
// inherit unless they set them themselves. Arrays (add_header, error_page,
// access_log, proxy_set_header) follow nginx: an inner level that defines any
// entries replaces the whole outer list.
struct Settings {
    std::string root = "html";
    std::optional<std::string> alias;  // location only; replaces root for the match
    std::vector<std::string> index{"index.html"};
    bool autoindex = false;
    std::int64_t keepalive_timeout_ms = 75'000;
    std::optional<std::int64_t> keepalive_header_timeout_ms;  // "Keep-Alive: timeout=N"
    std::uint32_t keepalive_requests = 1000;
    std::int64_t client_header_timeout_ms = 60'000;
    std::int64_t client_body_timeout_ms = 60'000;
    std::int64_t send_timeout_ms = 60'000;
    std::int64_t client_max_body_size = 1024 * 1024;  // 0 = unlimited
    std::int64_t client_header_buffer_size = 1024;
    std::uint32_t large_client_header_buffers_count = 4;
    std::int64_t large_client_header_buffers_size = 8 * 1024;
    std::string default_type = "text/plain";
    // extension (lower case) → MIME type; shared because every location inherits it.
    std::shared_ptr<const std::map<std::string, std::string>> types;
    bool sendfile = false;
    bool tcp_nopush = false;
    bool tcp_nodelay = true;
    std::vector<AccessLogConfig> access_logs;  // empty with access_log_off = no logging
    bool access_log_off = false;
    bool server_tokens = true;
    std::optional<std::uint32_t> max_ranges;  // nullopt = unlimited
    std::vector<HeaderConfig> add_headers;
    ExpiresConfig expires;
    std::vector<ErrorPageConfig> error_pages;
    bool etag = true;
    IfModifiedSince if_modified_since = IfModifiedSince::Exact;
    OpenFileCacheConfig open_file_cache;

    // Reverse proxy (parsed now, used by the proxy handler).
    std::vector<HeaderConfig> proxy_set_headers;
    std::int64_t proxy_connect_timeout_ms = 60'000;
    std::int64_t proxy_read_timeout_ms = 60'000;
    std::int64_t proxy_send_timeout_ms = 60'000;
    std::uint32_t proxy_next_upstream = kNextError | kNextTimeout;  // 0 = off
    bool proxy_buffering = true;
    std::string proxy_http_version = "1.0";
    std::string charset;  // "" = off; else appended to text types' Content-Type (nginx's charset)
    std::vector<AccessRule> access;  // allow/deny, in order (inherited as a list)

    // Directive names given at this level; everything else was inherited.
    std::set<std::string, std::less<>> set_here;
    bool is_set(std::string_view directive) const { return set_here.count(directive) != 0; }

    // The MIME type for a file extension (case-insensitive), or default_type.
    const std::string& mime_type(std::string_view extension) const;
};

struct TryFilesConfig {
    std::vector<std::string> files;  // each may end in "/" to mean a directory
    std::string fallback_uri;        // the last argument when it is a URI
    std::optional<int> fallback_code;  // the last argument when it is "=code"
    Position pos;
};

struct ReturnConfig {
    int code = 302;
    std::string text;  // body text, or the URL for 301/302/303/307/308
    Position pos;
};

enum class LocationModifier { Prefix, Exact, PreferPrefix /* ^~ */, Regex /* ~ */, RegexCaseless /* ~* */, Named /* @ */ };

struct LocationConfig {
    LocationModifier modifier = LocationModifier::Prefix;
    std::string pattern;  // the URI prefix, exact URI, regex source, or "@name"
    Regex regex;          // compiled for Regex / RegexCaseless
    Settings settings;
    std::vector<LocationConfig> locations;  // nested, in config order
    std::optional<TryFilesConfig> try_files;
    std::optional<ReturnConfig> return_;
    std::optional<ProxyPassConfig> proxy_pass;
    bool internal = false;  // reachable only by internal redirects (error_page, try_files, index)
    Position pos;

    bool is_regex() const {
        return modifier == LocationModifier::Regex || modifier == LocationModifier::RegexCaseless;
    }
};

struct ListenConfig {
    std::string host = "*";  // "*", an IPv4 literal, or an IPv6 literal without brackets
    std::uint16_t port = 80;
    bool ipv6 = false;
    bool default_server = false;
    bool reuseport = false;
    bool deferred = false;        // TCP_DEFER_ACCEPT: accept once the first request bytes arrived
    std::optional<int> backlog;   // nullopt: the OS's default (nginx uses 511)
    std::optional<bool> ipv6only;  // [::] only; nullopt = on
    Position pos;

    // "127.0.0.1:8080", "*:80", "[::1]:8080": the key sockets are grouped by.
    std::string address() const;
};

struct ServerName {
    enum class Kind { Exact, LeadingWildcard /* *.example.com */, TrailingWildcard /* www.example.* */, Regex };
    Kind kind = Kind::Exact;
    std::string name;  // lower case; for wildcards without the "*" ("*.a.com" → ".a.com", "www.*" → "www.")
    Regex regex;
    Position pos;
};

struct ServerConfig {
    std::vector<ListenConfig> listens;  // never empty after loading (default *:80)
    std::vector<ServerName> server_names;  // never empty after loading (default "")
    Settings settings;
    std::vector<LocationConfig> locations;        // in config order, named ones excluded
    std::vector<LocationConfig> named_locations;  // "@name"
    std::optional<TryFilesConfig> try_files;
    std::optional<ReturnConfig> return_;
    Position pos;

    const LocationConfig* named_location(std::string_view name) const;  // name with '@'
};

struct UpstreamServerConfig {
    std::string host;  // name or address, IPv6 without brackets
    std::uint16_t port = 80;
    std::uint32_t weight = 1;
    std::uint32_t max_fails = 1;
    std::int64_t fail_timeout_ms = 10'000;
    bool backup = false;
    bool down = false;
    Position pos;
};

enum class BalanceMethod { RoundRobin, LeastConn, IpHash, Hash };

struct UpstreamConfig {
    std::string name;
    std::vector<UpstreamServerConfig> servers;
    std::optional<std::uint32_t> keepalive;  // idle connections cached per worker
    BalanceMethod method = BalanceMethod::RoundRobin;
    std::string hash_key;  // BalanceMethod::Hash
    bool hash_consistent = false;
    Position pos;
};

struct HttpConfig {
    Settings settings;
    std::vector<LogFormat> log_formats;  // "combined" first, always present
    std::vector<ServerConfig> servers;
    std::vector<UpstreamConfig> upstreams;

    const LogFormat* log_format(std::string_view name) const;
    const UpstreamConfig* upstream(std::string_view name) const;
};

struct Config {
    MainConfig main;
    std::optional<HttpConfig> http;     // nullopt when there is no http{} block
    std::vector<SourceFile> files;      // every file read, main file first (for -T)
    // Directives accepted for compatibility that change nothing ("file:line:col: ..."):
    // logged as warnings at start, printed by -t.
    std::vector<std::string> warnings;
};

// The access_log format nginx predefines.
inline constexpr std::string_view kCombinedLogFormat =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"";

}  // namespace riptide::config
