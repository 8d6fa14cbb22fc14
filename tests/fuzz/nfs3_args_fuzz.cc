// libFuzzer target: the argument decoders of every NFSv3 procedure (reference_server/nfs), run
// through Nfs3Program::Call on a real union, so a decodable call also runs its procedure. Input
// format: fuzz/union_fixture.h (FuzzCall).
#include <cstddef>
#include <cstdint>

#include "nfs/nfs3_program.h"
#include "union_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A static object, not a leaked pointer: its destructor removes the layers at exit.
  static ovl::fuzz::UnionFixture fixture;
  fixture.BeforeCall();
  // A program per call: BeforeCall replaces the union now and then.
  ovl::nfs::Nfs3Program program(fixture.fs(), fixture.policy(), {1, 2, 3, 4, 5, 6, 7, 8});
  ovl::fuzz::FuzzCall(fixture, program, ovl::nfs::kNfs3ProcCount, data, size);
  return 0;
}
