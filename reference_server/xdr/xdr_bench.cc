// Cost of the XDR layer on the two shapes that dominate NFS traffic: the attribute struct sent
// with nearly every reply, and a bulk READ/WRITE payload.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "xdr/xdr.h"

namespace ovl::xdr {
namespace {

// Field layout of NFSv3 fattr3 (RFC 1813 sec 2.5), 84 bytes on the wire.
struct Fattr3 {
  uint32_t type = 1, mode = 0644, nlink = 1, uid = 1000, gid = 1000;
  uint64_t size = 123456, used = 126976;
  uint32_t rdev_major = 0, rdev_minor = 0;
  uint64_t fsid = 0x1234, fileid = 987654321;
  uint32_t atime_s = 1700000000, atime_ns = 1, mtime_s = 1700000001, mtime_ns = 2;
  uint32_t ctime_s = 1700000002, ctime_ns = 3;
};

void EncodeFattr3(const Fattr3& a, Encoder& e) {
  e.U32(a.type);
  e.U32(a.mode);
  e.U32(a.nlink);
  e.U32(a.uid);
  e.U32(a.gid);
  e.U64(a.size);
  e.U64(a.used);
  e.U32(a.rdev_major);
  e.U32(a.rdev_minor);
  e.U64(a.fsid);
  e.U64(a.fileid);
  e.U32(a.atime_s);
  e.U32(a.atime_ns);
  e.U32(a.mtime_s);
  e.U32(a.mtime_ns);
  e.U32(a.ctime_s);
  e.U32(a.ctime_ns);
}

bool DecodeFattr3(Decoder& d, Fattr3* a) {
  d.U32(&a->type);
  d.U32(&a->mode);
  d.U32(&a->nlink);
  d.U32(&a->uid);
  d.U32(&a->gid);
  d.U64(&a->size);
  d.U64(&a->used);
  d.U32(&a->rdev_major);
  d.U32(&a->rdev_minor);
  d.U64(&a->fsid);
  d.U64(&a->fileid);
  d.U32(&a->atime_s);
  d.U32(&a->atime_ns);
  d.U32(&a->mtime_s);
  d.U32(&a->mtime_ns);
  d.U32(&a->ctime_s);
  return d.U32(&a->ctime_ns);
}

void BM_EncodeFattr3(benchmark::State& state) {
  Fattr3 a;
  for (auto _ : state) {
    Encoder e;
    EncodeFattr3(a, e);
    benchmark::DoNotOptimize(e.bytes().data());
  }
  state.SetBytesProcessed(state.iterations() * 84);
}
BENCHMARK(BM_EncodeFattr3);

void BM_DecodeFattr3(benchmark::State& state) {
  Encoder e;
  EncodeFattr3(Fattr3{}, e);
  const std::string wire = e.Take();
  for (auto _ : state) {
    Decoder d(wire);
    Fattr3 a;
    bool ok = DecodeFattr3(d, &a);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(a);
  }
  state.SetBytesProcessed(state.iterations() * 84);
}
BENCHMARK(BM_DecodeFattr3);

constexpr size_t kBulk = 64 * 1024;

void BM_EncodeOpaque64K(benchmark::State& state) {
  const std::string payload(kBulk, 'p');
  for (auto _ : state) {
    Encoder e;
    e.Opaque(payload);
    benchmark::DoNotOptimize(e.bytes().data());
  }
  state.SetBytesProcessed(state.iterations() * kBulk);
}
BENCHMARK(BM_EncodeOpaque64K);

void BM_DecodeOpaque64K(benchmark::State& state) {
  Encoder e;
  e.Opaque(std::string(kBulk, 'p'));
  const std::string wire = e.Take();
  std::string out;
  for (auto _ : state) {
    Decoder d(wire);
    bool ok = d.Opaque(&out, kBulk);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kBulk);
}
BENCHMARK(BM_DecodeOpaque64K);

}  // namespace
}  // namespace ovl::xdr

BENCHMARK_MAIN();
