// libFuzzer target: the argument decoders of every MOUNT v3 procedure (reference_server/nfs
// mount_program), through Mount3Program::Call on a real union. Input format:
// fuzz/union_fixture.h (FuzzCall).
#include <cstddef>
#include <cstdint>

#include "nfs/mount_program.h"
#include "union_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A static object, not a leaked pointer: its destructor removes the layers at exit.
  static ovl::fuzz::UnionFixture fixture;
  fixture.BeforeCall();
  // A program per call: BeforeCall replaces the union now and then.
  ovl::nfs::Mount3Program program(fixture.fs(), fixture.policy());
  constexpr uint32_t kMountProcCount = static_cast<uint32_t>(ovl::nfs::MountProc::kExport) + 1;
  ovl::fuzz::FuzzCall(fixture, program, kMountProcCount, data, size);
  return 0;
}
