// riptide: command line → settings → master process.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/settings.hpp"
#include "os/file.hpp"
#include "os/io.hpp"
#include "os/process.hpp"
#include "process/master.hpp"

using namespace riptide;

namespace {

const char kUsage[] =
    "Usage: riptide [--root DIR] [--listen ADDR:PORT]... [--workers N|auto] [--accept reuseport|exclusive]\n"
    "               [--pid FILE] [--help] [--version]\n"
    "\n"
    "Serves the files under DIR over HTTP/1.1.\n"
    "\n"
    "  --root DIR          document root (default: www)\n"
    "  --listen ADDR:PORT  address to listen on, repeatable: 127.0.0.1:8080, [::1]:8080,\n"
    "                      *:8080 or 8080 (default: 127.0.0.1:8080)\n"
    "  --workers N|auto    worker processes (default: auto, one per CPU)\n"
    "  --accept MODE       how workers share a listening address: reuseport (one socket per\n"
    "                      worker, the kernel balances) or exclusive (one shared socket,\n"
    "                      EPOLLEXCLUSIVE wake-ups); default: reuseport\n"
    "  --pid FILE          write the master's pid to FILE\n"
    "  -h, --help          this text\n"
    "  -v, --version       print the version\n"
    "\n"
    "Signals to the master: TERM/INT stop now, QUIT stops gracefully, HUP starts new workers.\n";

void log_to_stderr(std::string_view line) { os::write_all(2, line); }

[[noreturn]] void die(const std::string& msg) {
    std::string line = "riptide: " + msg + "\n";
    os::write_all(2, line);
    os::exit_process(1);
}

}  // namespace

int main(int argc, char** argv) {
    core::set_log_sink(&log_to_stderr);
    http::Settings settings;
    process::MasterOptions opts;
    std::string root = "www";
    std::string workers = "auto";
    std::vector<std::string> listens;

    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        std::string_view value;
        bool has_value = false;
        size_t eq = a.find('=');
        if (a.substr(0, 2) == "--" && eq != std::string_view::npos) {
            value = a.substr(eq + 1);
            a = a.substr(0, eq);
            has_value = true;
        }
        auto need = [&](std::string_view name) -> std::string {
            if (has_value) return std::string(value);
            if (i + 1 >= argc) die("option " + std::string(name) + " needs a value (see --help)");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-v" || a == "--version") {
            std::printf("riptide version %s\n", RIPTIDE_VERSION);
            return 0;
        } else if (a == "--root") {
            root = need(a);
        } else if (a == "--listen") {
            listens.push_back(need(a));
        } else if (a == "--workers") {
            workers = need(a);
        } else if (a == "--pid") {
            opts.pid_file = need(a);
        } else if (a == "--accept") {
            std::string m = need(a);
            if (m == "reuseport") opts.accept_mode = process::AcceptMode::reuseport;
            else if (m == "exclusive") opts.accept_mode = process::AcceptMode::exclusive;
            else die("--accept takes reuseport or exclusive, not \"" + m + "\"");
        } else {
            die("unknown option \"" + std::string(argv[i]) + "\" (see --help)");
        }
    }

    if (workers == "auto") {
        opts.workers = os::cpu_count();
    } else {
        auto n = core::parse_decimal(workers, 1024);
        if (!n || *n == 0) die("--workers takes a number from 1 to 1024 or \"auto\", not \"" + workers + "\"");
        opts.workers = static_cast<int>(*n);
    }
    if (listens.empty()) listens.push_back("127.0.0.1:8080");
    for (const std::string& l : listens) {
        auto addr = os::parse_socket_address(l);
        if (!addr) die("invalid listen address \"" + l + "\" (expected ADDR:PORT, [IPV6]:PORT or PORT)");
        process::ListenSpec spec;
        spec.address = *addr;
        for (const auto& other : opts.listen)
            if (other.address == spec.address) die("duplicate listen address \"" + l + "\"");
        opts.listen.push_back(spec);
    }

    auto root_fd = os::open_root(root);
    if (!root_fd) die("document root: " + root_fd.error().what);
    settings.site.root = root;
    settings.site.root_fd = root_fd->release();  // lives as long as the process

    // Each connection costs a descriptor (two when proxied); ask for what the hard limit allows.
    long nofile = os::raise_nofile_limit(1 << 20);
    if (nofile > 0 && static_cast<long>(settings.worker_connections) + 64 > nofile)
        settings.worker_connections = static_cast<uint32_t>(nofile > 128 ? nofile - 64 : 64);

    return process::run_master(opts, settings);
}
