#include "config/lexer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace riptide::config {
namespace {

std::vector<Token> lex(std::string_view text) {
    Lexer lexer(text, std::make_shared<const std::string>("t.conf"));
    std::vector<Token> out;
    for (;;) {
        Token t = lexer.next();
        if (t.kind == TokenKind::End) break;
        out.push_back(std::move(t));
    }
    return out;
}

std::string lex_error(std::string_view text) {
    try {
        lex(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Lexer, WordsAndPunctuation) {
    auto t = lex("listen 80;\nlocation / {\n}\n");
    ASSERT_EQ(t.size(), 7u);
    EXPECT_EQ(t[0].text, "listen");
    EXPECT_EQ(t[1].text, "80");
    EXPECT_EQ(t[2].kind, TokenKind::Semicolon);
    EXPECT_EQ(t[3].text, "location");
    EXPECT_EQ(t[4].text, "/");
    EXPECT_EQ(t[5].kind, TokenKind::OpenBrace);
    EXPECT_EQ(t[6].kind, TokenKind::CloseBrace);
}

TEST(Lexer, Positions) {
    auto t = lex("a b;\n  cc\tdd;");
    ASSERT_EQ(t.size(), 6u);
    EXPECT_EQ(t[1].pos.line, 1u);
    EXPECT_EQ(t[1].pos.col, 3u);
    EXPECT_EQ(t[2].pos.col, 4u);
    EXPECT_EQ(t[3].pos.line, 2u);
    EXPECT_EQ(t[3].pos.col, 3u);
    EXPECT_EQ(t[4].pos.col, 6u);
    EXPECT_EQ(t[4].pos.to_string(), "t.conf:2:6");
}

TEST(Lexer, CommentsRunToEndOfLine) {
    auto t = lex("# whole line\na; # trailing { } ;\nb#c;");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[0].text, "a");
    EXPECT_EQ(t[2].text, "b#c");  // '#' inside a word is not a comment, as in nginx
}

TEST(Lexer, QuotedStringsAndEscapes) {
    auto t = lex(R"(a "x y" 'i s' "q\"q" 'q\'q' "b\\s" "n\nt\tr\r" "re\.php$";)");
    ASSERT_EQ(t.size(), 9u);
    EXPECT_FALSE(t[0].quoted);
    EXPECT_EQ(t[1].text, "x y");
    EXPECT_TRUE(t[1].quoted);
    EXPECT_EQ(t[2].text, "i s");
    EXPECT_EQ(t[3].text, "q\"q");
    EXPECT_EQ(t[4].text, "q'q");
    EXPECT_EQ(t[5].text, "b\\s");
    EXPECT_EQ(t[6].text, "n\nt\tr\r");
    EXPECT_EQ(t[7].text, "re\\.php$");  // unknown escapes keep their backslash
}

TEST(Lexer, QuotedStringMayBeEmptyAndSpanLines) {
    auto t = lex("a \"\" \"one\ntwo\";");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[1].text, "");
    EXPECT_TRUE(t[1].quoted);
    EXPECT_EQ(t[2].text, "one\ntwo");
}

TEST(Lexer, VariablesStayText) {
    auto t = lex("try_files $uri ${uri}/ /x$args;");
    ASSERT_EQ(t.size(), 5u);
    EXPECT_EQ(t[1].text, "$uri");
    EXPECT_EQ(t[2].text, "${uri}/");
    EXPECT_EQ(t[3].text, "/x$args");
}

TEST(Lexer, BareWordsEndAtSeparators) {
    auto t = lex("a{b}c;d");
    ASSERT_EQ(t.size(), 7u);
    EXPECT_EQ(t[0].text, "a");
    EXPECT_EQ(t[2].text, "b");
    EXPECT_EQ(t[4].text, "c");
    EXPECT_EQ(t[6].text, "d");
}

TEST(Lexer, BackslashEscapesSeparatorInBareWord) {
    auto t = lex(R"(a b\ c;)");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[1].text, "b\\ c");
}

TEST(Lexer, UnterminatedStringPointsAtTheOpeningQuote) {
    EXPECT_EQ(lex_error("pid \"abc;\n\n").substr(0, 13), "t.conf:1:5: u");
    EXPECT_NE(lex_error("pid 'abc;").find("unterminated string"), std::string::npos);
}

TEST(Lexer, QuoteGluedToTextIsAnError) {
    std::string e = lex_error("pid \"a\"b;");
    EXPECT_EQ(e.substr(0, 11), "t.conf:1:8:");
    EXPECT_NE(e.find("right after a quoted string"), std::string::npos);
}

TEST(Lexer, EveryByteValueIsHandled) {
    std::string all;
    for (int i = 1; i < 256; ++i) {
        if (i != '"' && i != '\'') all += static_cast<char>(i);
    }
    EXPECT_NO_THROW(lex(all));
}

}  // namespace
}  // namespace riptide::config
