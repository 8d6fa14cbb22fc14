// Diagnostics: the errors found in a data file (topology, scenario header), each tied to a
// position and a key path so a user can fix all of them in one pass. Loading returns either the
// loaded value or every diagnostic found: Checked<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ovl::topology {

// A position in a data file, 1-based; line 0 means "no position".
struct Pos {
  int line = 0;
  int column = 0;
  bool operator==(const Pos&) const = default;
};

struct Diagnostic {
  std::string file;  // as the user named it (relative paths stay relative)
  int line = 0;      // 1-based; 0 when the error has no position (e.g. unreadable file)
  int column = 0;    // 1-based; 0 with line == 0
  std::string path;  // key path, e.g. "servers[1].variant"; empty for file-level errors
  std::string message;

  // "file:line:column: path: message", leaving out the parts that are empty.
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

// All diagnostics, one per line (each line ends with '\n').
std::string FormatDiagnostics(const Diagnostics& diagnostics);

// A T, or the non-empty list of diagnostics that prevented building it.
template <typename T>
class [[nodiscard]] Checked {
 public:
  Checked(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  // `errors` must not be empty.
  Checked(Diagnostics errors) : v_(std::move(errors)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  // The diagnostics; empty when this holds a value.
  const Diagnostics& errors() const {
    static const Diagnostics kNone;
    return ok() ? kNone : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Diagnostics> v_;
};

}  // namespace ovl::topology
