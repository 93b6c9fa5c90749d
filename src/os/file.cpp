#include "os/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace riptide::os {

namespace {
void fill(const struct stat& st, FileInfo& out) {
    out.size = static_cast<uint64_t>(st.st_size);
    out.mtime = st.st_mtim.tv_sec;
    out.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    out.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
    out.inode = st.st_ino;
    out.dev = st.st_dev;
    out.is_dir = S_ISDIR(st.st_mode);
    out.is_regular = S_ISREG(st.st_mode);
}
}  // namespace

core::Result<UniqueFd, SysError> open_root(const std::string& path) {
    int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return core::Unexpected(last_error("open(\"" + path + "\")"));
    return UniqueFd(fd);
}

namespace {

std::string fd_path(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char buf[4096];
    ssize_t n = ::readlink(link, buf, sizeof buf);
    return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// RESOLVE_BENEATH refuses every absolute symlink, even one that points inside the root.
// Such a link is resolved once more without the flag, to an O_PATH descriptor; the path
// the kernel reports for that very object must lie under the root's, and only then is
// the object reopened through its descriptor (no second lookup by name, so nothing can
// be swapped in between). Without openat2 at all, every open goes this way.
int open_resolved_inside(int root_fd, const char* relative, int flags) {
    int pfd = ::openat(root_fd, relative, O_PATH | O_CLOEXEC);
    if (pfd < 0) return -errno;
    UniqueFd guard(pfd);
    std::string root = fd_path(root_fd), target = fd_path(pfd);
    if (root.empty() || target.empty()) return -EXDEV;
    bool inside = target == root || (target.size() > root.size() && target.compare(0, root.size(), root) == 0 &&
                                     (root == "/" || target[root.size()] == '/'));
    if (!inside) return -EXDEV;
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", pfd);
    int fd = ::open(link, flags);
    return fd >= 0 ? fd : -errno;
}

bool g_no_openat2 = false;  // set once openat2 said ENOSYS (per process; workers are single-threaded)

}  // namespace

void force_openat2_fallback(bool on) { g_no_openat2 = on; }

int open_beneath(int root_fd, const char* relative, bool directory) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* rel = *relative ? relative : ".";
    const int flags = static_cast<int>(how.flags);
    if (g_no_openat2) return open_resolved_inside(root_fd, rel, flags);
    for (;;) {
        long fd = ::syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno == EINTR || errno == EAGAIN) continue;
        if (errno == EXDEV) return open_resolved_inside(root_fd, rel, flags);
        if (errno == ENOSYS) {
            g_no_openat2 = true;
            return open_resolved_inside(root_fd, rel, flags);
        }
        // A seccomp filter may answer EPERM for a system call it does not know; openat2
        // itself never does for a read-only open, so try the other way.
        if (errno == EPERM) return open_resolved_inside(root_fd, rel, flags);
        return -errno;
    }
}

bool stat_fd(int fd, FileInfo& out) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return false;
    fill(st, out);
    return true;
}

int stat_at(int dir_fd, const char* relative, FileInfo& out) {
    struct stat st;
    if (::fstatat(dir_fd, *relative ? relative : ".", &st, 0) != 0) return errno;
    fill(st, out);
    return 0;
}

bool list_directory(int dir_fd, std::vector<DirEntry>& out) {
    int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return false;
    }
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (::fstatat(dir_fd, e->d_name, &st, 0) != 0) continue;  // a dangling link is not listed
        DirEntry de;
        de.name = e->d_name;
        fill(st, de.info);
        out.push_back(std::move(de));
    }
    ::closedir(d);
    return true;
}

core::Result<std::string, SysError> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return core::Unexpected(last_error("open(\"" + path + "\")"));
    UniqueFd guard(fd);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return core::Unexpected(last_error("read(\"" + path + "\")"));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

}  // namespace riptide::os
