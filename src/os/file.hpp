// Files beneath a document root.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace riptide::os {

struct FileInfo {
    uint64_t size = 0;
    int64_t mtime = 0;  // seconds
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint64_t inode = 0;
    uint64_t dev = 0;
    bool is_dir = false;
    bool is_regular = false;
};

// Opens a directory to serve as a root (O_PATH | O_DIRECTORY).
core::Result<UniqueFd, SysError> open_root(const std::string& path);

// Opens `relative` (no leading slash) beneath root_fd with openat2(RESOLVE_BENEATH):
// no "..", absolute path or symlink may leave the root. Symlinks inside are followed.
// Returns the fd, or the errno (ENOENT, EACCES, EXDEV for an escape, ELOOP, ENOTDIR ...).
// Where openat2 is missing (a kernel before 5.6, a seccomp filter that refuses it, as
// older container runtimes do, or valgrind) the object is opened by name with symlinks
// followed and served only if the path the kernel reports for it lies under the root's
// (the same check as for absolute symlinks below); this needs /proc.
int open_beneath(int root_fd, const char* relative, bool directory);
// Tests: take the path used without openat2 even where the kernel has it.
void force_openat2_fallback(bool on);
bool stat_fd(int fd, FileInfo& out);
// fstatat(dir_fd, relative) following symlinks; 0 or errno. Used only to see whether a
// cached file changed: what is served is always opened with open_beneath.
int stat_at(int dir_fd, const char* relative, FileInfo& out);

struct DirEntry {
    std::string name;
    FileInfo info;
};
// Lists a directory opened with open_beneath (for autoindex). Skips "." and "..".
bool list_directory(int dir_fd, std::vector<DirEntry>& out);

// Whole-file read for configuration and small files (blocking, start-up only).
core::Result<std::string, SysError> read_file(const std::string& path);

}  // namespace riptide::os
