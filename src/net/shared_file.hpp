// An open file shared by the responses that send it and by the open-file cache: a
// single-threaded reference count (one worker, one thread), closed when the last user lets go.
#pragma once

#include <cstdint>
#include <string>

#include "os/fd.hpp"
#include "os/file.hpp"

namespace riptide::net {

class SharedFile {
public:
    SharedFile(os::UniqueFd fd, const os::FileInfo& info) : fd_(std::move(fd)), info_(info) {}
    SharedFile(const SharedFile&) = delete;
    SharedFile& operator=(const SharedFile&) = delete;
    virtual ~SharedFile() = default;

    int fd() const { return fd_.get(); }
    const os::FileInfo& info() const { return info_; }
    // Small files are held in memory so that header and body leave in one write.
    const std::string& content() const { return content_; }
    bool in_memory() const { return has_content_; }
    void set_content(std::string c) {
        content_ = std::move(c);
        has_content_ = true;
    }

    void ref() { ++refs_; }
    void unref() {
        if (--refs_ == 0) delete this;
    }

private:
    os::UniqueFd fd_;
    os::FileInfo info_;
    std::string content_;
    bool has_content_ = false;
    uint32_t refs_ = 1;
};

// RAII handle on a SharedFile.
class FileRef {
public:
    FileRef() = default;
    explicit FileRef(SharedFile* f) : f_(f) {}  // adopts one reference
    static FileRef share(SharedFile* f) {
        if (f) f->ref();
        return FileRef(f);
    }
    FileRef(const FileRef& o) : f_(o.f_) {
        if (f_) f_->ref();
    }
    FileRef(FileRef&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
    FileRef& operator=(FileRef o) noexcept {
        std::swap(f_, o.f_);
        return *this;
    }
    ~FileRef() {
        if (f_) f_->unref();
    }
    SharedFile* get() const { return f_; }
    SharedFile* operator->() const { return f_; }
    explicit operator bool() const { return f_ != nullptr; }

private:
    SharedFile* f_ = nullptr;
};

}  // namespace riptide::net
