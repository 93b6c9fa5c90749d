// riptide: command line → configuration → runtime → master process.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/mime.hpp"
#include "os/file.hpp"
#include "os/io.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "process/error_log.hpp"
#include "process/master.hpp"
#include "process/runtime.hpp"

using namespace riptide;

namespace {

const char kUsage[] =
    "Usage: riptide [-c FILE] [-p PREFIX] [-g DIRECTIVES] [-t | -T] [-s stop|quit|reload|reopen] [-v | -V]\n"
    "       riptide [--root DIR] [--listen ADDR:PORT]... [--workers N|auto] [--accept reuseport|exclusive]\n"
    "               [--pid FILE]\n"
    "\n"
    "With -c, riptide runs the configuration FILE (nginx's syntax, see docs/configuration.md).\n"
    "Without it, the quick-start flags serve the files under a folder:\n"
    "\n"
    "  --root DIR          document root (default: www)\n"
    "  --listen ADDR:PORT  address to listen on, repeatable: 127.0.0.1:8080, [::1]:8080,\n"
    "                      *:8080 or 8080 (default: 127.0.0.1:8080)\n"
    "  --workers N|auto    worker processes (default: auto, one per CPU)\n"
    "  --accept MODE       how workers share a listening address: reuseport (one socket per\n"
    "                      worker, the kernel balances) or exclusive (one shared socket,\n"
    "                      EPOLLEXCLUSIVE wake-ups); default: reuseport\n"
    "  --pid FILE          write the master's pid to FILE\n"
    "\n"
    "  -c FILE             configuration file\n"
    "  -p PREFIX           prefix for relative paths in the configuration (default: current folder)\n"
    "  -g DIRECTIVES       main-context directives added before the file's: -g 'daemon off;'\n"
    "  -t                  test the configuration and exit\n"
    "  -T                  test the configuration, print it and exit\n"
    "  -s SIGNAL           send stop, quit, reload or reopen to the running master (via its pid file)\n"
    "  -q                  with -t: print errors only\n"
    "  -h, --help          this text\n"
    "  -v, --version       print the version; -V also the build details\n"
    "\n"
    "Signals to the master: TERM/INT stop now, QUIT stops gracefully, HUP reloads the\n"
    "configuration, USR1 reopens the log files.\n";

[[noreturn]] void die(const std::string& msg) {
    os::write_all(2, "riptide: " + msg + "\n");
    os::exit_process(1);
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\' || c == '$') out += '\\';
        out += c;
    }
    return out + "\"";
}

// The quick-start flags become a small configuration, so both ways of starting share
// one code path.
std::string quick_start_config(const std::string& root, const std::vector<std::string>& listens,
                               const std::string& workers) {
    std::string c = "worker_processes " + workers + ";\nerror_log stderr notice;\n";
    c += "events { worker_connections 10240; }\nhttp {\n    default_type application/octet-stream;\n";
    c += "    access_log off;\n    if_modified_since before;\n    types {\n";
    http::MimeTypes builtin;
    std::map<std::string, std::vector<std::string>> by_type;
    for (const auto& [ext, type] : builtin.all()) by_type[type].push_back(ext);
    for (const auto& [type, exts] : by_type) {
        c += "        " + type;
        for (const auto& e : exts) c += " " + e;
        c += ";\n";
    }
    c += "    }\n    server {\n";
    // deferred: TCP_DEFER_ACCEPT, the connection reaches us with its request (docs/operations.md).
    for (const std::string& l : listens) c += "        listen " + quote(l) + " deferred;\n";
    c += "        root " + quote(root) + ";\n    }\n}\n";
    return c;
}

