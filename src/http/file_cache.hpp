// The open-file cache (nginx's open_file_cache): path → open fd, stat, ready-made header
// fields and, for small files, the content. A hit costs no syscall. The directory of each
// cached file is watched with inotify, and any change in it drops its entries at once (the
// worker reads inotify events before the requests of the same wake-up), so a replaced or
// rewritten file is never served stale. Besides, an entry older than `valid_ms` is checked
// with one stat (inode, size, mtime, ctime): that covers what inotify cannot see, such as
// the target of a symlink in another directory, or a watch that could not be added.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/hash.hpp"
#include "net/shared_file.hpp"

namespace riptide::http {


class CachedFile final : public net::SharedFile {
public:
    using SharedFile::SharedFile;
    std::string rel_path;       // beneath the root, what was opened
    std::string etag;           // "\"<mtime hex>-<size hex>\""
    std::string etag_field;     // "ETag: <etag>\r\n"
    // The head of a plain 200 answer after its Date line, made by the static handler on
    // first use for the settings `cfg` (they decide the type, charset, Connection,
    // ETag and added fields), one for keep-alive and one for close. Empty text: the
    // settings add fields that change per request (variables, a relative expires).
    struct ReadyHead {
        const void* cfg = nullptr;
        std::string text;
    };
    ReadyHead ready[2];
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
    // An entry's key is the root's descriptor (4 bytes) followed by the path beneath it;
    // a lookup hashes and compares the two parts as they are, without building the key.
    struct Lookup {
        int root_fd;
        std::string_view rel;
    };
    struct Hash {
        using is_transparent = void;
        size_t operator()(const Lookup& k) const { return core::hash_bytes(k.rel, static_cast<uint32_t>(k.root_fd)); }
        size_t operator()(std::string_view key) const {
            int fd;
            std::memcpy(&fd, key.data(), sizeof fd);
            return (*this)(Lookup{fd, key.substr(sizeof fd)});
        }
    };
    struct Equal {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const { return a == b; }
        bool operator()(const Lookup& k, std::string_view key) const {
            return key.size() == sizeof k.root_fd + k.rel.size() &&
                   std::memcmp(key.data(), &k.root_fd, sizeof k.root_fd) == 0 && key.substr(sizeof k.root_fd) == k.rel;
        }
        bool operator()(std::string_view key, const Lookup& k) const { return (*this)(k, key); }
    };
    OpenResult open_uncached(int root_fd, std::string_view rel, const config::Settings& cfg, uint64_t now_ms);
    void evict(uint64_t now_ms);

    void watch(int root_fd, std::string_view rel, const std::string& key);

    Options opt_;
    int inotify_ = -1;
    std::unordered_map<std::string, int> dir_watch_;             // root key + dir → wd
    std::unordered_map<int, std::vector<std::string>> watched_;  // wd → cache keys in it
    std::unordered_map<std::string, CachedFile*, Hash, Equal> map_;
    std::string key_;  // scratch, reused: no allocation per lookup once warm
};

}  // namespace riptide::http
