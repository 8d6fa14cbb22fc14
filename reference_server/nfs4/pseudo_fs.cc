#include "nfs4/pseudo_fs.h"

#include <cstring>

namespace ovl::nfs4 {

namespace {
constexpr char kMagic[4] = {'O', 'V', 'P', '4'};
constexpr size_t kPseudoHandleSize = 24;
}  // namespace

PseudoFs::PseudoFs(std::string_view export_path, const std::array<uint8_t, 16>& uuid,
                   struct timespec start)
    : uuid_(uuid), start_(start) {
  size_t pos = 0;
  while (pos < export_path.size()) {
    size_t slash = export_path.find('/', pos);
    if (slash == std::string_view::npos) slash = export_path.size();
    if (slash > pos) components_.emplace_back(export_path.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

Handle PseudoFs::HandleOf(uint32_t depth) const {
  Handle h(kPseudoHandleSize, '\0');
  std::memcpy(h.data(), kMagic, sizeof kMagic);
  h[4] = static_cast<char>(depth);
  std::memcpy(h.data() + 8, uuid_.data(), uuid_.size());
  return h;
}

PseudoFs::Kind PseudoFs::Decode(const Handle& h, uint32_t* depth) const {
  if (h.size() != kPseudoHandleSize || std::memcmp(h.data(), kMagic, sizeof kMagic) != 0) {
    return Kind::kNotPseudo;
  }
  *depth = static_cast<uint8_t>(h[4]);
  if (h[5] != 0 || h[6] != 0 || h[7] != 0 ||
      std::memcmp(h.data() + 8, uuid_.data(), uuid_.size()) != 0 || *depth >= depths()) {
    return Kind::kStale;
  }
  return Kind::kPseudo;
}

Attr PseudoFs::AttrOf(uint32_t depth, uint64_t fsid) const {
  Attr a;
  a.type = FileType::kDir;
  a.mode = 0555;
  a.nlink = 2;
  a.size = 4096;
  a.used = 4096;
  a.fsid = fsid;
  a.fileid = FileidOf(depth);
  a.atime = a.mtime = a.ctime = start_;
  return a;
}

}  // namespace ovl::nfs4
