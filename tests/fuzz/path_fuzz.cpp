// Path normalization: a result is absolute, holds no NUL, and has no "." or ".." segment
// left, so it can never name anything above the root.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/path.hpp"

using namespace riptide::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    std::string out;
    if (normalize_path(raw, out) != PathError::none) return 0;
    if (out.empty() || out[0] != '/') abort();
    if (out.find('\0') != std::string::npos) abort();
    if (out.find("//") != std::string::npos) abort();
    size_t i = 0;
    while (i < out.size()) {
        size_t j = out.find('/', i + 1);
        std::string_view seg = std::string_view(out).substr(i + 1, (j == std::string::npos ? out.size() : j) - i - 1);
        if (seg == "." || seg == "..") abort();
        if (j == std::string::npos) break;
        i = j;
    }
    return 0;
}
