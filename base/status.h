// Errors as values. A Status is "ok" or an error code with a message; Result<T> is a T or a
// Status. Error codes are POSIX errno values, plus the few protocol-level conditions that have
// no errno (bad handle, bad cookie, ...), numbered like their NFSv3 counterparts.
#pragma once

#include <cerrno>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace ovl {

// Codes above 10000 have no errno equivalent; the values are those of RFC 1813.
inline constexpr int kErrBadHandle = 10001;
inline constexpr int kErrNotSync = 10002;
inline constexpr int kErrBadCookie = 10003;
inline constexpr int kErrNotSupp = 10004;
inline constexpr int kErrTooSmall = 10005;
inline constexpr int kErrServerFault = 10006;
inline constexpr int kErrBadType = 10007;
inline constexpr int kErrJukebox = 10008;

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  // An error with `code` (errno or kErr*), and a human-readable context.
  static Status Error(int code, std::string message) { return Status(code, std::move(message)); }
  // The current errno with `context` (e.g. the failing call and path).
  static Status FromErrno(std::string context) { return Status(errno, std::move(context)); }

  bool ok() const { return code_ == 0; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  // "message: strerror(code)" for logs.
  std::string ToString() const;
  // Explicitly drops an error where ignoring it is the right thing (best-effort cleanup).
  void IgnoreError() const {}

 private:
  Status(int code, std::string message) : code_(code), message_(std::move(message)) {}
  int code_ = 0;
  std::string message_;
};

namespace internal {
// Print what went wrong to stderr and abort: a Result used against its contract is a bug in the
// caller, and going on would pass an error (or no value) off as a value.
[[noreturn]] void DieOnOkStatusInResult();
[[noreturn]] void DieOnValueOfError(const Status& status);
}  // namespace internal

// A T or an error Status, never an OK status without a value.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "a Result<Status> could not tell value from error");

 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  // `status` must be an error: an OK status aborts (ok() would be false and status().ok() true,
  // and OVL_ASSIGN_OR_RETURN would pass "OK" upward with no value).
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<1>(v_).ok()) internal::DieOnOkStatusInResult();
  }

  bool ok() const { return v_.index() == 0; }
  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }
  // The value; aborts with the status text when this holds an error.
  T& value() & {
    CheckValue();
    return std::get<0>(v_);
  }
  const T& value() const& {
    CheckValue();
    return std::get<0>(v_);
  }
  T&& value() && {
    CheckValue();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckValue() const {
    if (!ok()) internal::DieOnValueOfError(std::get<1>(v_));
  }

  std::variant<T, Status> v_;
};

}  // namespace ovl

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define OVL_RETURN_IF_ERROR(expr) \
  do {                            \
    ::ovl::Status _st = (expr);   \
    if (!_st.ok()) return _st;    \
  } while (0)

// Declares `lhs` from a Result expression, returning its Status from the enclosing function on
// error. Usage: OVL_ASSIGN_OR_RETURN(auto fd, env.Open(...));
#define OVL_CONCAT_INNER(a, b) a##b
#define OVL_CONCAT(a, b) OVL_CONCAT_INNER(a, b)
#define OVL_ASSIGN_OR_RETURN(lhs, expr) \
  OVL_ASSIGN_OR_RETURN_IMPL(OVL_CONCAT(_res_, __LINE__), lhs, expr)
#define OVL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
