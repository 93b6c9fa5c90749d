// Small lookups on the typed configuration.
#include "config/config.hpp"

#include <algorithm>

namespace riptide::config {

const std::string& Settings::mime_type(std::string_view extension) const {
    if (!types || extension.empty()) return default_type;
    std::string key(extension);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    auto it = types->find(key);
    return it != types->end() ? it->second : default_type;
}

std::string ListenConfig::address() const {
    const std::string p = std::to_string(port);
    return ipv6 ? "[" + host + "]:" + p : host + ":" + p;
}

const LocationConfig* ServerConfig::named_location(std::string_view name) const {
    for (const auto& loc : named_locations) {
        if (loc.pattern == name) return &loc;
    }
    return nullptr;
}

const LogFormat* HttpConfig::log_format(std::string_view name) const {
    for (const auto& f : log_formats) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

const UpstreamConfig* HttpConfig::upstream(std::string_view name) const {
    for (const auto& u : upstreams) {
        if (u.name == name) return &u;
    }
    return nullptr;
}

}  // namespace riptide::config
