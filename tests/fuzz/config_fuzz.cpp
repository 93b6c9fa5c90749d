// libFuzzer target: any bytes given to the configuration loader must produce a
// Config or a one-line error, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/loader.hpp"
#include "config/location_match.hpp"
#include "config/server_match.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // A base folder with nothing in it keeps `include` from reading real files.
    auto r = riptide::config::load_string(text, "fuzz.conf", "/nonexistent-riptide-fuzz");
    if (!r) {
        if (r.error().empty() || r.error().find('\n') != std::string::npos) std::abort();
        return 0;
    }
    // Exercise the matchers on whatever was loaded.
    if (r->http) {
        for (const auto& group : riptide::config::group_listens(*r->http)) {
            (void)riptide::config::match_server(group, riptide::config::normalize_host(text.substr(0, 64)));
        }
        for (const auto& server : r->http->servers) {
            (void)riptide::config::match_location(server, "/index.html");
            (void)riptide::config::match_location(server, text.substr(0, 64));
        }
    }
    (void)riptide::config::dump(*r);
    return 0;
}
