// Parser: tokens → a tree of directives, with `include` expanded in place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/error.hpp"

namespace riptide::config {

struct Arg {
    std::string text;
    bool quoted = false;
    Position pos;
};

// One `name arg...;` or `name arg... { children }`.
struct Directive {
    std::string name;
    Position pos;
    std::vector<Arg> args;
    bool has_block = false;
    std::vector<Directive> children;
};

// A file the configuration was read from, kept verbatim for `riptide -T`.
struct SourceFile {
    std::string path;
    std::string text;
};

struct ParseLimits {
    int max_include_depth = 16;  // nested includes; also stops include cycles early
    int max_block_depth = 64;    // nested blocks, so hostile input cannot exhaust the stack
};

// Parses configuration text. Files pulled in by `include` are read from disk and
// appended to files(); the first entry is the text given to parse_text/parse_file.
class Parser {
public:
    explicit Parser(ParseLimits limits = {}) : limits_(limits) {}

    // Parse the file at `path`; includes resolve against its folder.
    std::vector<Directive> parse_file(const std::string& path);

    // Parse `text` named `name` in messages; includes resolve against `base_dir`.
    std::vector<Directive> parse_text(std::string_view text, const std::string& name,
                                      const std::string& base_dir);

    const std::vector<SourceFile>& files() const { return files_; }
    std::vector<SourceFile> take_files() {
        auto out = std::move(files_);
        files_.clear();
        return out;
    }

private:
    struct Frame;
    std::vector<Directive> parse_source(std::size_t file_index, const std::string& base_dir);
    void parse_block(Frame& f, std::vector<Directive>& out, const Position* open, int depth);
    void expand_include(const Directive& d, const std::string& base_dir,
                        std::vector<Directive>& out);

    ParseLimits limits_;
    std::vector<SourceFile> files_;
    std::vector<std::string> include_stack_;  // canonical paths being parsed, outermost first
};

// Reads a whole file; throws ConfigError at `where` naming the path and the reason.
std::string read_file_or_throw(const std::string& path, const Position& where);

// The folder part of a path ("." when there is none).
std::string dirname_of(const std::string& path);

}  // namespace riptide::config
