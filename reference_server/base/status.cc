#include "base/status.h"

#include <cstring>

namespace ovl {

std::string Status::ToString() const {
  if (ok()) return "ok";
  const char* what = code_ < 10000 ? std::strerror(code_) : "protocol error";
  return message_ + ": " + what + " (" + std::to_string(code_) + ")";
}

}  // namespace ovl
