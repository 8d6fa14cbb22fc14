// make_seeds OUT_DIR: writes the seed corpora of the binary fuzz targets (record, nfs3_args,
// mount_args, nfs4_compound, handle) as OUT_DIR/<target>/<name>, each a real message of its kind.
// The YAML targets' seeds are the shipped topologies and scenarios (tests/fuzz/CMakeLists.txt). Run
// by `make fuzz-seeds`; the output is committed under tests/fuzz/corpus/.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "handle_fuzz_key.h"
#include "nfs/mount_program.h"
#include "nfs/nfs3_xdr.h"
#include "nfs4/nfs4_xdr.h"
#include "rpc/message.h"
#include "rpc/record.h"
#include "union/handle_codec.h"
#include "union/ovl_fh.h"
#include "union_fixture.h"
#include "xdr/xdr.h"

namespace ovl::fuzz {
namespace {

namespace fs = std::filesystem;

class SeedWriter {
 public:
  SeedWriter(const fs::path& dir, const char* target) : dir_(dir / target) {
    fs::create_directories(dir_);
  }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }

 private:
  fs::path dir_;
};

std::string Bytes(xdr::Encoder& e) {
  return e.Take();
}

// A program seed: the FuzzCall header byte, then the arguments.
std::string Call(uint32_t proc, const std::string& args, bool non_root = false) {
  return std::string(1, static_cast<char>(proc | (non_root ? 0x80 : 0))) + args;
}

void Fh(xdr::Encoder& e, std::string_view placeholder) {
  e.Opaque(placeholder);
}

void DirOp(xdr::Encoder& e, std::string_view dir, const char* name) {
  Fh(e, dir);
  e.String(name);
}

// sattr3 setting mode, size (when `size`) and both times (atime to the server's clock, mtime to
// a client time).
void Sattr(xdr::Encoder& e, bool size) {
  e.Bool(true);
  e.U32(0644);
  e.Bool(false);
  e.Bool(false);
  e.Bool(size);
  if (size) e.U64(5);
  e.U32(1);
  e.U32(2);
  e.U32(1700000000);
  e.U32(0);
}

void NfsSeeds(const fs::path& out) {
  SeedWriter w(out, "nfs3_args");
  using P = nfs::Nfs3Proc;
  auto seed = [&](const char* name, P proc, auto&& encode) {
    xdr::Encoder e;
    encode(e);
    const std::string args = Bytes(e);
    w.Write(name, Call(static_cast<uint32_t>(proc), args));
    w.Write(std::string(name) + "-user", Call(static_cast<uint32_t>(proc), args, true));
  };
  seed("null", P::kNull, [](xdr::Encoder&) {});
  seed("getattr", P::kGetAttr, [](xdr::Encoder& e) { Fh(e, kRootPlaceholder); });
  seed("setattr", P::kSetAttr, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    Sattr(e, true);
    e.Bool(true);  // guard
    e.U32(1700000000);
    e.U32(0);
  });
  seed("lookup", P::kLookup, [](xdr::Encoder& e) { DirOp(e, kRootPlaceholder, "hello"); });
  seed("access", P::kAccess, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    e.U32(0x3f);
  });
  seed("readlink", P::kReadLink, [](xdr::Encoder& e) { Fh(e, kFilePlaceholder); });
  seed("read", P::kRead, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    e.U64(0);
    e.U32(100);
  });
  seed("write", P::kWrite, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    e.U64(6);
    e.U32(5);
    e.U32(2);  // FILE_SYNC
    e.Opaque("WORLD");
  });
  seed("create", P::kCreate, [](xdr::Encoder& e) {
    DirOp(e, kDirPlaceholder, "new");
    e.U32(0);  // UNCHECKED
    Sattr(e, false);
  });
  seed("create-exclusive", P::kCreate, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "excl");
    e.U32(2);
    e.FixedOpaque("verifier", 8);
  });
  seed("mkdir", P::kMkDir, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "d");
    Sattr(e, false);
  });
  seed("symlink", P::kSymlink, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "l");
    Sattr(e, false);
    e.String("hello");
  });
  seed("mknod-fifo", P::kMkNod, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "fifo");
    e.U32(7);  // NF3FIFO
    Sattr(e, false);
  });
  seed("mknod-chr", P::kMkNod, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "null");
    e.U32(3);  // NF3CHR
    Sattr(e, false);
    e.U32(1);
    e.U32(3);
  });
  seed("remove", P::kRemove, [](xdr::Encoder& e) { DirOp(e, kRootPlaceholder, "hello"); });
  seed("rmdir", P::kRmDir, [](xdr::Encoder& e) { DirOp(e, kRootPlaceholder, "sub"); });
  seed("rename", P::kRename, [](xdr::Encoder& e) {
    DirOp(e, kRootPlaceholder, "hello");
    DirOp(e, kDirPlaceholder, "moved");
  });
  seed("link", P::kLink, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    DirOp(e, kDirPlaceholder, "again");
  });
  seed("readdir", P::kReadDir, [](xdr::Encoder& e) {
    Fh(e, kRootPlaceholder);
    e.U64(0);
    e.FixedOpaque("\0\0\0\0\0\0\0\0", 8);
    e.U32(4096);
  });
  seed("readdirplus", P::kReadDirPlus, [](xdr::Encoder& e) {
    Fh(e, kRootPlaceholder);
    e.U64(0);
    e.FixedOpaque("\0\0\0\0\0\0\0\0", 8);
    e.U32(1024);
    e.U32(8192);
  });
  seed("fsstat", P::kFsStat, [](xdr::Encoder& e) { Fh(e, kRootPlaceholder); });
  seed("fsinfo", P::kFsInfo, [](xdr::Encoder& e) { Fh(e, kRootPlaceholder); });
  seed("pathconf", P::kPathConf, [](xdr::Encoder& e) { Fh(e, kDirPlaceholder); });
  seed("commit", P::kCommit, [](xdr::Encoder& e) {
    Fh(e, kFilePlaceholder);
    e.U64(0);
    e.U32(0);
  });
}

