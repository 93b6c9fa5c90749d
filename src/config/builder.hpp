// Internal to src/config: turns the directive tree into a Config. Each directive is
// described once in a table (name, contexts, argument count, block or not, may it
// repeat) and handled by one function; the walker enforces the table so handlers
// only deal with meaning.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace riptide::config::detail {

enum Context : unsigned {
    kMain = 1u << 0,
    kEvents = 1u << 1,
    kHttp = 1u << 2,
    kServer = 1u << 3,
    kLocation = 1u << 4,
    kUpstream = 1u << 5,
    kTypes = 1u << 6,
};

// Where the walker stands: the innermost block and the objects it fills.
struct Scope {
    Context context = kMain;
    Config* config = nullptr;
    HttpConfig* http = nullptr;
    ServerConfig* server = nullptr;
    LocationConfig* location = nullptr;
    UpstreamConfig* upstream = nullptr;
    Settings* settings = nullptr;  // of the innermost http, server or location
};

class Builder;
using Handler = void (*)(Builder&, const Directive&, Scope&);

inline constexpr int kAnyArgs = -1;

struct DirectiveSpec {
    std::string_view name;
    unsigned contexts;
    int min_args;
    int max_args;  // kAnyArgs: no upper bound
    bool block;
    bool repeatable;
    Handler handler;
};

std::span<const DirectiveSpec> main_directives();    // directives_main.cpp
std::span<const DirectiveSpec> http_directives();    // directives_http.cpp
std::span<const DirectiveSpec> server_directives();  // directives_server.cpp
std::span<const DirectiveSpec> compat_directives();  // directives_compat.cpp

class Builder {
public:
    // Builds the typed configuration; throws ConfigError.
    Config build(const std::vector<Directive>& tree, std::vector<SourceFile> files);

    // Runs the directives of one block in `scope`.
    void run_block(const std::vector<Directive>& block, Scope scope);

private:
    void run_directive(const Directive& d, Scope& scope, std::map<std::string, Position>& seen);
    void finish(Config& config);

    std::vector<const DirectiveSpec*> specs_;
};

// ---- helpers for handlers ----

[[noreturn]] void fail(const Position& pos, const std::string& message);
std::string context_name(unsigned context);
bool flag_arg(const Directive& d, std::size_t i = 0);
std::int64_t size_arg(const Directive& d, const Arg& a);
std::int64_t time_arg(const Directive& d, const Arg& a);
std::int64_t count_arg(const Directive& d, const Arg& a, std::int64_t min, std::int64_t max);
// "name=value" → value when the arg starts with "name=".
std::optional<std::string_view> param_value(const Arg& a, std::string_view name);
// An arg that must not be empty ("" in the config).
const std::string& nonempty_arg(const Directive& d, const Arg& a);

// Splits a log_format string into literal text and $variables.
std::vector<LogSegment> split_log_format(const std::string& text, const Position& pos);

}  // namespace riptide::config::detail
