// A fast non-cryptographic hash for the worker's lookup tables (open-file cache, roots):
// eight bytes per step, then a final mix. Only for tables whose keys a client cannot
// choose freely (they name files that exist), so flooding a bucket is not a concern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace riptide::core {

inline uint64_t hash_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

inline uint64_t hash_bytes(std::string_view s, uint64_t seed = 0) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return hash_mix(h);
}

}  // namespace riptide::core
