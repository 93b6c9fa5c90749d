// A contiguous byte buffer with a read position and a write position. Used for a
// connection's read side: bytes arrive at the end, the parser consumes from the front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace riptide::core {

class Buffer {
public:
    Buffer() = default;
    explicit Buffer(size_t capacity) { reserve(capacity); }
    Buffer(Buffer&& o) noexcept
        : data_(std::move(o.data_)), cap_(o.cap_), start_(o.start_), end_(o.end_) {
        o.cap_ = o.start_ = o.end_ = 0;
    }
    Buffer& operator=(Buffer&& o) noexcept {
        data_ = std::move(o.data_);
        cap_ = o.cap_;
        start_ = o.start_;
        end_ = o.end_;
        o.cap_ = o.start_ = o.end_ = 0;
        return *this;
    }

    char* data() { return data_.get(); }
    const char* data() const { return data_.get(); }
    // Unconsumed bytes.
    const char* begin() const { return data_.get() + start_; }
    char* begin() { return data_.get() + start_; }
    size_t size() const { return end_ - start_; }
    bool empty() const { return end_ == start_; }
    std::string_view view() const { return {begin(), size()}; }
    size_t capacity() const { return cap_; }
    bool allocated() const { return data_ != nullptr; }

    // Free space after the last byte.
    char* write_ptr() { return data_.get() + end_; }
    size_t writable() const { return cap_ - end_; }
    void commit(size_t n) { end_ += n; }
    void consume(size_t n) {
        start_ += n;
        if (start_ == end_) start_ = end_ = 0;
    }
    void clear() { start_ = end_ = 0; }

    // Moves unconsumed bytes to the front so that the free space is contiguous.
    void compact() {
        if (start_ == 0) return;
        std::memmove(data_.get(), data_.get() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
    }
    // Grows to at least `capacity` bytes, keeping the content (compacted).
    void reserve(size_t capacity) {
        if (capacity <= cap_) return;
        std::unique_ptr<char[]> n(new char[capacity]);
        if (data_) std::memcpy(n.get(), data_.get() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
        data_ = std::move(n);
        cap_ = capacity;
    }
    void release() {
        data_.reset();
        cap_ = start_ = end_ = 0;
    }
    void append(std::string_view s) {
        if (writable() < s.size()) {
            compact();
            if (writable() < s.size()) reserve(size() + s.size() > cap_ * 2 ? size() + s.size() : cap_ * 2);
        }
        std::memcpy(write_ptr(), s.data(), s.size());
        commit(s.size());
    }

private:
    std::unique_ptr<char[]> data_;
    uint32_t cap_ = 0;  // 32-bit offsets keep a connection small; buffers stay far below 4 GiB
    uint32_t start_ = 0;
    uint32_t end_ = 0;
};

}  // namespace riptide::core
