// inotify, for the open-file cache: a changed directory entry invalidates what was cached.
#pragma once

#include <string>
#include <vector>

namespace riptide::os {

// A non-blocking, close-on-exec inotify descriptor, or -errno.
int inotify_open();
// Watches a directory for any change to its entries or their content; wd or -errno.
int inotify_watch_directory(int ifd, const std::string& path);
// Reads all pending events; appends the watch descriptor of each (-1: the queue
// overflowed, everything must be considered changed).
void inotify_drain(int ifd, std::vector<int>& wds);
// "/proc/self/fd/<fd>/<rel>": a path to something beneath an open directory.
std::string path_beneath_fd(int dir_fd, const std::string& rel);

}  // namespace riptide::os