void MountSeeds(const fs::path& out) {
  SeedWriter w(out, "mount_args");
  xdr::Encoder path;
  path.String("/export");
  const std::string export_path = Bytes(path);
  using P = nfs::MountProc;
  w.Write("null", Call(static_cast<uint32_t>(P::kNull), ""));
  w.Write("mnt", Call(static_cast<uint32_t>(P::kMnt), export_path));
  w.Write("mnt-user", Call(static_cast<uint32_t>(P::kMnt), export_path, true));
  w.Write("dump", Call(static_cast<uint32_t>(P::kDump), ""));
  w.Write("umnt", Call(static_cast<uint32_t>(P::kUmnt), export_path));
  w.Write("umntall", Call(static_cast<uint32_t>(P::kUmntAll), ""));
  w.Write("export", Call(static_cast<uint32_t>(P::kExport), ""));
}

// An NFSv3 GETATTR call with an AUTH_SYS credential, as a kernel client sends it.
std::string GetAttrCall(uint32_t xid) {
  xdr::Encoder cred;
  cred.U32(1700000000);  // stamp
  cred.String("client");
  cred.U32(1000);
  cred.U32(1000);
  cred.U32(2);  // gids
  cred.U32(1000);
  cred.U32(27);
  rpc::CallHeader h;
  h.xid = xid;
  h.prog = nfs::kNfsProgram;
  h.vers = nfs::kNfsVersion;
  h.proc = static_cast<uint32_t>(nfs::Nfs3Proc::kGetAttr);
  h.cred_flavor = rpc::kAuthSys;
  h.cred_body = Bytes(cred);
  xdr::Encoder call;
  rpc::EncodeCallHeader(h, &call);
  call.Opaque(std::string(36, 'h'));
  return Bytes(call);
}

std::string Fragment(std::string_view body, bool last) {
  xdr::Encoder e;
  e.U32(static_cast<uint32_t>(body.size()) | (last ? rpc::kLastFragment : 0));
  return Bytes(e) + std::string(body);
}

void RecordSeeds(const fs::path& out) {
  SeedWriter w(out, "record");
  const std::string call = GetAttrCall(1);
  w.Write("one-call", "\x01" + Fragment(call, true));
  w.Write("two-fragments",
          "\x02" + Fragment(call.substr(0, 20), false) + Fragment(call.substr(20), true));
  w.Write("two-calls", "\x03" + Fragment(call, true) + Fragment(GetAttrCall(2), true));
  w.Write("empty-record", "\x04" + Fragment("", true));
}

