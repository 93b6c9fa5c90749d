// A connection's pending output: memory pieces (bytes owned by the chain, or borrowed from
// a shared file held in memory) and file ranges. flush() gathers neighbouring memory into
// one writev and sends file ranges with sendfile, until done or the socket would block.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/shared_file.hpp"

namespace riptide::net {

class OutputChain {
public:
    // again: the socket is full (wait for EPOLLOUT); yield: this call sent its share of a
    // large file and more can go at once, after the other connections have had a turn.
    enum class Flush { done, again, yield, error };

    // Bytes copied into the chain's own storage (headers, generated bodies).
    void append(std::string_view s);
    // A place to build bytes in place: returns the storage string; call commit_own() after.
    std::string& own() {
        reclaim();
        return own_;
    }
    void commit_own(size_t from);  // marks own_[from..end) as the next piece
    // Borrowed bytes, kept alive by the file reference (a cached small file).
    void append_memory(const FileRef& ref, const char* p, size_t len);
    void append_file(const FileRef& ref, uint64_t offset, uint64_t len);

    bool empty() const { return head_ == pieces_.size(); }
    uint64_t pending() const { return pending_; }
    size_t pieces() const { return pieces_.size() - head_; }

    Flush flush(int fd, uint64_t& written, int& err);
    void clear();

private:
    void reclaim();
    enum class Kind : uint8_t { own, memory, file };
    struct Piece {
        Kind kind;
        uint64_t off;  // own: offset in own_; memory: pointer value; file: file offset
        uint64_t len;
        FileRef ref;
    };
    std::vector<Piece> pieces_;
    size_t head_ = 0;  // first unsent piece
    std::string own_;
    uint64_t pending_ = 0;
};

}  // namespace riptide::net
