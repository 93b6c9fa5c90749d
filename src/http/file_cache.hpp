// The open-file cache (nginx's open_file_cache): path → open fd, stat, ready-made header
// fields and, for small files, the content. A hit costs no syscall. The directory of each
// cached file is watched with inotify, and any change in it drops its entries at once (the
// worker reads inotify events before the requests of the same wake-up), so a replaced or
// rewritten file is never served stale. Besides, an entry older than `valid_ms` is checked
// with one stat (inode, size, mtime, ctime): that covers what inotify cannot see, such as
// the target of a symlink in another directory, or a watch that could not be added.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "net/shared_file.hpp"

namespace riptide::http {


class CachedFile final : public net::SharedFile {
public:
    using SharedFile::SharedFile;
    std::string rel_path;       // beneath the root, what was opened
    std::string etag;           // "\"<mtime hex>-<size hex>\""
    char last_modified[29] = {};
    std::string content_type;
    const void* types_key = nullptr;    // the `types` and default_type content_type came from
    const void* default_key = nullptr;
    uint64_t validated_ms = 0;
    uint64_t used_ms = 0;
};

struct OpenResult {
    net::FileRef file;   // set on success
    int err = 0;         // errno otherwise (ENOENT, EACCES, EXDEV, ELOOP, ...)
    bool is_dir = false; // the path names a directory (no file opened)
};

class FileCache {
public:
    struct Options {
        uint64_t valid_ms = 1000;
        size_t max_entries = 4096;
        uint64_t memory_max_file = 16384;  // files up to this size are kept in memory
    };
    explicit FileCache(Options o) : opt_(o) {}
    FileCache() : FileCache(Options{}) {}
    ~FileCache();
    FileCache(const FileCache&) = delete;
    FileCache& operator=(const FileCache&) = delete;

    // `rel` is the normalized path without its leading slash. Directories are reported,
    // not opened. Only regular files are cached.
    // The type comes from `types` of the settings that first opened the file.
    OpenResult open(int root_fd, std::string_view rel, const config::Settings& cfg,
                    uint64_t now_ms);
    void clear();
    size_t size() const { return map_.size(); }
    // The inotify descriptor to add watches to (-1: none; entries are then re-checked by stat).
    void set_inotify(int fd) { inotify_ = fd; }
    // Drops the entries of the directories these watch descriptors name (-1: all).
    void invalidate(const std::vector<int>& wds);

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    OpenResult open_uncached(int root_fd, std::string_view rel, const config::Settings& cfg, uint64_t now_ms);
    void evict(uint64_t now_ms);

    void watch(int root_fd, std::string_view rel, const std::string& key);

    Options opt_;
    int inotify_ = -1;
    std::unordered_map<std::string, int> dir_watch_;             // root key + dir → wd
    std::unordered_map<int, std::vector<std::string>> watched_;  // wd → cache keys in it
    std::unordered_map<std::string, CachedFile*, Hash, std::equal_to<>> map_;
    std::string key_;  // scratch, reused: no allocation per lookup once warm
};

}  // namespace riptide::http
