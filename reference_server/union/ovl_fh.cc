#include "union/ovl_fh.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <string>

namespace ovl {
namespace {

constexpr uint8_t kFbVersion = 0;
constexpr uint8_t kFbMagic = 0xfb;
constexpr uint8_t kFlagBigEndian = 1 << 0;
constexpr uint8_t kFlagAnyEndian = 1 << 1;
constexpr uint8_t kFlagPathUpper = 1 << 2;
constexpr size_t kFbHeader = 21;  // version, magic, len, flags, type, uuid[16]

// Linux >= 6.8 has a generic FS_IOC_GETFSUUID; older uapi headers lack the definition.
struct FsUuid2 {
  uint8_t len;
  uint8_t uuid[16];
};
constexpr unsigned long kFsIocGetFsUuid = _IOR(0x15, 0, FsUuid2);

}  // namespace

std::string EncodeOvlFb(const OvlFb& fb) {
  std::string out;
  out.push_back(static_cast<char>(kFbVersion));
  out.push_back(static_cast<char>(kFbMagic));
  out.push_back(static_cast<char>(kFbHeader + fb.fh.bytes.size()));
  uint8_t flags = fb.upper ? kFlagPathUpper : 0;
  if constexpr (std::endian::native == std::endian::big) flags |= kFlagBigEndian;
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(fb.fh.type));
  out.append(reinterpret_cast<const char*>(fb.uuid.data()), fb.uuid.size());
  out += fb.fh.bytes;
  return out;
}

Result<OvlFb> DecodeOvlFb(const std::string& b) {
  if (b.size() <= kFbHeader || b.size() > 255) return Status::Error(EINVAL, "ovl_fb length");
  if (static_cast<uint8_t>(b[0]) != kFbVersion || static_cast<uint8_t>(b[1]) != kFbMagic ||
      static_cast<uint8_t>(b[2]) != b.size()) {
    return Status::Error(EINVAL, "ovl_fb header");
  }
  const uint8_t flags = static_cast<uint8_t>(b[3]);
  if (flags & ~(kFlagBigEndian | kFlagAnyEndian | kFlagPathUpper)) {
    return Status::Error(EINVAL, "ovl_fb flags");
  }
  OvlFb fb;
  fb.upper = flags & kFlagPathUpper;
  fb.fh.type = static_cast<uint8_t>(b[4]);
  std::memcpy(fb.uuid.data(), b.data() + 5, 16);
  fb.fh.bytes = b.substr(kFbHeader);
  return fb;
}

std::string IndexName(const OvlFb& origin) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw = EncodeOvlFb(origin), out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

FsUuid SuperblockUuid(int devfd) {
  FsUuid out{};
  unsigned char sb[2048];
  if (pread(devfd, sb, sizeof sb, 0) != static_cast<ssize_t>(sizeof sb)) return out;
  if (std::memcmp(sb, "XFSB", 4) == 0) {
    std::memcpy(out.data(), sb + 32, 16);  // xfs_dsb.sb_uuid
  } else if (sb[1024 + 0x38] == 0x53 && sb[1024 + 0x39] == 0xef) {
    std::memcpy(out.data(), sb + 1024 + 0x68, 16);  // ext4_super_block.s_uuid
  }
  return out;
}

FsUuid FilesystemUuid(int fd) {
  FsUuid out{};
  FsUuid2 u{};
  if (ioctl(fd, kFsIocGetFsUuid, &u) == 0 && u.len == 16) {
    std::memcpy(out.data(), u.uuid, 16);
    return out;
  }
  // Without the ioctl (before 6.8) the UUID comes from the superblock on the filesystem's block
  // device, which is what the ioctl returns: a layer keeps its UUID, and its handles and index
  // entries their names, across a kernel upgrade (docs/findings.md #17).
  struct stat st {};
  if (fstat(fd, &st) != 0) return out;
  const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                          std::to_string(minor(st.st_dev)) + "/uevent";
  std::ifstream uevent(sys);
  for (std::string line; std::getline(uevent, line);) {
    if (line.rfind("DEVNAME=", 0) != 0) continue;
    const std::string dev = "/dev/" + line.substr(8);
    const int devfd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (devfd < 0) return out;
    out = SuperblockUuid(devfd);
    ::close(devfd);
  }
  return out;
}

}  // namespace ovl
