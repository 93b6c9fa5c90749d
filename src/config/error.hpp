// Source positions and the one exception type that configuration loading throws
// internally; the public entry points turn it into "file:line:col: message".
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace riptide::config {

// Where a token starts. The file name is shared: a config has thousands of positions
// and only a handful of files.
struct Position {
    std::shared_ptr<const std::string> file;
    std::uint32_t line = 1;
    std::uint32_t col = 1;

    const std::string& file_name() const;
    // "file:line:col"
    std::string to_string() const;
};

// A configuration error that carries its position; what() is the complete message.
class ConfigError : public std::runtime_error {
public:
    ConfigError(const Position& pos, const std::string& message);
    const Position& position() const { return pos_; }
    // The message without the "file:line:col: " prefix.
    const std::string& detail() const { return detail_; }

private:
    Position pos_;
    std::string detail_;
};

// Quote a value for an error message the way nginx does: "value".
std::string quote(std::string_view s);

}  // namespace riptide::config
