#include "config/location_match.hpp"

namespace riptide::config {

namespace {

enum class Found {
    Final,     // an "=" location or a regex matched: the search stops
    Prefix,    // a prefix (or something nested in it) was chosen; regexes may still win
    Nothing,
};

// One level of nginx's search. `result` keeps the best location found so far; a
// regex at an outer level may still replace what an inner level chose.
Found search(const std::vector<LocationConfig>& level, std::string_view uri, const LocationConfig*& result,
             std::vector<std::string>* captures) {
    const LocationConfig* longest = nullptr;
    for (const auto& loc : level) {
        switch (loc.modifier) {
            case LocationModifier::Exact:
                if (uri == loc.pattern) {
                    result = &loc;
                    return Found::Final;
                }
                break;
            case LocationModifier::Prefix:
            case LocationModifier::PreferPrefix:
                if (uri.starts_with(loc.pattern) && (longest == nullptr || loc.pattern.size() > longest->pattern.size())) {
                    longest = &loc;
                }
                break;
            case LocationModifier::Regex:
            case LocationModifier::RegexCaseless:
            case LocationModifier::Named:
                break;
        }
    }
    Found found = Found::Nothing;
    bool no_regex = false;
    if (longest != nullptr) {
        result = longest;
        found = Found::Prefix;
        no_regex = longest->modifier == LocationModifier::PreferPrefix;
        if (search(longest->locations, uri, result, captures) == Found::Final) return Found::Final;
    }
    if (no_regex) return found;
    for (const auto& loc : level) {
        if (!loc.is_regex() || !(captures ? loc.regex.match(uri, *captures) : loc.regex.matches(uri))) continue;
        result = &loc;
        // A regex location's own nested locations are searched, but whatever they
        // find, the outer search stops here.
        (void)search(loc.locations, uri, result, captures);
        return Found::Final;
    }
    return found;
}

}  // namespace

const LocationConfig* match_location(const std::vector<LocationConfig>& locations, std::string_view uri,
                                     std::vector<std::string>* captures) {
    const LocationConfig* result = nullptr;
    (void)search(locations, uri, result, captures);
    return result;
}

}  // namespace riptide::config
