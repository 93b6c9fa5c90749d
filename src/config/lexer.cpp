#include "config/lexer.hpp"

namespace riptide::config {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// Decode the escapes nginx decodes; other backslashes stay in the text.
void append_escaped(std::string& out, char c) {
    switch (c) {
        case '"':
        case '\'':
        case '\\':
            out += c;
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        default:
            out += '\\';
            out += c;
            break;
    }
}

}  // namespace

Lexer::Lexer(std::string_view text, std::shared_ptr<const std::string> file)
    : text_(text), file_(std::move(file)) {}

char Lexer::peek(std::size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
}

void Lexer::advance() {
    if (pos_ >= text_.size()) return;
    if (text_[pos_] == '\n') {
        ++line_;
        col_ = 1;
    } else {
        ++col_;
    }
    ++pos_;
}

Position Lexer::here() const { return Position{file_, line_, col_}; }

void Lexer::skip_space_and_comments() {
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (is_space(c)) {
            advance();
        } else if (c == '#') {
            while (pos_ < text_.size() && text_[pos_] != '\n') advance();
        } else {
            return;
        }
    }
}

Token Lexer::next() {
    skip_space_and_comments();
    Position start = here();
    if (pos_ >= text_.size()) return Token{TokenKind::End, {}, false, start};
    char c = text_[pos_];
    switch (c) {
        case ';':
            advance();
            return Token{TokenKind::Semicolon, {}, false, start};
        case '{':
            advance();
            return Token{TokenKind::OpenBrace, {}, false, start};
        case '}':
            advance();
            return Token{TokenKind::CloseBrace, {}, false, start};
        case '"':
        case '\'':
            return read_quoted(start);
        default:
            return read_bare(start);
    }
}

Token Lexer::read_quoted(Position start) {
    const char quote_char = text_[pos_];
    advance();
    std::string out;
    for (;;) {
        if (pos_ >= text_.size()) {
            throw ConfigError(start, std::string("unterminated string: the ") + quote_char +
                                         " opened here is never closed (expected a closing " +
                                         quote_char + " before the end of the file)");
        }
        char c = text_[pos_];
        if (c == '\\' && pos_ + 1 < text_.size()) {
            advance();
            append_escaped(out, text_[pos_]);
            advance();
            continue;
        }
        advance();
        if (c == quote_char) break;
        out += c;
    }
    // nginx rejects "abc"def: a quoted word must be followed by a separator.
    char after = peek();
    if (pos_ < text_.size() && !is_space(after) && after != ';' && after != '{' && after != '}') {
        throw ConfigError(here(), "unexpected " + quote(std::string(1, after)) +
                                      " right after a quoted string; expected a space, \";\", "
                                      "\"{\" or \"}\"");
    }
    return Token{TokenKind::Word, std::move(out), true, start};
}

Token Lexer::read_bare(Position start) {
    std::string out;
    // "${name}" keeps its braces: they belong to the variable, not to a block.
    int variable_braces = 0;
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == '\\' && pos_ + 1 < text_.size()) {
            advance();
            append_escaped(out, text_[pos_]);
            advance();
            continue;
        }
        if (c == '{' && !out.empty() && out.back() == '$') {
            ++variable_braces;
        } else if (c == '}' && variable_braces > 0) {
            --variable_braces;
        } else if (is_space(c) || c == ';' || c == '{' || c == '}') {
            break;
        }
        out += c;
        advance();
    }
    return Token{TokenKind::Word, std::move(out), false, start};
}

std::string describe(const Token& t) {
    switch (t.kind) {
        case TokenKind::Word:
            return quote(t.text);
        case TokenKind::Semicolon:
            return "\";\"";
        case TokenKind::OpenBrace:
            return "\"{\"";
        case TokenKind::CloseBrace:
            return "\"}\"";
        case TokenKind::End:
            break;
    }
    return "end of file";
}

}  // namespace riptide::config
