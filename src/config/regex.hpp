// A compiled PCRE2 regular expression, shared between copies of the configuration.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace riptide::config {

class Regex {
public:
    Regex() = default;

    // Compiles `pattern`; the error says what PCRE2 found wrong and at which offset.
    static core::Result<Regex, std::string> compile(std::string_view pattern, bool caseless);

    // True when the pattern matches somewhere in `subject` (like nginx, unanchored
    // unless the pattern anchors itself). An empty Regex matches nothing.
    bool matches(std::string_view subject) const;
    // Like matches, and on a match replaces `captures` with the text of groups 1..n (empty
    // for a group that did not take part), for $1..$9. No match leaves them as they were.
    bool match(std::string_view subject, std::vector<std::string>& captures) const;

    const std::string& pattern() const { return pattern_; }
    bool caseless() const { return caseless_; }
    bool empty() const { return !impl_; }

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
    std::string pattern_;
    bool caseless_ = false;
};

}  // namespace riptide::config
