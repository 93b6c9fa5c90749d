// Helpers shared by the config tests: load text and assert on success or on the
// exact "file:line:col" of the error.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"

namespace riptide::config::test {

// Loads `text` named "t.conf"; fails the test on error.
inline Config load_ok(const std::string& text, const std::string& base_dir = ".") {
    auto r = load_string(text, "t.conf", base_dir);
    EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error());
    if (!r) return Config{};
    return std::move(r).value();
}

// Loads `text` named "t.conf"; returns the error ("" if it loaded).
inline std::string load_error(const std::string& text, const std::string& base_dir = ".") {
    auto r = load_string(text, "t.conf", base_dir);
    return r ? std::string() : r.error();
}

// Wraps server-level directives in a minimal http { server { ... } }. The first
// directive of `body` starts at line 3, column 1.
inline std::string in_server(const std::string& body) { return "http {\nserver {\n" + body + "\n}\n}\n"; }

// A temporary folder removed at the end of the test (kept when RIPTIDE_KEEP_TMP is set).
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "riptide-config-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        if (std::getenv("RIPTIDE_KEEP_TMP") == nullptr) {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::path p = std::filesystem::path(path_) / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }

private:
    std::string path_;
};

// The repository root: $RIPTIDE_SOURCE, else found from this file's location.
inline std::string source_root() {
    if (const char* env = std::getenv("RIPTIDE_SOURCE"); env != nullptr && *env != '\0') return env;
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path().string();
}

}  // namespace riptide::config::test