int send_signal_to_master(const std::string& pid_file, const std::string& name) {
    int sig = name == "stop" ? SIGTERM : name == "quit" ? SIGQUIT : name == "reload" ? SIGHUP : name == "reopen" ? SIGUSR1 : 0;
    if (!sig) die("-s takes stop, quit, reload or reopen, not \"" + name + "\"");
    int pid = os::read_pid_file(pid_file);
    if (pid <= 0) die("cannot read the pid file \"" + pid_file + "\": " + os::errno_text(-pid));
    if (int err = os::send_signal(pid, sig)) die("kill(" + std::to_string(pid) + ") failed: " + os::errno_text(err));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string conf_file, prefix, extra, signal_name;
    bool test = false, dump = false, quiet = false;
    std::string root = "www", workers = "auto", pid_file;
    std::vector<std::string> listens;
    bool quick_flags = false;
    process::MasterOptions opts;

    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        std::string_view value;
        bool has_value = false;
        size_t eq = a.find('=');
        if (a.substr(0, 2) == "--" && eq != std::string_view::npos) {
            value = a.substr(eq + 1);
            a = a.substr(0, eq);
            has_value = true;
        } else if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::string_view("cpgs").find(a[1]) != std::string_view::npos) {
            value = a.substr(2);  // nginx also takes "-cFILE"
            a = a.substr(0, 2);
            has_value = true;
        }
        auto need = [&](std::string_view name) -> std::string {
            if (has_value) return std::string(value);
            if (i + 1 >= argc) die("option \"" + std::string(name) + "\" needs a value (see --help)");
            return argv[++i];
        };
        if (a == "-h" || a == "--help" || a == "-?") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--version") {
            std::printf("riptide version: riptide/%s\n", RIPTIDE_VERSION);
            return 0;
        } else if (a == "-v") {  // nginx prints -v and -V on standard error
            os::write_all(2, "riptide version: riptide/" RIPTIDE_VERSION "\n");
            return 0;
        } else if (a == "-V") {
            os::write_all(2, std::string("riptide version: riptide/" RIPTIDE_VERSION "\nbuilt with g++ ") + __VERSION__ +
                                 ", C++20, epoll, openat2, sendfile, inotify, PCRE2\n");
            return 0;
        } else if (a == "-c") {
            conf_file = need(a);
        } else if (a == "-p") {
            prefix = need(a);
        } else if (a == "-g") {
            extra = need(a);
        } else if (a == "-s") {
            signal_name = need(a);
        } else if (a == "-t") {
            test = true;
        } else if (a == "-T") {
            test = dump = true;
        } else if (a == "-q") {
            quiet = true;
        } else if (a == "--root") {
            root = need(a);
            quick_flags = true;
        } else if (a == "--listen") {
            listens.push_back(need(a));
            quick_flags = true;
        } else if (a == "--workers") {
            workers = need(a);
            quick_flags = true;
        } else if (a == "--pid") {
            pid_file = need(a);
        } else if (a == "--accept") {
            std::string m = need(a);
            if (m == "reuseport") opts.accept_mode = process::AcceptMode::reuseport;
            else if (m == "exclusive") opts.accept_mode = process::AcceptMode::exclusive;
            else die("--accept takes reuseport or exclusive, not \"" + m + "\"");
        } else {
            die("unknown option \"" + std::string(argv[i]) + "\" (see --help)");
        }
    }
    if (!conf_file.empty() && quick_flags) die("--root, --listen and --workers are for starting without -c; "
                                               "put root, listen and worker_processes in the configuration instead");

    if (prefix.empty()) prefix = ".";
    if (!prefix.empty() && prefix.back() == '/' && prefix.size() > 1) prefix.pop_back();
    bool quick = conf_file.empty();

    // Load.
    auto load = [&]() -> core::Result<process::Runtime, std::string> {
        std::shared_ptr<config::Config> cfg;
        if (quick) {
            if (workers != "auto") {
                auto n = core::parse_decimal(workers, 1024);
                if (!n || *n == 0)
                    return core::Unexpected("--workers takes a number from 1 to 1024 or \"auto\", not \"" + workers + "\"");
            }
            std::vector<std::string> ls = listens.empty() ? std::vector<std::string>{"127.0.0.1:8080"} : listens;
            for (const std::string& l : ls)
                if (l.empty() || l.find_first_of(" \t;{}\"'") != std::string::npos)
                    return core::Unexpected("invalid listen address \"" + l + "\"");
            auto r = os::open_root(root);
            if (!r) return core::Unexpected("document root: " + r.error().what);
            auto loaded = config::load_string(quick_start_config(root, ls, workers), "command line", ".");
            if (!loaded) {
                std::string e = loaded.error();
                // Point at the flag, not at the generated text.
                size_t colon = e.find(": ", e.find("command line") == 0 ? 13 : 0);
                return core::Unexpected("invalid command line: " + (colon == std::string::npos ? e : e.substr(colon + 2)));
            }
            cfg = std::make_shared<config::Config>(std::move(loaded).value());
        } else {
            std::vector<std::string> extras;
            if (!extra.empty()) extras.push_back(extra);
            auto loaded = config::load_file(config::resolve_path(prefix, conf_file), extras);
            if (!loaded) return core::Unexpected(loaded.error());
            cfg = std::make_shared<config::Config>(std::move(loaded).value());
        }
        auto rt = process::make_runtime(cfg, prefix, quick);
        if (!rt) return core::Unexpected(rt.error());
        if (quick && !pid_file.empty()) rt->pid_file = pid_file;
        return rt;
    };

    std::string shown = quick ? std::string("(command line)") : config::resolve_path(prefix, conf_file);
    if (!signal_name.empty()) {
        if (quick) {
            if (pid_file.empty()) die("-s needs -c FILE (its pid directive) or --pid FILE");
            return send_signal_to_master(pid_file, signal_name);
        }
        auto loaded = config::load_file(shown, extra.empty() ? std::vector<std::string>{} : std::vector<std::string>{extra});
        if (!loaded) die(loaded.error());
        return send_signal_to_master(config::resolve_path(prefix, loaded->main.pid), signal_name);
    }

    core::set_log_sink([](std::string_view line) { os::write_all(2, line); });
    if (test && quiet) core::set_log_level(core::LogLevel::error);
    auto rt = load();
    if (rt) {
        for (const std::string& w : rt->settings->config->warnings) core::logf(core::LogLevel::warn, "%s", w.c_str());
        const config::MainConfig& m = rt->settings->config->main;
        if (!m.user.empty() && !os::is_root())
            core::log(core::LogLevel::warn, "the \"user\" directive makes sense only if the master process runs "
                                            "with super-user privileges, ignored");
    }
    if (test) {
        if (!rt) {
            os::write_all(2, "riptide: [emerg] " + rt.error() + "\nriptide: configuration file " + shown +
                                 " test failed\n");
            return 1;
        }
        if (!quiet)
            os::write_all(2, "riptide: the configuration file " + shown + " syntax is ok\nriptide: configuration file " +
                                 shown + " test is successful\n");
        if (dump) std::fputs(config::dump(*rt->settings->config).c_str(), stdout);
        return 0;
    }
    if (!rt) die(rt.error());

    std::string err = process::open_error_log(rt->error_log, rt->error_level);
    if (!err.empty()) die(err);

    // Each connection costs a descriptor (two when proxied); ask for what the hard limit allows.
    long want = rt->rlimit_nofile ? rt->rlimit_nofile : (1L << 20);
    long nofile = os::raise_nofile_limit(want);
    auto& s = *rt->settings;
    if (quick && nofile > 128) {
        // Quick start: as many connections per worker as the open-file limit allows.
        s.worker_connections = static_cast<uint32_t>(nofile - 64);
    } else if (nofile > 0 && static_cast<long>(s.worker_connections) + 64 > nofile) {
        core::logf(core::LogLevel::warn, "%u worker_connections exceed the open file limit (%ld); using %ld",
                   s.worker_connections, nofile, nofile > 128 ? nofile - 64 : 64);
        s.worker_connections = static_cast<uint32_t>(nofile > 128 ? nofile - 64 : 64);
    }
    if (!quick) {
        opts.reload = [&]() -> core::Result<process::Runtime, std::string> { return load(); };
    }
    if (rt->settings->config->main.daemon) {
        int pid = os::fork_process();
        if (pid < 0) die("fork() failed");
        if (pid > 0) return 0;
        os::detach_session();
    }
    return process::run_master(std::move(rt).value(), opts);
}
