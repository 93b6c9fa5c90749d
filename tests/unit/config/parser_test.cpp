#include "config/parser.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace riptide::config {
namespace {

using test::TempDir;

std::vector<Directive> parse(const std::string& text, const std::string& base = ".") {
    Parser p;
    return p.parse_text(text, "t.conf", base);
}

std::string parse_error(const std::string& text, const std::string& base = ".") {
    try {
        parse(text, base);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Parser, DirectivesAndBlocks) {
    auto tree = parse("a 1 '2';\nb x {\n  c;\n  d { e y; }\n}\n");
    ASSERT_EQ(tree.size(), 2u);
    EXPECT_EQ(tree[0].name, "a");
    ASSERT_EQ(tree[0].args.size(), 2u);
    EXPECT_EQ(tree[0].args[1].text, "2");
    EXPECT_TRUE(tree[0].args[1].quoted);
    EXPECT_EQ(tree[0].args[1].pos.to_string(), "t.conf:1:5");
    EXPECT_FALSE(tree[0].has_block);
    EXPECT_TRUE(tree[1].has_block);
    ASSERT_EQ(tree[1].children.size(), 2u);
    EXPECT_EQ(tree[1].children[0].pos.to_string(), "t.conf:3:3");
    EXPECT_TRUE(tree[1].children[1].has_block);
    EXPECT_EQ(tree[1].children[1].children[0].args[0].text, "y");
}

TEST(Parser, EmptyBlockAndEmptyInput) {
    EXPECT_TRUE(parse("").empty());
    EXPECT_TRUE(parse("  # only a comment\n").empty());
    auto tree = parse("events {}");
    ASSERT_EQ(tree.size(), 1u);
    EXPECT_TRUE(tree[0].has_block);
    EXPECT_TRUE(tree[0].children.empty());
}

TEST(Parser, Errors) {
    struct Case {
        const char* text;
        const char* where;
        const char* says;
    };
    const Case cases[] = {
        {"}", "t.conf:1:1:", "unexpected \"}\""},
        {"a;\n  }", "t.conf:2:3:", "no open block"},
        {"events {\n", "t.conf:2:1:", "unexpected end of file, expecting \"}\" to close the block opened at t.conf:1:8"},
        {"a { b { c; }", "t.conf:1:13:", "expecting \"}\""},
        {"events { worker_connections 10 }", "t.conf:1:32:", "expected \";\" to end the \"worker_connections\""},
        {"daemon off", "t.conf:1:11:", "unexpected end of file, expecting \";\" to end the \"daemon\""},
        {";", "t.conf:1:1:", "unexpected \";\""},
        {"a; ;", "t.conf:1:4:", "unexpected \";\""},
        {"{ }", "t.conf:1:1:", "unexpected \"{\""},
        {"pid \"x;", "t.conf:1:5:", "unterminated string"},
        {"include;", "t.conf:1:1:", "invalid number of arguments in \"include\""},
        {"include a b;", "t.conf:1:1:", "invalid number of arguments in \"include\""},
        {"include \"\";", "t.conf:1:9:", "empty file name"},
        {"include /nonexistent/riptide/x.conf;", "t.conf:1:9:", "cannot open \"/nonexistent/riptide/x.conf\""},
    };
    for (const auto& c : cases) {
        std::string e = parse_error(c.text);
        EXPECT_EQ(e.rfind(c.where, 0), 0u) << c.text << " → " << e;
        EXPECT_NE(e.find(c.says), std::string::npos) << c.text << " → " << e;
    }
}

TEST(Parser, NestingDepthIsBounded) {
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "a {";
    std::string e = parse_error(deep);
    EXPECT_NE(e.find("nested too deeply"), std::string::npos) << e;
}

TEST(Parser, IncludeExpandsInPlace) {
    TempDir dir;
    dir.write("inc/one.conf", "b 1;\n");
    dir.write("inc/two.conf", "c 2;\n");
    dir.write("inc/skip.txt", "not parsed {");
    Parser p;
    auto tree = p.parse_text("a;\nblock {\n include inc/*.conf;\n}\nz;", "main.conf", dir.path());
    ASSERT_EQ(tree.size(), 3u);
    ASSERT_EQ(tree[1].children.size(), 2u);
    EXPECT_EQ(tree[1].children[0].name, "b");  // glob results are sorted
    EXPECT_EQ(tree[1].children[1].name, "c");
    EXPECT_EQ(tree[1].children[0].pos.to_string(), dir.path() + "/inc/one.conf:1:1");
    EXPECT_EQ(tree[2].name, "z");
    ASSERT_EQ(p.files().size(), 3u);
    EXPECT_EQ(p.files()[0].path, "main.conf");
    EXPECT_EQ(p.files()[1].text, "b 1;\n");
}

TEST(Parser, IncludeGlobWithNoMatchIsEmpty) {
    TempDir dir;
    EXPECT_TRUE(parse("include none/*.conf;", dir.path()).empty());
}

TEST(Parser, IncludeIsRelativeToTheIncludingFile) {
    TempDir dir;
    dir.write("sub/a.conf", "include b.conf;\n");
    dir.write("sub/b.conf", "leaf;\n");
    std::string main = dir.write("main.conf", "include sub/a.conf;\n");
    Parser p;
    auto tree = p.parse_file(main);
    ASSERT_EQ(tree.size(), 1u);
    EXPECT_EQ(tree[0].name, "leaf");
}

TEST(Parser, IncludeCycleIsAnError) {
    TempDir dir;
    dir.write("a.conf", "x;\ninclude b.conf;\n");
    dir.write("b.conf", "include a.conf;\n");
    std::string main = dir.write("main.conf", "include a.conf;\n");
    Parser p;
    try {
        p.parse_file(main);
        FAIL() << "cycle not detected";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(dir.path() + "/b.conf:1:9: include cycle", 0), 0u) << e.what();
    }
}

TEST(Parser, SelfIncludeThroughGlobIsACycle) {
    TempDir dir;
    std::string main = dir.write("main.conf", "include *.conf;\n");
    Parser p;
    EXPECT_THROW(p.parse_file(main), ConfigError);
}

TEST(Parser, IncludeDepthIsBounded) {
    TempDir dir;
    // A chain of distinct files deeper than the limit.
    for (int i = 0; i < 20; ++i) dir.write("f" + std::to_string(i) + ".conf", "include f" + std::to_string(i + 1) + ".conf;\n");
    dir.write("f20.conf", "x;\n");
    Parser p(ParseLimits{4, 64});
    try {
        p.parse_file(dir.path() + "/f0.conf");
        FAIL() << "depth not bounded";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("nested too deeply"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind(dir.path() + "/f3.conf:1:9:", 0), 0u) << e.what();
    }
}

TEST(Parser, UnbalancedBraceInsideIncludedFile) {
    TempDir dir;
    dir.write("bad.conf", "a {\n");
    std::string e = parse_error("http {\ninclude bad.conf;\n}\n", dir.path());
    EXPECT_EQ(e.rfind(dir.path() + "/bad.conf:2:1: unexpected end of file", 0), 0u) << e;
}

TEST(Parser, IncludeOfADirectoryIsAnError) {
    TempDir dir;
    dir.write("d/x", "");
    std::string e = parse_error("include d;", dir.path());
    EXPECT_EQ(e.rfind("t.conf:1:9:", 0), 0u) << e;
    EXPECT_NE(e.find("directory"), std::string::npos) << e;
}

}  // namespace
}  // namespace riptide::config
