#include "config/loader.hpp"

#include <exception>
#include <new>

#include "config/builder.hpp"
#include "config/parser.hpp"

namespace riptide::config {

namespace {

// Turns any exception from loading into the one-line error the API promises.
template <typename Fn>
core::Result<Config, std::string> guarded(Fn&& fn) {
    try {
        return fn();
    } catch (const ConfigError& e) {
        return core::Unexpected(std::string(e.what()));
    } catch (const std::bad_alloc&) {
        return core::Unexpected(std::string("out of memory while loading the configuration"));
    } catch (const std::exception& e) {
        return core::Unexpected(std::string("error while loading the configuration: ") + e.what());
    }
}

}  // namespace

core::Result<Config, std::string> load_file(const std::string& path,
                                            const std::vector<std::string>& extra_directives) {
    return guarded([&]() -> core::Result<Config, std::string> {
        Parser parser;
        std::vector<Directive> tree;
        for (const auto& extra : extra_directives) {
            auto part = parser.parse_text(extra, "command line", ".");
            for (auto& d : part) tree.push_back(std::move(d));
        }
        // -g text is not a file: keep it out of the -T listing.
        (void)parser.take_files();
        auto file_tree = parser.parse_file(path);
        for (auto& d : file_tree) tree.push_back(std::move(d));
        detail::Builder builder;
        return builder.build(tree, parser.take_files());
    });
}

core::Result<Config, std::string> load_string(std::string_view text, std::string_view name,
                                              const std::string& base_dir) {
    return guarded([&]() -> core::Result<Config, std::string> {
        Parser parser;
        auto tree = parser.parse_text(text, std::string(name), base_dir);
        detail::Builder builder;
        return builder.build(tree, parser.take_files());
    });
}

std::string dump(const Config& config) {
    std::string out;
    for (const auto& f : config.files) {
        out += "# configuration file " + f.path + ":\n";
        out += f.text;
        if (!f.text.empty() && f.text.back() != '\n') out += '\n';
        out += '\n';
    }
    return out;
}

std::string resolve_path(std::string_view prefix, std::string_view path) {
    if (path.starts_with("/") || prefix.empty()) return std::string(path);
    std::string out(prefix);
    if (out.back() != '/') out += '/';
    out += path;
    return out;
}

}  // namespace riptide::config
