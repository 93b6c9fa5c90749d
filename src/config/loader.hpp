// Public entry points: load a configuration from a file or a string, and print it
// back for `riptide -T`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace riptide::config {

// Loads the file at `path` and every file it includes (relative include patterns
// resolve against the including file's folder). `extra_directives` are main-context
// directives given on the command line (-g "daemon off;"); they are read first, as
// nginx does, so repeating one in the file is a duplicate. On failure the error is
// one line: "file:line:col: what is wrong and what was expected".
core::Result<Config, std::string> load_file(const std::string& path,
                                            const std::vector<std::string>& extra_directives = {});

// Loads configuration text named `name` in messages; includes resolve against
// `base_dir`.
core::Result<Config, std::string> load_string(std::string_view text, std::string_view name = "<string>",
                                              const std::string& base_dir = ".");

// Every file the configuration was read from, each under a
// "# configuration file PATH:" header, as `nginx -T` prints them.
std::string dump(const Config& config);

// `path` unchanged when absolute, else joined to `prefix` (nginx's -p): the server
// resolves root, pid, log paths and the like with this.
std::string resolve_path(std::string_view prefix, std::string_view path);

}  // namespace riptide::config
