// Errors as values. A Status is "ok" or an error code with a message; Result<T> is a T or a
// Status. Error codes are POSIX errno values, plus the few protocol-level conditions that have
// no errno (bad handle, bad cookie, ...), numbered like their NFSv3 counterparts.
#pragma once

#include <cerrno>
#include <string>
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

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must be an error

  bool ok() const { return v_.index() == 0; }
  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ovl

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define OVL_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::ovl::Status _st = (expr);            \
    if (!_st.ok()) return _st;             \
  } while (0)

// Declares `lhs` from a Result expression, returning its Status from the enclosing function on
// error. Usage: OVL_ASSIGN_OR_RETURN(auto fd, env.Open(...));
#define OVL_CONCAT_INNER(a, b) a##b
#define OVL_CONCAT(a, b) OVL_CONCAT_INNER(a, b)
#define OVL_ASSIGN_OR_RETURN(lhs, expr) OVL_ASSIGN_OR_RETURN_IMPL(OVL_CONCAT(_res_, __LINE__), lhs, expr)
#define OVL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
