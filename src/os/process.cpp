#include "os/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

namespace riptide::os {

int fork_process() {
    int parent = ::getpid();
    int pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(0);  // the parent died before prctl
    }
    return pid;
}

ChildExit reap_child() {
    int status = 0;
    int pid;
    do {
        pid = ::waitpid(-1, &status, WNOHANG);
    } while (pid < 0 && errno == EINTR);
    ChildExit e;
    if (pid <= 0) return e;
    e.pid = pid;
    if (WIFSIGNALED(status)) {
        e.signaled = true;
        e.code = WTERMSIG(status);
    } else {
        e.code = WEXITSTATUS(status);
    }
    return e;
}

int cpu_count() {
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

int current_pid() { return ::getpid(); }

long raise_nofile_limit(long want) {
    rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rlim_t target = static_cast<rlim_t>(want);
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max) target = rl.rlim_max;
    if (target > rl.rlim_cur) {
        rl.rlim_cur = target;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    return nofile_limit();
}

long nofile_limit() {
    rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    return rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : static_cast<long>(rl.rlim_cur);
}

void exit_process(int code) { ::_exit(code); }

void detach_session() {
    ::setsid();
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        ::dup2(fd, 0);
        ::close(fd);
    }
}

bool is_root() { return ::geteuid() == 0; }

std::string drop_privileges(const std::string& user, const std::string& group_name) {
    if (::geteuid() != 0) return "";
    passwd* pw = ::getpwnam(user.c_str());
    if (!pw) return "getpwnam(\"" + user + "\") failed: no such user";
    gid_t gid = pw->pw_gid;
    if (!group_name.empty()) {
        struct group* gr = ::getgrnam(group_name.c_str());
        if (!gr) return "getgrnam(\"" + group_name + "\") failed: no such group";
        gid = gr->gr_gid;
    }
    if (::setgid(gid) != 0) return "setgid(" + std::to_string(gid) + ") failed: " + std::to_string(errno);
    if (::initgroups(user.c_str(), gid) != 0) return "initgroups(\"" + user + "\") failed: " + std::to_string(errno);
    if (::setuid(pw->pw_uid) != 0) return "setuid(" + std::to_string(pw->pw_uid) + ") failed: " + std::to_string(errno);
    // setuid clears the dumpable flag, and with it the parent-death signal: ask again.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    return "";
}

void sleep_ms(unsigned ms) { ::usleep(static_cast<useconds_t>(ms) * 1000); }

void remove_file(const std::string& path) { ::unlink(path.c_str()); }

int write_pid_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    std::string s = std::to_string(::getpid()) + "\n";
    ssize_t n = ::write(fd, s.data(), s.size());
    int err = n == static_cast<ssize_t>(s.size()) ? 0 : errno;
    ::close(fd);
    return err;
}

int read_pid_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return -EINVAL;
    return std::atoi(buf);
}

}  // namespace riptide::os
