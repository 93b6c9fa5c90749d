#include "os/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

int open_beneath(int root_fd, const char* relative, bool directory) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long fd = ::syscall(SYS_openat2, root_fd, *relative ? relative : ".", &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno == EINTR || errno == EAGAIN) continue;
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
