// Picks the location for a request URI the way nginx does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace riptide::config {

// `uri` is the normalized path (percent-decoded, dot segments removed, no query).
// Order, at each level: an exact "=" match wins at once; else the longest prefix
// ("^~" or plain) is remembered and its nested locations are searched the same way;
// then, unless that prefix is "^~", the regex locations of this level are tried in
// config order and the first match wins (searching its own nested locations); else
// the longest prefix (or what its nested search found) stands. Named locations are
// never matched. Returns nullptr when nothing matches: the server level applies.
// `captures`, when given, gets $1..$9 of the last regex location that matched (as
// nginx: the captures of the last successful regex), in the same single match.
const LocationConfig* match_location(const std::vector<LocationConfig>& locations, std::string_view uri,
                                     std::vector<std::string>* captures = nullptr);

inline const LocationConfig* match_location(const ServerConfig& server, std::string_view uri,
                                            std::vector<std::string>* captures = nullptr) {
    return match_location(server.locations, uri, captures);
}

}  // namespace riptide::config
