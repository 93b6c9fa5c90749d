// nginx-style $variables for return, add_header, try_files and log_format.
#pragma once

#include <string>
#include <string_view>

namespace riptide::http {

struct Exchange;

// Appends the value of variable `name` (without '$'); false if the name is unknown.
bool append_variable(const Exchange& ex, std::string_view name, std::string& out);
// Expands "$name" and "${name}" in text; unknown variables expand to nothing.
std::string expand_variables(const Exchange& ex, std::string_view text);
// Whether a variable name is one riptide knows (for checking log formats at start).
bool known_variable(std::string_view name);

}  // namespace riptide::http
