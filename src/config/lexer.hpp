// Lexer for the nginx configuration syntax: words (bare or quoted), ";", "{", "}".
#pragma once

#include <string>
#include <string_view>

#include "config/error.hpp"

namespace riptide::config {

enum class TokenKind { Word, Semicolon, OpenBrace, CloseBrace, End };

struct Token {
    TokenKind kind = TokenKind::End;
    std::string text;     // the word with escapes decoded; empty for punctuation
    bool quoted = false;  // the word was written in '...' or "..."
    Position pos;
};

// Splits one file's text into tokens. '#' starts a comment only where a token could
// start (as in nginx, "a#b" is one word). A backslash makes the next byte ordinary;
// \" \' \\ decode to the byte, \n \r \t to the control character, anything else
// keeps its backslash (so regexes such as "\.php$" survive unchanged).
class Lexer {
public:
    // `file` names the source in positions; `text` must outlive the lexer.
    Lexer(std::string_view text, std::shared_ptr<const std::string> file);

    // The next token; throws ConfigError on an unterminated string or a quote that
    // is glued to the following text.
    Token next();

    // Where the lexer stands now (used to point at the end of the file).
    Position here() const;

private:
    char peek(std::size_t ahead = 0) const;
    void advance();
    void skip_space_and_comments();
    Token read_quoted(Position start);
    Token read_bare(Position start);

    std::string_view text_;
    std::shared_ptr<const std::string> file_;
    std::size_t pos_ = 0;
    std::uint32_t line_ = 1;
    std::uint32_t col_ = 1;
};

// Token kind as it reads in a message: "word", "\";\"", "end of file".
std::string describe(const Token& t);

}  // namespace riptide::config
