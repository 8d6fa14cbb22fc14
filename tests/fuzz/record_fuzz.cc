// libFuzzer target: the RPC record reader of reference_server/rpc (RecordAssembler, record.h)
// fed a byte stream in pieces, and the call-header parser (ParseCall, message.h) on each record
// it completes, as the server's connection loop does. The first input byte seeds the piece
// sizes (1..64 bytes), so split headers and fragments are covered; the rest is the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "rpc/message.h"
#include "rpc/record.h"

namespace {

// A record bound small enough that the fuzzer reaches "record too large" with short inputs.
constexpr size_t kFuzzMaxRecord = 4096;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "record_fuzz: %s\n", what);
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t piece_seed = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  ovl::rpc::RecordAssembler assembler(kFuzzMaxRecord);
  while (!stream.empty()) {
    piece_seed = piece_seed * 1103515245u + 12345u;
    const size_t piece = std::min<size_t>(stream.size(), 1 + (piece_seed >> 16) % 64);
    ovl::Result<size_t> used = assembler.Feed(stream.substr(0, piece));
    if (!used.ok()) return 0;  // framing lost: the server closes the connection
    Check(*used > 0 && *used <= piece, "Feed consumed nothing or more than it was given");
    stream.remove_prefix(*used);
    if (!assembler.has_record()) continue;
    const std::string record = assembler.TakeRecord();
    Check(record.size() <= kFuzzMaxRecord, "a record larger than the maximum");
    const ovl::rpc::ParsedCall call = ovl::rpc::ParseCall(record);
    if (call.verdict == ovl::rpc::CallVerdict::kDispatch) {
      Check(call.args.data() >= record.data() &&
                call.args.data() + call.args.size() <= record.data() + record.size(),
            "call arguments outside the record");
    }
  }
  return 0;
}
