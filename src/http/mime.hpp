// MIME types by file extension (case-insensitive), nginx's default table for the common
// web types; `types {}` from the configuration can replace it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace riptide::http {

class MimeTypes {
public:
    MimeTypes();  // the built-in table
    void clear() { by_ext_.clear(); }
    void add(std::string_view ext, std::string_view type);
    // Type for a path's extension, or default_type_.
    std::string_view lookup(std::string_view path) const;
    void set_default(std::string_view t) { default_type_ = t; }
    const std::string& default_type() const { return default_type_; }
    const std::unordered_map<std::string, std::string>& all() const { return by_ext_; }

private:
    std::unordered_map<std::string, std::string> by_ext_;
    std::string default_type_ = "application/octet-stream";
};

}  // namespace riptide::http
