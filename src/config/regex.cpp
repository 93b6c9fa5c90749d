#include "config/regex.hpp"

#include "config/error.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace riptide::config {

struct Regex::Impl {
    pcre2_code* code = nullptr;
    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() { pcre2_code_free(code); }
};

core::Result<Regex, std::string> Regex::compile(std::string_view pattern, bool caseless) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    std::uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;  // URIs may hold any bytes
    if (caseless) options |= PCRE2_CASELESS;
    auto impl = std::make_shared<Impl>();
    impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                               &err, &offset, nullptr);
    if (impl->code == nullptr) {
        PCRE2_UCHAR buf[256];
        int n = pcre2_get_error_message(err, buf, sizeof buf);
        std::string why = n > 0 ? std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n))
                                : std::string("unknown error");
        return core::Unexpected("invalid regular expression " + quote(pattern) + ": " + why + " at offset " +
                                std::to_string(offset));
    }
    // JIT is an optimisation only; without it matching still works.
    (void)pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE);
    Regex r;
    r.impl_ = std::move(impl);
    r.pattern_ = std::string(pattern);
    r.caseless_ = caseless;
    return r;
}

bool Regex::matches(std::string_view subject) const {
    if (!impl_) return false;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    if (md == nullptr) return false;
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                         md, nullptr);
    pcre2_match_data_free(md);
    return rc >= 0;
}

bool Regex::match(std::string_view subject, std::vector<std::string>& captures) const {
    if (!impl_) return false;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    if (md == nullptr) return false;
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                         md, nullptr);
    if (rc >= 0) captures.clear();
    if (rc > 0) {
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        for (int i = 1; i < rc; ++i) {
            if (ov[2 * i] == PCRE2_UNSET) captures.emplace_back();
            else captures.emplace_back(subject.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
        }
    }
    pcre2_match_data_free(md);
    return rc >= 0;
}

}  // namespace riptide::config
