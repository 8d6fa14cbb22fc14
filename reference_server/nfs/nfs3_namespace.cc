// Procedures that look up, create, link, rename or remove directory entries.
#include <unistd.h>

#include <string_view>

#include "nfs/access.h"
#include "nfs/namespace_checks.h"
#include "nfs/nfs3_program.h"
#include "nfs/nfs3_status.h"

namespace ovl::nfs {

namespace {

// Default permissions when a create-type call does not send a mode.
constexpr uint32_t kDefaultFileMode = 0644;
constexpr uint32_t kDefaultDirMode = 0755;
// EXCLUSIVE create sends no attributes; the client follows up with SETATTR.
constexpr uint32_t kExclusiveMode = 0600;

// Decodes createhow3: the mode (`how`) and its arm, the attributes of UNCHECKED and GUARDED or
// the verifier of EXCLUSIVE. False on an unknown mode or short data.
bool DecodeCreateHow3(xdr::Decoder& in, uint32_t* how, SetAttrRequest* attrs,
                      std::array<uint8_t, 8>* verf) {
  if (!in.U32(how)) return false;
  switch (static_cast<CreateHow3>(*how)) {
    case CreateHow3::kUnchecked:
    case CreateHow3::kGuarded:
      return DecodeSattr3(in, attrs);
    case CreateHow3::kExclusive:
      return DecodeVerf(in, verf);
    default:
      return false;
  }
}

// Decodes mknoddata3: the type and its arm, attributes and device numbers for a device,
// attributes for a socket or FIFO, nothing for the types MKNOD answers with NFS3ERR_BADTYPE.
// False on an unknown type or short data.
bool DecodeMknodData3(xdr::Decoder& in, FileType* type, SetAttrRequest* attrs, uint32_t* major,
                      uint32_t* minor) {
  uint32_t word = 0;
  if (!in.U32(&word)) return false;
  *type = static_cast<FileType>(word);
  switch (*type) {
    case FileType::kChr:
    case FileType::kBlk:
      return DecodeSattr3(in, attrs) && DecodeSpecdata3(in, major, minor);
    case FileType::kSock:
    case FileType::kFifo:
      return DecodeSattr3(in, attrs);
    case FileType::kReg:
    case FileType::kDir:
    case FileType::kLnk:
      return true;  // void arm
    default:
      return false;
  }
}

}  // namespace

Status CheckName(const std::string& name, bool creating) {
  if (name.size() > kMaxNameLen) return Status::Error(ENAMETOOLONG, "name longer than 255 bytes");
  if (name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return Status::Error(EACCES, "name with '/' or NUL");
  }
  if (name.empty()) return Status::Error(creating ? EINVAL : ENOENT, "empty name");
  if (creating && (name == "." || name == "..")) return Status::Error(EINVAL, "'.' or '..'");
  return Status::Ok();
}

Result<Node> Nfs3Program::ResolveWritableDir(const Handle& handle, const Cred& cred,
                                             std::optional<Attr>* pre) {
  OVL_ASSIGN_OR_RETURN(auto resolved, Resolve(handle));
  *pre = resolved.second;
  if (resolved.second.type != FileType::kDir) return Status::Error(ENOTDIR, "not a directory");
  if (!MayAccess(resolved.second, cred, W_OK | X_OK)) {
    return Status::Error(EACCES, "no write and search permission on the directory");
  }
  return std::move(resolved.first);
}

rpc::AcceptStat Nfs3Program::Lookup(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 what;
  if (!DecodeDirOpArgs3(in, &what) || !AtEnd(in)) return kGarbage;
  std::optional<std::pair<Node, Attr>> dir =
      ResolveOrEncodeFailure(what.dir, FailureAttrs::kPostOp, out);
  if (!dir) return kSuccess;
  const auto& [dir_node, dir_attr] = *dir;
  Result<Node> found = [&]() -> Result<Node> {
    if (dir_attr.type != FileType::kDir) return Status::Error(ENOTDIR, "not a directory");
    if (!MayAccess(dir_attr, cred, X_OK)) return Status::Error(EACCES, "no search permission");
    OVL_RETURN_IF_ERROR(CheckName(what.name, /*creating=*/false));
    return fs_->Lookup(dir_node, what.name);
  }();
  EncodeStatus(out, ToNfsstat3(found.status()));
  if (found.ok()) {
    EncodeFh3(out, found->handle);
    EncodePostOpAttr(out, AttrOf(*found));
  }
  EncodePostOpAttr(out, dir_attr);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::CreateCommon(const Cred& cred, const DirOpArgs3& where,
                                          const SetAttrRequest& attrs,
                                          const std::function<Result<Node>(const Node& dir)>& make,
                                          xdr::Encoder& out) {
  std::optional<Attr> pre;
  Result<Node> dir = ResolveWritableDir(where.dir, cred, &pre);
  Status st = dir.ok() ? CheckName(where.name, /*creating=*/true) : dir.status();
  if (!st.ok()) {
    EncodeStatus(out, ToNfsstat3(st));
    EncodeWccData(out, pre, pre);
    return kSuccess;
  }
  Result<Node> made = make(*dir);
  if (made.ok()) {
    if (Status applied = ApplyInitialAttrs(*fs_, *made, cred, attrs); !applied.ok()) made = applied;
  }
  std::optional<Attr> post = AttrOf(*dir);
  EncodeStatus(out, ToNfsstat3(made.status()));
  if (made.ok()) {
    EncodePostOpFh3(out, made->handle);
    EncodePostOpAttr(out, AttrOf(*made));
  }
  EncodeWccData(out, pre, post);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Create(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 where;
  uint32_t how = 0;
  SetAttrRequest attrs;
  std::array<uint8_t, 8> verf{};
  if (!DecodeDirOpArgs3(in, &where) || !DecodeCreateHow3(in, &how, &attrs, &verf) || !AtEnd(in)) {
    return kGarbage;
  }
  // EXCLUSIVE sent no attributes: `attrs` stays empty.
  return CreateCommon(
      cred, where, attrs,
      [&](const Node& dir) -> Result<Node> {
        if (how == static_cast<uint32_t>(CreateHow3::kExclusive)) {
          return fs_->Create(dir, where.name, CreateMode::kExclusive, kExclusiveMode, verf, cred);
        }
        CreateMode mode = how == static_cast<uint32_t>(CreateHow3::kGuarded)
                              ? CreateMode::kGuarded
                              : CreateMode::kUnchecked;
        return fs_->Create(dir, where.name, mode, attrs.mode.value_or(kDefaultFileMode), verf,
                           cred);
      },
      out);
}

rpc::AcceptStat Nfs3Program::MkDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 where;
  SetAttrRequest attrs;
  if (!DecodeDirOpArgs3(in, &where) || !DecodeSattr3(in, &attrs) || !AtEnd(in)) return kGarbage;
  return CreateCommon(
      cred, where, attrs,
      [&](const Node& dir) {
        return fs_->MkDir(dir, where.name, attrs.mode.value_or(kDefaultDirMode), cred);
      },
      out);
}

rpc::AcceptStat Nfs3Program::Symlink(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 where;
  SetAttrRequest attrs;
  std::string target;
  if (!DecodeDirOpArgs3(in, &where) || !DecodeSattr3(in, &attrs) || !DecodeName(in, &target) ||
      !AtEnd(in)) {
    return kGarbage;
  }
  // Symlink attributes are ignored: a symlink's mode means nothing and its owner is the caller.
  return CreateCommon(
      cred, where, /*attrs=*/{},
      [&](const Node& dir) -> Result<Node> {
        if (target.empty() || target.find('\0') != std::string::npos) {
          return Status::Error(EINVAL, "symlink target empty or with NUL");
        }
        if (target.size() > kMaxPathLen) return Status::Error(ENAMETOOLONG, "symlink target");
        return fs_->Symlink(dir, where.name, target, cred);
      },
      out);
}

rpc::AcceptStat Nfs3Program::MkNod(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 where;
  FileType ftype = FileType::kReg;
  uint32_t major = 0, minor = 0;
  SetAttrRequest attrs;
  if (!DecodeDirOpArgs3(in, &where) || !DecodeMknodData3(in, &ftype, &attrs, &major, &minor) ||
      !AtEnd(in)) {
    return kGarbage;
  }
  return CreateCommon(
      cred, where, attrs,
      [&](const Node& dir) -> Result<Node> {
        if (ftype == FileType::kReg || ftype == FileType::kDir || ftype == FileType::kLnk) {
          return Status::Error(kErrBadType, "mknod of a regular file, directory or symlink");
        }
        if ((ftype == FileType::kChr || ftype == FileType::kBlk) && cred.uid != 0) {
          return Status::Error(EPERM, "only root may create device nodes");
        }
        return fs_->MkNod(dir, where.name, ftype, attrs.mode.value_or(kDefaultFileMode), major,
                          minor, cred);
      },
      out);
}

rpc::AcceptStat Nfs3Program::RemoveCommon(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out,
                                          bool directory) {
  DirOpArgs3 what;
  if (!DecodeDirOpArgs3(in, &what) || !AtEnd(in)) return kGarbage;
  std::optional<Attr> pre;
  Result<Node> dir = ResolveWritableDir(what.dir, cred, &pre);
  Status st = dir.ok() ? CheckName(what.name, /*creating=*/true) : dir.status();
  if (st.ok()) st = CheckStickyEntry(*fs_, cred, *dir, *pre, what.name, /*must_exist=*/true);
  if (st.ok()) st = directory ? fs_->RmDir(*dir, what.name) : fs_->Remove(*dir, what.name);
  EncodeStatus(out, ToNfsstat3(st));
  EncodeWccData(out, pre, dir.ok() ? AttrOf(*dir) : pre);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Remove(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  return RemoveCommon(cred, in, out, /*directory=*/false);
}

rpc::AcceptStat Nfs3Program::RmDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  return RemoveCommon(cred, in, out, /*directory=*/true);
}

rpc::AcceptStat Nfs3Program::Rename(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  DirOpArgs3 from, to;
  if (!DecodeDirOpArgs3(in, &from) || !DecodeDirOpArgs3(in, &to) || !AtEnd(in)) return kGarbage;
  std::optional<Attr> from_pre, to_pre;
  Result<Node> from_dir = ResolveWritableDir(from.dir, cred, &from_pre);
  Result<Node> to_dir = ResolveWritableDir(to.dir, cred, &to_pre);
  Status st = !from_dir.ok() ? from_dir.status() : to_dir.status();
  if (st.ok()) st = CheckName(from.name, /*creating=*/true);
  if (st.ok()) st = CheckName(to.name, /*creating=*/true);
  if (st.ok())
    st = CheckStickyEntry(*fs_, cred, *from_dir, *from_pre, from.name, /*must_exist=*/true);
  if (st.ok()) st = CheckStickyEntry(*fs_, cred, *to_dir, *to_pre, to.name, /*must_exist=*/false);
  if (st.ok() && from.dir != to.dir) st = CheckMoveToNewParent(*fs_, cred, *from_dir, from.name);
  if (st.ok()) st = fs_->Rename(*from_dir, from.name, *to_dir, to.name);
  EncodeStatus(out, ToNfsstat3(st));
  EncodeWccData(out, from_pre, from_dir.ok() ? AttrOf(*from_dir) : from_pre);
  EncodeWccData(out, to_pre, to_dir.ok() ? AttrOf(*to_dir) : to_pre);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Link(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  Handle file_fh;
  DirOpArgs3 where;
  if (!DecodeFh3(in, &file_fh) || !DecodeDirOpArgs3(in, &where) || !AtEnd(in)) return kGarbage;
  Result<Node> file = fs_->Decode(file_fh);
  std::optional<Attr> pre;
  Result<Node> dir = ResolveWritableDir(where.dir, cred, &pre);
  Status st = !file.ok() ? file.status() : dir.status();
  if (st.ok()) st = CheckName(where.name, /*creating=*/true);
  if (st.ok()) st = fs_->Link(*file, *dir, where.name);
  EncodeStatus(out, ToNfsstat3(st));
  EncodePostOpAttr(out, file.ok() ? AttrOf(*file) : std::nullopt);
  EncodeWccData(out, pre, dir.ok() ? AttrOf(*dir) : pre);
  return kSuccess;
}

}  // namespace ovl::nfs
