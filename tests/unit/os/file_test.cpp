// open_beneath: the same answers with openat2 and with the path taken where the kernel
// (or a seccomp filter, or valgrind) has no openat2.
#include "os/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace riptide::os {
namespace {

class OpenBeneath : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/riptide-file-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        root_ = base_ + "/root";
        ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0755), 0);
        write(root_ + "/a.txt", "a");
        write(root_ + "/sub/b.txt", "bb");
        write(base_ + "/secret.txt", "secret");
        link("sub/b.txt", root_ + "/rel-inside");
        link(root_ + "/a.txt", root_ + "/abs-inside");
        link(base_ + "/secret.txt", root_ + "/abs-outside");
        link("../secret.txt", root_ + "/rel-outside");
        link("..", root_ + "/sub/up");  // sub/up -> root: still inside
        link("/etc", root_ + "/etc-dir");
        auto r = open_root(root_);
        ASSERT_TRUE(r.has_value());
        root_fd_ = std::move(r).value();
        force_openat2_fallback(GetParam());
    }
    void TearDown() override {
        force_openat2_fallback(false);
        std::string cmd = "rm -rf '" + base_ + "'";
        ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
    static void write(const std::string& path, const std::string& text) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        ::close(fd);
    }
    static void link(const std::string& target, const std::string& path) {
        ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
    }
    // The size of what was opened, or -errno.
    long long open_size(const char* rel, bool dir = false) {
        int fd = open_beneath(root_fd_.get(), rel, dir);
        if (fd < 0) return fd;
        struct stat st;
        ::fstat(fd, &st);
        ::close(fd);
        return dir ? (S_ISDIR(st.st_mode) ? 0 : -1) : st.st_size;
    }
    std::string base_, root_;
    UniqueFd root_fd_;
};

TEST_P(OpenBeneath, FilesAndDirectoriesInside) {
    EXPECT_EQ(open_size("a.txt"), 1);
    EXPECT_EQ(open_size("sub/b.txt"), 2);
    EXPECT_EQ(open_size("sub", true), 0);
    EXPECT_EQ(open_size("", true), 0);
    EXPECT_EQ(open_size("missing.txt"), -ENOENT);
    EXPECT_EQ(open_size("a.txt/x"), -ENOTDIR);
}

TEST_P(OpenBeneath, SymlinksThatStayInsideAreFollowed) {
    EXPECT_EQ(open_size("rel-inside"), 2);
    EXPECT_EQ(open_size("abs-inside"), 1);
    EXPECT_EQ(open_size("sub/up/a.txt"), 1);
}

TEST_P(OpenBeneath, NothingOutsideTheRoot) {
    EXPECT_LT(open_size("abs-outside"), 0);
    EXPECT_LT(open_size("rel-outside"), 0);
    EXPECT_LT(open_size("etc-dir/hostname"), 0);
    EXPECT_LT(open_size("etc-dir", true), 0);
    EXPECT_LT(open_size("sub/up/../secret.txt"), 0);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutOpenat2, OpenBeneath, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Fallback" : "Openat2"; });

}  // namespace
}  // namespace riptide::os
