#include "rpc/record.h"

#include <algorithm>
#include <utility>

namespace ovl::rpc {

Result<size_t> RecordAssembler::Feed(std::string_view data) {
  if (failed_) return Status::Error(EMSGSIZE, "record stream already failed");
  size_t used = 0;
  while (used < data.size() && !complete_) {
    if (header_len_ < 4) {
      size_t n = std::min(4 - header_len_, data.size() - used);
      std::copy_n(data.data() + used, n, header_ + header_len_);
      header_len_ += n;
      used += n;
      if (header_len_ < 4) break;
      const auto* u = reinterpret_cast<const unsigned char*>(header_);
      uint32_t word =
          (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
      last_ = (word & kLastFragment) != 0;
      fragment_left_ = word & ~kLastFragment;
      if (fragment_left_ > max_record_ - record_.size()) {
        failed_ = true;
        return Status::Error(EMSGSIZE, "RPC record larger than " + std::to_string(max_record_));
      }
    }
    size_t n = std::min(fragment_left_, data.size() - used);
    record_.append(data.data() + used, n);
    used += n;
    fragment_left_ -= n;
    if (fragment_left_ == 0) {
      header_len_ = 0;
      complete_ = last_;
    }
  }
  return used;
}

std::string RecordAssembler::TakeRecord() {
  complete_ = false;
  return std::exchange(record_, std::string());
}

}  // namespace ovl::rpc
