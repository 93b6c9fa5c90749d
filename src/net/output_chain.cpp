#include "net/output_chain.hpp"

#include <sys/uio.h>

#include "os/io.hpp"

namespace riptide::net {

namespace {
constexpr int kMaxIov = 64;
// A connection sends at most this much of a file per turn, then lets the others of the
// worker go (Flush::yield): one fast peer cannot hold the worker with a huge file, and
// many large responses go out interleaved in turns rather than one whole file each.
constexpr size_t kSendfileChunk = 256 * 1024;
// Sent bytes at the front of the own storage are dropped only past this much.
constexpr size_t kReclaimMin = 64 * 1024;
}  // namespace

void OutputChain::reclaim() {
    // A stream (a proxied body) may never drain to empty, which is when clear() resets
    // the storage, and its bytes merge into one own piece whose start moves as it is
    // sent: drop what was sent once it is at least half of own_, so own_ stays bounded by
    // about twice what is pending (the move is amortized over the bytes sent).
    if (head_ > 0 && head_ >= pieces_.size() / 2) {
        pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<long>(head_));
        head_ = 0;
    }
    if (own_.size() < kReclaimMin) return;  // the usual case: nothing worth moving
    uint64_t first = own_.size();
    for (size_t i = head_; i < pieces_.size(); ++i)
        if (pieces_[i].kind == Kind::own && pieces_[i].off < first) first = pieces_[i].off;
    if (first < kReclaimMin || first < own_.size() / 2) return;
    own_.erase(0, static_cast<size_t>(first));
    for (size_t i = head_; i < pieces_.size(); ++i)
        if (pieces_[i].kind == Kind::own) pieces_[i].off -= first;
}

void OutputChain::append(std::string_view s) {
    reclaim();
    size_t from = own_.size();
    own_.append(s);
    commit_own(from);
}

void OutputChain::commit_own(size_t from) {
    size_t len = own_.size() - from;
    if (len == 0) return;
    // Merge with the previous own piece when contiguous: fewer iovecs.
    if (head_ < pieces_.size()) {
        Piece& last = pieces_.back();
        if (last.kind == Kind::own && last.off + last.len == from) {
            last.len += len;
            pending_ += len;
            return;
        }
    }
    pieces_.push_back(Piece{Kind::own, from, len, FileRef()});
    pending_ += len;
}

void OutputChain::append_memory(const FileRef& ref, const char* p, size_t len) {
    if (len == 0) return;
    pieces_.push_back(Piece{Kind::memory, reinterpret_cast<uintptr_t>(p), len, ref});
    pending_ += len;
}

void OutputChain::append_file(const FileRef& ref, uint64_t offset, uint64_t len) {
    if (len == 0) return;
    pieces_.push_back(Piece{Kind::file, offset, len, ref});
    pending_ += len;
}

void OutputChain::clear() {
    pieces_.clear();
    head_ = 0;
    own_.clear();
    pending_ = 0;
}

OutputChain::Flush OutputChain::flush(int fd, uint64_t& written, int& err) {
    while (head_ < pieces_.size()) {
        Piece& p = pieces_[head_];
        if (p.kind == Kind::file) {
            size_t want = p.len < kSendfileChunk ? static_cast<size_t>(p.len) : kSendfileChunk;
            os::IoResult r = os::send_file(fd, p.ref->fd(), p.off, want);
            if (!r.ok()) {
                if (r.would_block()) return Flush::again;
                err = r.err;
                return Flush::error;
            }
            if (r.n == 0) {  // the file shrank under us: the response cannot be completed
                err = 0;
                return Flush::error;
            }
            uint64_t n = static_cast<uint64_t>(r.n);
            written += n;
            pending_ -= n;
            p.off += n;
            p.len -= n;
            if (p.len == 0) {
                p.ref = FileRef();
                ++head_;
            } else if (static_cast<size_t>(r.n) < want) {
                return Flush::again;  // socket buffer full
            } else {
                return Flush::yield;  // its turn is over; more can be sent
            }
            continue;
        }
        // Gather consecutive memory pieces into one writev.
        iovec iov[kMaxIov];
        int n = 0;
        size_t total = 0;
        size_t i = head_;
        for (; i < pieces_.size() && n < kMaxIov && pieces_[i].kind != Kind::file; ++i, ++n) {
            const Piece& q = pieces_[i];
            iov[n].iov_base = q.kind == Kind::own ? own_.data() + q.off
                                                  : reinterpret_cast<char*>(static_cast<uintptr_t>(q.off));
            iov[n].iov_len = q.len;
            total += q.len;
        }
        bool file_follows = i < pieces_.size() && pieces_[i].kind == Kind::file;
        os::IoResult r = os::write_vec(fd, iov, n, file_follows);
        if (!r.ok()) {
            if (r.would_block()) return Flush::again;
            err = r.err;
            return Flush::error;
        }
        size_t left = static_cast<size_t>(r.n);
        written += left;
        pending_ -= left;
        while (left > 0) {
            Piece& q = pieces_[head_];
            if (left >= q.len) {
                left -= q.len;
                q.ref = FileRef();
                ++head_;
            } else {
                q.off += left;
                q.len -= left;
                left = 0;
            }
        }
        if (static_cast<size_t>(r.n) < total) return Flush::again;
    }
    clear();
    return Flush::done;
}

}  // namespace riptide::net