void HandleSeeds(const fs::path& out) {
  SeedWriter w(out, "handle");
  const HandleCodec codec(kFuzzExportUuid, kFuzzHandleKey);
  HandleFields f;
  f.id.layer = 0;
  f.id.fh = RealFh{1, std::string("\x0c\x00\x00\x00\x1f\x2e\x4a\x00", 8)};  // ext4 FILEID_INO32_GEN
  f.is_dir = true;
  w.Write("decode-lower-dir", std::string(1, '\x00') + *codec.Encode(f));
  f.id.layer = kUpperLayer;
  f.is_dir = false;
  f.generation = 7;
  w.Write("decode-upper-volatile", std::string(1, '\x00') + *codec.Encode(f));
  w.Write("encode-dir", std::string("\x01\x01\x00\x01\x00\x00\x00\x05", 8) + f.id.fh.bytes);
  w.Write("encode-volatile", std::string("\x01\x02\xff\x01\x07\x00\x00\x30", 8) + f.id.fh.bytes);
  OvlFb fb;
  fb.fh = f.id.fh;
  fb.uuid = kFuzzExportUuid;
  w.Write("ovl-fb-lower", "\x02" + EncodeOvlFb(fb));
  fb.upper = true;
  w.Write("ovl-fb-upper", "\x02" + EncodeOvlFb(fb));
}

// nfs4_compound seeds: the operations the target puts behind its SEQUENCE (nfs4_compound_fuzz.cc:
// header = their count), as a Linux client sends them.
void Nfs4Seeds(const fs::path& out) {
  SeedWriter w(out, "nfs4_compound");
  using nfs4::Op;
  auto seed = [&](const char* name, uint32_t count, auto&& encode) {
    xdr::Encoder e;
    encode(e);
    w.Write(name, std::string(1, static_cast<char>(count)) + Bytes(e));
  };
  const auto op = [](xdr::Encoder& e, Op o) { e.U32(static_cast<uint32_t>(o)); };
  // GETATTR of type, change, size, fileid, mode (bitmap words 0 and 1).
  const auto getattr = [&](xdr::Encoder& e) {
    op(e, Op::kGetAttr);
    e.U32(2);
    e.U32((1u << 1) | (1u << 3) | (1u << 4) | (1u << 20));
    e.U32(1u << (33 - 32));
  };
  seed("putroot-getfh-getattr", 3, [&](xdr::Encoder& e) {
    op(e, Op::kPutRootFh);
    op(e, Op::kGetFh);
    getattr(e);
  });
  seed("putfh-lookup-getfh", 3, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kRootPlaceholder);
    op(e, Op::kLookup);
    e.String("hello");
    op(e, Op::kGetFh);
  });
  seed("putfh-lookupp", 2, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kDirPlaceholder);
    op(e, Op::kLookupP);
  });
  seed("open-create-write-close", 4, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kRootPlaceholder);
    op(e, Op::kOpen);
    e.U32(0);  // seqid
    e.U32(3);  // access both
    e.U32(0);  // deny none
    e.U64(0);  // clientid
    e.Opaque(std::string("owner"));
    e.U32(1);  // OPEN4_CREATE
    e.U32(0);  // UNCHECKED4
    e.U32(1);
    e.U32(1u << (33 - 32));  // mode
    xdr::Encoder mode;
    mode.U32(0644);
    e.Opaque(mode.bytes());
    e.U32(0);  // CLAIM_NULL
    e.String("new");
    op(e, Op::kGetFh);
    op(e, Op::kWrite);
    for (int i = 0; i < 4; ++i) e.U32(0);  // the anonymous stateid (seqid 0, other 0)
    e.U64(0);
    e.U32(2);  // FILE_SYNC4
    e.Opaque(std::string("data"));
  });
  seed("putfh-read-anonymous", 2, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kFilePlaceholder);
    op(e, Op::kRead);
    for (int i = 0; i < 4; ++i) e.U32(0);
    e.U64(0);
    e.U32(4096);
  });
  seed("readdir-root", 2, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kRootPlaceholder);
    op(e, Op::kReadDir);
    e.U64(0);
    e.U64(0);
    e.U32(4096);
    e.U32(8192);
    e.U32(1);
    e.U32((1u << 1) | (1u << 20));
  });
  seed("rename-remove", 5, [&](xdr::Encoder& e) {
    op(e, Op::kPutFh);
    Fh(e, kRootPlaceholder);
    op(e, Op::kSaveFh);
    op(e, Op::kRename);
    e.String("hello");
    e.String("renamed");
    op(e, Op::kRemove);
    e.String("renamed");
    op(e, Op::kReclaimComplete);
    e.Bool(false);
  });
  seed("secinfo-no-name", 2, [&](xdr::Encoder& e) {
    op(e, Op::kPutRootFh);
    op(e, Op::kSecInfoNoName);
    e.U32(0);
  });
}

}  // namespace
}  // namespace ovl::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  ovl::fuzz::NfsSeeds(out);
  ovl::fuzz::MountSeeds(out);
  ovl::fuzz::Nfs4Seeds(out);
  ovl::fuzz::RecordSeeds(out);
  ovl::fuzz::HandleSeeds(out);
  return 0;
}
