#include "base/status.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ovl {

std::string Status::ToString() const {
  if (ok()) return "ok";
  const char* what = code_ < 10000 ? std::strerror(code_) : "protocol error";
  return message_ + ": " + what + " (" + std::to_string(code_) + ")";
}

namespace internal {

void DieOnOkStatusInResult() {
  std::fputs("fatal: Result<T> constructed from an OK status (an error or a value is required)\n",
             stderr);
  std::abort();
}

void DieOnValueOfError(const Status& status) {
  std::fprintf(stderr, "fatal: Result<T>::value() of an error: %s\n", status.ToString().c_str());
  std::abort();
}

}  // namespace internal

}  // namespace ovl
