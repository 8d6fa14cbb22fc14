// A UnionFs on fresh temporary layers for the program fuzz targets (nfs3_args, mount_args), and
// the handle placeholders that let a fuzz input name real objects of it.
//
// Handles embed inode numbers and a per-export secret, so an input cannot carry a valid handle
// verbatim. Instead an input names one with an XDR opaque of 8 bytes holding a placeholder
// ("@ROOTFH@", "@FILEFH@", "@DIR_FH@"); Substitute() swaps each for the real handle as an XDR
// opaque. Everything else, including malformed handles, reaches the decoders unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "nfs/export_policy.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::fuzz {

inline constexpr std::string_view kRootPlaceholder = "@ROOTFH@";
inline constexpr std::string_view kFilePlaceholder = "@FILEFH@";
inline constexpr std::string_view kDirPlaceholder = "@DIR_FH@";

class UnionFixture {
 public:
  // Makes lower/ (a file "hello" and a directory "sub"), upper/ and work/ under a fresh
  // directory in /tmp and opens the union; aborts on failure (a fuzz target cannot go on).
  UnionFixture();
  ~UnionFixture();
  UnionFixture(const UnionFixture&) = delete;
  UnionFixture& operator=(const UnionFixture&) = delete;

  // Counts a call and, every kCallsPerUnion calls, starts over on fresh layers: fuzz inputs
  // create names, and a root directory that grows without bound makes every READDIR slower.
  void BeforeCall();

  // `args` with each placeholder opaque replaced by the real handle's opaque.
  std::string Substitute(std::string_view args) const;

  UnionFs* fs() { return fs_.get(); }
  const nfs::ExportPolicy* policy() const { return &policy_; }

 private:
  static constexpr uint64_t kCallsPerUnion = 2000;
  void Open();
  void Close();

  nfs::ExportPolicy policy_{nfs::ExportOptions{}};
  std::string dir_;
  std::unique_ptr<UnionFs> fs_;
  std::string root_, file_, sub_;  // the handles the placeholders stand for
  uint64_t calls_ = 0;
};

// Runs one fuzz input against `program` (whose procedures are 0..proc_count-1), made on
// `fixture`'s union after BeforeCall. The input is a header byte and the procedure's argument
// bytes (placeholders substituted). Header: low 5 bits the procedure (modulo proc_count), bit 6
// AUTH_NONE instead of AUTH_SYS, bit 7 the caller uid/gid 1000 instead of root. Aborts when
// the program breaks the rpc::Program contract (an accept status outside the RFC's range).
void FuzzCall(const UnionFixture& fixture, rpc::Program& program, uint32_t proc_count,
              const uint8_t* data, size_t size);

}  // namespace ovl::fuzz
