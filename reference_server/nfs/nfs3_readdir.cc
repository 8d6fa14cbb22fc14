// READDIR and READDIRPLUS. Cookies are the union's stable, hash-based ones (never below 3), plus
// 1 and 2 for "." and "..", so the cookie verifier is always zero and any verifier a client
// sends is accepted.
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "nfs/access.h"
#include "nfs/nfs3_program.h"
#include "nfs/nfs3_status.h"

namespace ovl::nfs {

namespace {

constexpr uint64_t kDotCookie = 1;
constexpr uint64_t kDotDotCookie = 2;

// The smallest encoded entry: fileid, a name of up to 4 bytes, cookie. READDIR adds the
// value_follows word; READDIRPLUS adds that and two absent-value words.
constexpr size_t kMinDirInfo = 8 + 4 + 4 + 8;
constexpr size_t kMinEntry = 4 + kMinDirInfo;
constexpr size_t kMinEntryPlus = kMinEntry + 4 + 4;

// The part of an entry RFC 1813 counts against READDIRPLUS dircount: fileid, name, cookie.
size_t DirInfoSize(const DirEntryPlus& e) {
  return 8 + XdrOpaqueSize(e.name.size()) + 8;
}

size_t EntrySize(const DirEntryPlus& e, bool plus) {
  size_t size = 4 + DirInfoSize(e);
  if (plus) {
    size += e.attr ? kPostOpAttrSize : 4;
    size += e.node ? 4 + XdrOpaqueSize(e.node->handle.size()) : 4;
  }
  return size;
}

}  // namespace

rpc::AcceptStat Nfs3Program::ReadDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  return ReadDirCommon(cred, in, out, /*plus=*/false);
}

rpc::AcceptStat Nfs3Program::ReadDirPlus(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  return ReadDirCommon(cred, in, out, /*plus=*/true);
}

Result<std::vector<DirEntryPlus>> Nfs3Program::DotEntries(const Node& dir, const Attr& dir_attr,
                                                          uint64_t cookie, bool plus) {
  std::vector<DirEntryPlus> dots;
  if (cookie < kDotCookie) {
    DirEntryPlus dot{".", dir_attr.fileid, kDotCookie, std::nullopt, std::nullopt};
    if (plus) {
      dot.node = dir;
      dot.attr = dir_attr;
    }
    dots.push_back(std::move(dot));
  }
  if (cookie < kDotDotCookie) {
    OVL_ASSIGN_OR_RETURN(Node parent, fs_->Lookup(dir, ".."));
    OVL_ASSIGN_OR_RETURN(Attr parent_attr, fs_->GetAttr(parent));
    DirEntryPlus dotdot{"..", parent_attr.fileid, kDotDotCookie, std::nullopt, std::nullopt};
    if (plus) {
      dotdot.node = std::move(parent);
      dotdot.attr = parent_attr;
    }
    dots.push_back(std::move(dotdot));
  }
  return dots;
}

rpc::AcceptStat Nfs3Program::ReadDirCommon(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out,
                                           bool plus) {
  Handle fh;
  uint64_t cookie = 0;
  std::array<uint8_t, 8> verf{};
  uint32_t dircount = 0, maxcount = 0;
  if (!DecodeFh3(in, &fh) || !in.U64(&cookie) || !DecodeVerf(in, &verf) ||
      (plus && !in.U32(&dircount)) || !in.U32(&maxcount) || !AtEnd(in)) {
    return kGarbage;
  }
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kPostOp, out);
  if (!r) return kSuccess;
  const auto& [dir, dir_attr] = *r;
  Status st;
  if (dir_attr.type != FileType::kDir) {
    st = Status::Error(ENOTDIR, "not a directory");
  } else if (!MayAccess(dir_attr, cred, R_OK)) {
    st = Status::Error(EACCES, "no read permission on the directory");
  }
  if (!st.ok()) {
    EncodeStatus(out, ToNfsstat3(st));
    EncodePostOpAttr(out, dir_attr);
    return kSuccess;
  }

  // READDIR has only `count`, which bounds the whole reply like READDIRPLUS maxcount.
  maxcount = std::min(maxcount, kMaxIoSize);
  dircount = plus ? std::min(dircount, kMaxIoSize) : maxcount;
  // Ask for as many entries as could possibly fit, so a full page means the budget, not the
  // union, ended it.
  size_t max_entries = plus ? std::min(dircount / kMinDirInfo, maxcount / kMinEntryPlus) + 1
                            : maxcount / kMinEntry + 1;
  Result<std::vector<DirEntryPlus>> entries = DotEntries(dir, dir_attr, cookie, plus);
  // READDIR3resok / READDIRPLUS3resok without entries: dir attributes (counted as present),
  // cookieverf, the list terminator and eof.
  size_t total = kPostOpAttrSize + kCookieVerfSize + 4 + 4;
  size_t dir_total = 0;
  auto fits = [&](const DirEntryPlus& e) {
    size_t size = EntrySize(e, plus);
    size_t dir_size = DirInfoSize(e);
    if (total + size > maxcount || dir_total + dir_size > dircount) return false;
    total += size;
    dir_total += dir_size;
    return true;
  };
  // "." and ".." first; the union is asked only for what the rest of the budget holds, so it
  // looks up no entry that would not be sent.
  bool refused = false;
  if (entries.ok()) {
    auto first_refused = std::find_if_not(entries->begin(), entries->end(), fits);
    refused = first_refused != entries->end();
    entries->erase(first_refused, entries->end());
  }
  Result<DirPage> page = !entries.ok() ? Result<DirPage>(entries.status())
                         : refused     ? Result<DirPage>(DirPage{})
                                       : fs_->ReadDir(dir, cookie, max_entries, plus, fits);
  std::optional<Attr> post = AttrOf(dir);
  if (!page.ok()) {
    EncodeStatus(out, ToNfsstat3(page.status()));
    EncodePostOpAttr(out, post);
    return kSuccess;
  }
  const bool eof = !refused && page->eof;
  std::move(page->entries.begin(), page->entries.end(), std::back_inserter(*entries));
  const size_t fitting = entries->size();
  if (fitting == 0 && !eof) {
    EncodeStatus(out, Nfsstat3::kTooSmall);
    EncodePostOpAttr(out, post);
    return kSuccess;
  }

  EncodeStatus(out, Nfsstat3::kOk);
  EncodePostOpAttr(out, post);
  const std::array<uint8_t, kCookieVerfSize> zero_verf{};
  out.FixedOpaque(zero_verf.data(), zero_verf.size());
  for (size_t i = 0; i < fitting; ++i) {
    const DirEntryPlus& e = (*entries)[i];
    out.Bool(true);
    out.U64(e.fileid);
    out.String(e.name);
    out.U64(e.cookie);
    if (plus) {
      EncodePostOpAttr(out, e.attr);
      EncodePostOpFh3(out, e.node ? std::optional<Handle>(e.node->handle) : std::nullopt);
    }
  }
  out.Bool(false);
  out.Bool(eof);
  return kSuccess;
}

}  // namespace ovl::nfs
