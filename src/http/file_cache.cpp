#include "http/file_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/http_date.hpp"
#include "core/strings.hpp"
#include "http/path.hpp"
#include "os/inotify.hpp"
#include "os/io.hpp"

namespace riptide::http {

FileCache::~FileCache() { clear(); }

void FileCache::clear() {
    for (auto& kv : map_) kv.second->unref();
    map_.clear();
    for (auto& kv : watched_) kv.second.clear();
}


OpenResult FileCache::open(int root_fd, std::string_view rel, const config::Settings& cfg,
                           uint64_t now_ms) {
    // Keyed by the root's descriptor, not its configured text: two locations naming
    // different directories can never share an entry, whatever their root/alias say.
    auto it = map_.find(Lookup{root_fd, rel});
    if (it != map_.end()) {
        CachedFile* f = it->second;
        if (now_ms - f->validated_ms < opt_.valid_ms) {
            f->used_ms = now_ms;
            return OpenResult{net::FileRef::share(f), 0, false};
        }
        os::FileInfo now;
        const os::FileInfo& was = f->info();
        if (os::stat_at(root_fd, f->rel_path.c_str(), now) == 0 && now.inode == was.inode && now.dev == was.dev &&
            now.size == was.size && now.mtime_ns == was.mtime_ns && now.ctime_ns == was.ctime_ns) {
            f->validated_ms = f->used_ms = now_ms;
            return OpenResult{net::FileRef::share(f), 0, false};
        }
        f->unref();
        map_.erase(it);
    }
    OpenResult r = open_uncached(root_fd, rel, cfg, now_ms);
    if (r.file) {
        key_.assign(reinterpret_cast<const char*>(&root_fd), sizeof root_fd);
        key_.append(rel);
        if (map_.size() >= opt_.max_entries) evict(now_ms);
        r.file->ref();
        map_.emplace(key_, static_cast<CachedFile*>(r.file.get()));
        watch(root_fd, rel, key_);
    }
    return r;
}

void FileCache::watch(int root_fd, std::string_view rel, const std::string& key) {
    if (inotify_ < 0) return;
    size_t slash = rel.rfind('/');
    std::string dir(slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash));
    std::string dkey(reinterpret_cast<const char*>(&root_fd), sizeof root_fd);
    dkey += dir;
    auto it = dir_watch_.find(dkey);
    if (it == dir_watch_.end()) {
        int wd = os::inotify_watch_directory(inotify_, os::path_beneath_fd(root_fd, dir));
        if (wd < 0) return;  // out of watches: the stat check every valid_ms still holds
        it = dir_watch_.emplace(dkey, wd).first;
    }
    watched_[it->second].push_back(key);
}

void FileCache::invalidate(const std::vector<int>& wds) {
    for (int wd : wds) {
        if (wd < 0) {
            clear();
            return;
        }
        auto it = watched_.find(wd);
        if (it == watched_.end()) continue;
        for (const std::string& key : it->second) {
            auto e = map_.find(key);
            if (e == map_.end()) continue;
            e->second->unref();
            map_.erase(e);
        }
        it->second.clear();
    }
}

void FileCache::evict(uint64_t now_ms) {
    // Drop the least recently used half: amortised O(1) per insertion.
    std::vector<uint64_t> ages;
    ages.reserve(map_.size());
    for (auto& kv : map_) ages.push_back(now_ms - kv.second->used_ms);
    std::nth_element(ages.begin(), ages.begin() + static_cast<long>(ages.size() / 2), ages.end());
    uint64_t cut = ages[ages.size() / 2];
    for (auto it = map_.begin(); it != map_.end();) {
        if (now_ms - it->second->used_ms >= cut) {
            it->second->unref();
            it = map_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& kv : watched_) std::erase_if(kv.second, [&](const std::string& k) { return map_.count(k) == 0; });
}

OpenResult FileCache::open_uncached(int root_fd, std::string_view rel, const config::Settings& cfg, uint64_t now_ms) {
    std::string path(rel);
    int fd = os::open_beneath(root_fd, path.c_str(), false);
    if (fd < 0) return OpenResult{{}, -fd, false};
    os::UniqueFd guard(fd);
    os::FileInfo info;
    if (!os::stat_fd(fd, info)) return OpenResult{{}, EIO, false};
    if (info.is_dir) return OpenResult{{}, 0, true};
    if (!info.is_regular) return OpenResult{{}, EACCES, false};

    auto* f = new CachedFile(std::move(guard), info);
    net::FileRef ref(f);
    f->rel_path = std::move(path);
    f->etag = "\"";
    core::append_hex(f->etag, static_cast<uint64_t>(info.mtime));
    f->etag += '-';
    core::append_hex(f->etag, info.size);
    f->etag += '"';
    f->etag_field = "ETag: " + f->etag + "\r\n";
    core::format_http_date(info.mtime, f->last_modified);
    f->content_type = cfg.mime_type(extension_of(rel));
    f->types_key = cfg.types.get();
    f->default_key = &cfg.default_type;
    f->validated_ms = f->used_ms = now_ms;
    if (info.size <= opt_.memory_max_file) {
        // Read once (page cache; a documented blocking exception, bounded by memory_max_file).
        std::string content(info.size, '\0');
        size_t got = 0;
        while (got < content.size()) {
            os::IoResult r = os::pread_some(f->fd(), content.data() + got, content.size() - got, got);
            if (!r.ok() || r.n == 0) break;
            got += static_cast<size_t>(r.n);
        }
        if (got == content.size()) f->set_content(std::move(content));
    }
    return OpenResult{std::move(ref), 0, false};
}

}  // namespace riptide::http
