// Result<T, E>: a value or an error, with std::expected's member names so that it can
// become an alias of std::expected once the compiler has it.
#pragma once

#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace riptide::core {

template <typename E>
class Unexpected {
public:
    explicit Unexpected(E e) : error_(std::move(e)) {}
    E& error() & { return error_; }
    E&& error() && { return std::move(error_); }

private:
    E error_;
};

template <typename E>
Unexpected(E) -> Unexpected<E>;

template <typename T, typename E = std::string>
class Result {
public:
    Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit on purpose
    template <typename G>
    Result(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u).error()) {}  // NOLINT

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { check(); return std::get<0>(v_); }
    const T& value() const& { check(); return std::get<0>(v_); }
    T&& value() && { check(); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const& { return std::get<1>(v_); }
    E&& error() && { return std::get<1>(std::move(v_)); }

private:
    void check() const {
        if (v_.index() != 0) std::abort();  // reading the value of an error is a bug
    }
    std::variant<T, E> v_;
};

// Result<void, E>: success or an error.
template <typename E>
class Result<void, E> {
public:
    Result() = default;
    template <typename G>
    Result(Unexpected<G> u) : err_(std::move(u).error()), ok_(false) {}  // NOLINT

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const E& error() const& { return err_; }

private:
    E err_{};
    bool ok_ = true;
};

}  // namespace riptide::core
