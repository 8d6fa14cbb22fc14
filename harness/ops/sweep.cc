#include "ops/sweep.h"

#include <algorithm>
#include <cerrno>

namespace ovl::ops {
namespace {

// kSyscall and kNfsClient: the handle_type before f_handle.
constexpr size_t kTypeBytes = 4;
// kNfsClient: fileid high, fileid low and type words, then the 16-bit length.
constexpr size_t kNfsWords = 12;
constexpr size_t kNfsHeader = kNfsWords + 2;

uint32_t GetLe(const std::string& s, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

void PutLe(std::string* s, uint32_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// The server's handle inside a held one, and the longest it may become in that frame.
struct Unwrapped {
  std::string server;
  size_t max_len = 0;
};

ovl::Result<Unwrapped> Unwrap(const std::string& held, const HandleFrame& frame) {
  switch (frame.kind) {
    case HandleFrame::Kind::kBare:
      return Unwrapped{held, frame.max_len};
    case HandleFrame::Kind::kSyscall:
      if (held.size() <= kTypeBytes) {
        return Status::Error(EINVAL, "a syscall handle of " + std::to_string(held.size()) +
                                         " bytes has no f_handle");
      }
      return Unwrapped{held.substr(kTypeBytes), std::min(frame.max_len, kMaxHandleSz)};
    case HandleFrame::Kind::kNfsClient: {
      const std::string f = held.size() > kTypeBytes ? held.substr(kTypeBytes) : "";
      if (f.size() < kNfsHeader) {
        return Status::Error(EINVAL, "an NFS client handle of " + std::to_string(held.size()) +
                                         " bytes is shorter than its wrapping");
      }
      const size_t n = GetLe(f, kNfsWords, 2);
      if (n > f.size() - kNfsHeader) {
        return Status::Error(EINVAL, "an NFS client handle says its server handle has " +
                                         std::to_string(n) + " bytes, but holds " +
                                         std::to_string(f.size() - kNfsHeader));
      }
      return Unwrapped{f.substr(kNfsHeader, n), std::min(frame.max_len, kMaxHandleSz - kNfsHeader)};
    }
  }
  return Status::Error(EINVAL, "unknown handle frame");
}

// `held` with its server handle replaced by `server`.
std::string Rewrap(const std::string& held, const HandleFrame& frame, const std::string& server) {
  switch (frame.kind) {
    case HandleFrame::Kind::kBare:
      return server;
    case HandleFrame::Kind::kSyscall:
      return held.substr(0, kTypeBytes) + server;
    case HandleFrame::Kind::kNfsClient: {
      // nfs_encode_fh: EMBED_FH_OFF + XDR_QUADLEN(2 + n) words, the last one zero-padded.
      const size_t words = kNfsWords / 4 + (2 + server.size() + 3) / 4;
      std::string out;
      PutLe(&out, static_cast<uint32_t>(words), kTypeBytes);
      out += held.substr(kTypeBytes, kNfsWords);
      PutLe(&out, static_cast<uint32_t>(server.size()), 2);
      out += server;
      out.resize(kTypeBytes + words * 4, '\0');
      return out;
    }
  }
  return server;
}

}  // namespace

const std::vector<uint8_t>& DefaultSweepMasks() {
  static const std::vector<uint8_t> kMasks{0x01, 0x80, 0xff};
  return kMasks;
}

ovl::Result<std::vector<SweptHandle>> SweepHandle(const std::string& held, const HandleFrame& frame,
                                                  const std::vector<uint8_t>& masks) {
  if (std::find(masks.begin(), masks.end(), 0) != masks.end()) {
    return Status::Error(EINVAL, "a sweep mask of 0 changes nothing");
  }
  OVL_ASSIGN_OR_RETURN(Unwrapped u, Unwrap(held, frame));
  const std::string& h = u.server;
  std::vector<SweptHandle> out;
  auto add = [&](std::string server, SweepPoint p) {
    out.push_back({Rewrap(held, frame, server), std::move(p)});
  };
  for (size_t i = 0; i < h.size(); ++i) {
    for (uint8_t mask : masks) {
      std::string c = h;
      c[i] = static_cast<char>(static_cast<uint8_t>(c[i]) ^ mask);
      add(std::move(c), {"", static_cast<uint32_t>(i), mask, 0});
    }
  }
  for (size_t len = 0; len < h.size(); ++len) {
    add(h.substr(0, len), {"", 0, 0, static_cast<uint32_t>(len)});
  }
  std::vector<size_t> longer;
  for (size_t len : {h.size() + 1, h.size() + 8, u.max_len}) {
    if (len > h.size() && len <= u.max_len &&
        std::find(longer.begin(), longer.end(), len) == longer.end()) {
      longer.push_back(len);
    }
  }
  for (size_t len : longer) {
    std::string c = h;
    c.resize(len, '\0');
    add(std::move(c), {"", 0, 0, static_cast<uint32_t>(len)});
  }
  return out;
}

}  // namespace ovl::ops
