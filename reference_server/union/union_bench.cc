// Microbenchmarks of the handle path: encode/decode of the handle format, and UnionFs::Decode
// warm (handle table hit) vs cold (after DropCaches: index + open_by_handle_at), over a union
// with many copied-up files. Layers live on tmpfs (/dev/shm) so that setting up 100,000
// copy-ups measures the server, not the disk's fsync latency.
//
//   union_bench --benchmark_filter=Decode --files=100000
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "union/handle_codec.h"
#include "union/union_fs.h"

namespace ovl {
namespace {

size_t g_files = 10000;

HandleFields SampleFields() {
  HandleFields f;
  f.id.layer = 0;
  f.id.fh.type = 1;
  f.id.fh.bytes = std::string("\x12\x34\x56\x78\x9a\xbc\xde\xf0", 8);
  return f;
}

void BM_HandleEncode(benchmark::State& state) {
  HandleCodec codec({1, 2, 3}, {4, 5, 6});
  HandleFields f = SampleFields();
  for (auto _ : state) benchmark::DoNotOptimize(codec.Encode(f));
}
BENCHMARK(BM_HandleEncode);

void BM_HandleDecode(benchmark::State& state) {
  HandleCodec codec({1, 2, 3}, {4, 5, 6});
  std::string h = *codec.Encode(SampleFields());
  for (auto _ : state) benchmark::DoNotOptimize(codec.Decode(h));
}
BENCHMARK(BM_HandleDecode);

// One union with g_files lower files, every one copied up (written once through its handle).
class CopiedUpUnion {
 public:
  static CopiedUpUnion& Get() {
    static CopiedUpUnion u;
    return u;
  }
  UnionFs& fs() { return *fs_; }
  const std::vector<Handle>& handles() const { return handles_; }

 private:
  CopiedUpUnion() {
    root_ = "/dev/shm/ovl_union_bench." + std::to_string(getpid());
    for (auto d : {"/lower", "/upper", "/work"}) std::filesystem::create_directories(root_ + d);
    for (size_t i = 0; i < g_files; ++i) {
      std::string dir = root_ + "/lower/d" + std::to_string(i % 100);
      if (i < 100) std::filesystem::create_directories(dir);
      std::ofstream(dir + "/f" + std::to_string(i)) << "lower " << i;
    }
    UnionOptions o;
    o.lower_dirs = {root_ + "/lower"};
    o.upper_dir = root_ + "/upper";
    o.work_dir = root_ + "/work";
    fs_ = std::move(UnionFs::Open(o).value());
    Node root = *fs_->Root();
    for (size_t d = 0; d < 100 && d < g_files; ++d) {
      Node dir = *fs_->Lookup(root, "d" + std::to_string(d));
      for (size_t i = d; i < g_files; i += 100) {
        Node f = *fs_->Lookup(dir, "f" + std::to_string(i));
        (void)fs_->Write(f, 0, "upper", StableHow::kUnstable);
        handles_.push_back(f.handle);
      }
    }
  }
  ~CopiedUpUnion() {
    fs_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::string root_;
  std::unique_ptr<UnionFs> fs_;
  std::vector<Handle> handles_;
};

// Decodes random handles; `cold` drops every cache before each decode. Reports p50/p99 latency.
void RunDecode(benchmark::State& state, bool cold) {
  auto& u = CopiedUpUnion::Get();
  std::mt19937_64 rng(42);
  std::vector<double> ns;
  ns.reserve(1 << 20);
  // Warm means every handle is in the handle table; setup's copy-ups evicted them.
  if (!cold) {
    for (const auto& h : u.handles()) (void)u.fs().Decode(h);
  }
  for (auto _ : state) {
    const Handle& h = u.handles()[rng() % u.handles().size()];
    if (cold) {
      state.PauseTiming();
      u.fs().DropCaches();
      state.ResumeTiming();
    }
    auto start = std::chrono::steady_clock::now();
    auto n = u.fs().Decode(h);
    auto end = std::chrono::steady_clock::now();
    if (!n.ok()) state.SkipWithError(n.status().ToString().c_str());
    if (ns.size() < ns.capacity()) ns.push_back(std::chrono::duration<double, std::nano>(end - start).count());
  }
  std::sort(ns.begin(), ns.end());
  if (!ns.empty()) {
    state.counters["p50_ns"] = ns[ns.size() / 2];
    state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  }
  state.counters["files"] = static_cast<double>(u.handles().size());
}

void BM_DecodeWarm(benchmark::State& state) { RunDecode(state, false); }
void BM_DecodeCold(benchmark::State& state) { RunDecode(state, true); }
BENCHMARK(BM_DecodeWarm);
BENCHMARK(BM_DecodeCold);

}  // namespace
}  // namespace ovl

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--files=", 0) == 0) {
      ovl::g_files = std::stoul(a.substr(8));
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
