#include "config/parser.hpp"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/lexer.hpp"

namespace riptide::config {

struct Parser::Frame {
    Lexer lexer;
    std::string base_dir;
    bool pending = false;  // a token was pushed back
    Token lookahead;

    Token next() {
        if (pending) {
            pending = false;
            return std::move(lookahead);
        }
        return lexer.next();
    }
};

std::string dirname_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string read_file_or_throw(const std::string& path, const Position& where) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw ConfigError(where, "cannot read " + quote(path) + ": it is a directory, expected a file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int err = errno;
        throw ConfigError(where, "cannot open " + quote(path) + ": " +
                                     (err != 0 ? std::strerror(err) : "unknown error"));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw ConfigError(where, "cannot read " + quote(path));
    return ss.str();
}

std::vector<Directive> Parser::parse_file(const std::string& path) {
    auto name = std::make_shared<const std::string>(path);
    std::string text = read_file_or_throw(path, Position{name, 1, 1});
    files_.push_back(SourceFile{path, std::move(text)});
    std::error_code ec;
    auto canon = std::filesystem::weakly_canonical(path, ec);
    include_stack_.push_back(ec ? path : canon.string());
    auto out = parse_source(files_.size() - 1, dirname_of(path));
    include_stack_.pop_back();
    return out;
}

std::vector<Directive> Parser::parse_text(std::string_view text, const std::string& name,
                                          const std::string& base_dir) {
    files_.push_back(SourceFile{name, std::string(text)});
    return parse_source(files_.size() - 1, base_dir);
}

std::vector<Directive> Parser::parse_source(std::size_t file_index, const std::string& base_dir) {
    // Copy the text: files_ may reallocate while includes are appended.
    const std::string text = files_[file_index].text;
    auto name = std::make_shared<const std::string>(files_[file_index].path);
    Frame f{Lexer(text, name), base_dir, false, {}};
    std::vector<Directive> out;
    parse_block(f, out, nullptr, 0);
    return out;
}

void Parser::parse_block(Frame& f, std::vector<Directive>& out, const Position* open, int depth) {
    for (;;) {
        Token t = f.next();
        switch (t.kind) {
            case TokenKind::End:
                if (open != nullptr) {
                    throw ConfigError(t.pos, "unexpected end of file, expecting \"}\" to close the "
                                             "block opened at " + open->to_string());
                }
                return;
            case TokenKind::CloseBrace:
                if (open == nullptr) {
                    throw ConfigError(t.pos, "unexpected \"}\": there is no open block to close");
                }
                return;
            case TokenKind::Semicolon:
                throw ConfigError(t.pos, "unexpected \";\": expected a directive name");
            case TokenKind::OpenBrace:
                throw ConfigError(t.pos, "unexpected \"{\": expected a directive name before the block");
            case TokenKind::Word:
                break;
        }
        Directive d;
        d.name = std::move(t.text);
        d.pos = t.pos;
        for (;;) {
            Token a = f.next();
            if (a.kind == TokenKind::Word) {
                d.args.push_back(Arg{std::move(a.text), a.quoted, a.pos});
                continue;
            }
            if (a.kind == TokenKind::Semicolon) break;
            if (a.kind == TokenKind::OpenBrace) {
                if (depth + 1 > limits_.max_block_depth) {
                    throw ConfigError(a.pos, "blocks are nested too deeply (more than " +
                                                 std::to_string(limits_.max_block_depth) + " levels)");
                }
                d.has_block = true;
                parse_block(f, d.children, &a.pos, depth + 1);
                break;
            }
            if (a.kind == TokenKind::CloseBrace) {
                throw ConfigError(a.pos, "unexpected \"}\": expected \";\" to end the " + quote(d.name) +
                                             " directive that starts at " + d.pos.to_string());
            }
            throw ConfigError(a.pos, "unexpected end of file, expecting \";\" to end the " +
                                         quote(d.name) + " directive that starts at " +
                                         d.pos.to_string());
        }
        if (d.name == "include" && !d.has_block) {
            expand_include(d, f.base_dir, out);
        } else {
            out.push_back(std::move(d));
        }
    }
}

namespace {

// A folder that does not exist just matches nothing; one that cannot be read is an
// error, so a permission problem does not silently drop configuration.
int on_glob_error(const char* /*path*/, int err) { return (err == ENOENT || err == ENOTDIR) ? 0 : 1; }

bool has_glob_chars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> glob_paths(const std::string& pattern, const Position& where) {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), 0, on_glob_error, &g);
    std::vector<std::string> paths;
    if (rc == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
        throw ConfigError(where, "cannot expand the include pattern " + quote(pattern) +
                                     (rc == GLOB_ABORTED ? ": a directory could not be read" : ""));
    }
    // glob(3) sorts already; sort again so the order never depends on the locale.
    std::sort(paths.begin(), paths.end());
    return paths;
}

}  // namespace

void Parser::expand_include(const Directive& d, const std::string& base_dir,
                            std::vector<Directive>& out) {
    if (d.args.size() != 1) {
        throw ConfigError(d.pos, "invalid number of arguments in \"include\" directive: expected "
                                 "exactly one file name or glob pattern");
    }
    const Arg& arg = d.args[0];
    if (arg.text.empty()) throw ConfigError(arg.pos, "empty file name in \"include\" directive");
    std::string pattern = arg.text.front() == '/' ? arg.text : base_dir + "/" + arg.text;

    std::vector<std::string> paths;
    if (has_glob_chars(arg.text)) {
        paths = glob_paths(pattern, arg.pos);  // no match is fine, as in nginx
    } else {
        paths.push_back(pattern);
    }
    for (const auto& path : paths) {
        std::error_code ec;
        auto canon_path = std::filesystem::weakly_canonical(path, ec);
        std::string canon = ec ? path : canon_path.string();
        if (std::find(include_stack_.begin(), include_stack_.end(), canon) != include_stack_.end()) {
            throw ConfigError(arg.pos, "include cycle: " + quote(path) +
                                           " is already being included (it includes itself, "
                                           "directly or through other files)");
        }
        if (static_cast<int>(include_stack_.size()) >= limits_.max_include_depth) {
            throw ConfigError(arg.pos, "includes are nested too deeply (more than " +
                                           std::to_string(limits_.max_include_depth) + " levels)");
        }
        std::string text = read_file_or_throw(path, arg.pos);
        files_.push_back(SourceFile{path, std::move(text)});
        include_stack_.push_back(canon);
        auto children = parse_source(files_.size() - 1, dirname_of(path));
        include_stack_.pop_back();
        for (auto& c : children) out.push_back(std::move(c));
    }
}

}  // namespace riptide::config
