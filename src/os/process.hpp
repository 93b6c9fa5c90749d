// Processes: fork, reaping, resource limits, CPU count.
#pragma once

#include <string>

namespace riptide::os {

// fork(); in the child also asks the kernel to send SIGTERM when the parent dies.
int fork_process();
struct ChildExit {
    int pid = 0;        // 0: none left to reap
    bool signaled = false;
    int code = 0;       // exit status or signal number
};
ChildExit reap_child();  // waitpid(-1, WNOHANG)
int cpu_count();
int current_pid();
// Raises RLIMIT_NOFILE's soft limit to min(want, hard); returns the new soft limit.
long raise_nofile_limit(long want);
long nofile_limit();
[[noreturn]] void exit_process(int code);
void sleep_ms(unsigned ms);
// setsid() and stdin from /dev/null, for daemon mode.
void detach_session();
// Switches to user (and group, else the user's primary group) when running as root;
// returns "" or an error. Does nothing (returns "") when not root.
std::string drop_privileges(const std::string& user, const std::string& group);
bool is_root();
void remove_file(const std::string& path);
int write_pid_file(const std::string& path);
int read_pid_file(const std::string& path);

}  // namespace riptide::os
