#include "union_fixture.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "xdr/xdr.h"

namespace ovl::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz fixture: %s\n", what.c_str());
  abort();
}

std::string OpaqueOf(std::string_view bytes) {
  xdr::Encoder out;
  out.Opaque(bytes);
  return out.Take();
}

Handle HandleOf(Result<Node> node, const char* what) {
  if (!node.ok()) Die(std::string(what) + ": " + node.status().ToString());
  return node->handle;
}

}  // namespace

UnionFixture::UnionFixture() {
  // Like ovlnfsd: modes sent by clients are applied as given.
  umask(0);
  Open();
}

UnionFixture::~UnionFixture() {
  Close();
}

void UnionFixture::Open() {
  std::string tmpl = "/tmp/ovl_fuzz.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
  dir_ = tmpl;
  const std::string lower = dir_ + "/lower";
  for (const std::string& d : {lower, dir_ + "/upper", dir_ + "/work", lower + "/sub"}) {
    if (mkdir(d.c_str(), 0755) != 0) Die("mkdir " + d);
  }
  std::ofstream(lower + "/hello") << "hello world";
  UnionOptions options;
  options.lower_dirs = {lower};
  options.upper_dir = dir_ + "/upper";
  options.work_dir = dir_ + "/work";
  Result<std::unique_ptr<UnionFs>> fs = UnionFs::Open(options);
  if (!fs.ok()) Die("UnionFs::Open: " + fs.status().ToString());
  fs_ = std::move(fs).value();
  Result<Node> root = fs_->Root();
  root_ = HandleOf(root, "root");
  file_ = HandleOf(fs_->Lookup(*root, "hello"), "lookup hello");
  sub_ = HandleOf(fs_->Lookup(*root, "sub"), "lookup sub");
}

void UnionFixture::Close() {
  fs_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void UnionFixture::BeforeCall() {
  if (++calls_ % kCallsPerUnion != 0) return;
  Close();
  Open();
}

std::string UnionFixture::Substitute(std::string_view args) const {
  const std::pair<std::string, std::string> swaps[] = {
      {OpaqueOf(kRootPlaceholder), OpaqueOf(root_)},
      {OpaqueOf(kFilePlaceholder), OpaqueOf(file_)},
      {OpaqueOf(kDirPlaceholder), OpaqueOf(sub_)},
  };
  std::string out(args);
  for (const auto& [from, to] : swaps) {
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  }
  return out;
}

void FuzzCall(const UnionFixture& fixture, rpc::Program& program, uint32_t proc_count,
              const uint8_t* data, size_t size) {
  if (size == 0) return;
  rpc::CallContext ctx;
  ctx.prog = program.number();
  ctx.vers = program.max_version();
  ctx.proc = (data[0] & 0x1f) % proc_count;
  ctx.auth_flavor = (data[0] & 0x40) != 0 ? rpc::kAuthNone : rpc::kAuthSys;
  ctx.uid = ctx.gid = (data[0] & 0x80) != 0 ? 1000 : 0;
  ctx.peer_ipv4 = 0x7f000001;
  ctx.peer_port = 700;
  const std::string args =
      fixture.Substitute(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  xdr::Decoder in(args);
  xdr::Encoder out;
  const rpc::AcceptStat stat = program.Call(ctx, in, out);
  if (static_cast<uint32_t>(stat) > static_cast<uint32_t>(rpc::AcceptStat::kSystemErr)) {
    Die("accept status out of range");
  }
}

}  // namespace ovl::fuzz
