#include "model/model_test_util.h"

#include <gtest/gtest.h>

#include "ops/fixture.h"
#include "ops/fixture_gen.h"

namespace ovl::model::testing {

History::History(nlohmann::json fixture, bool disjoint_clients) {
  ops::Event e;
  e.type = ops::Event::Type::kCase;
  e.case_id = "c";
  e.info = {{"scenario", "test"}, {"variant", "reference"}, {"server", "s"},
            {"fault", "crash"},   {"seed", kSeed},          {"fixture", std::move(fixture)}};
  if (disjoint_clients) e.info["disjoint_clients"] = true;
  events_.push_back(std::move(e));
}

uint64_t History::Invoke(ops::Op op) {
  if (op.seq == 0) op.seq = ++seq_;
  if (op.client.empty()) op.client = "A";
  ops::Event e;
  e.type = ops::Event::Type::kInvoke;
  e.case_id = "c";
  e.t = t_ += 1;
  e.op = op;
  events_.push_back(std::move(e));
  return op.seq;
}

History& History::Complete(uint64_t seq, const ops::Result& result) {
  ops::Event e;
  e.type = ops::Event::Type::kComplete;
  e.case_id = "c";
  e.t = t_ += 1;
  e.seq = seq;
  // Through JSON and back, as the model sees results in a real history (data as a digest).
  e.result = ops::ResultFromJson(ops::ResultToJson(result, /*with_data=*/false)).value();
  events_.push_back(std::move(e));
  return *this;
}

History& History::Do(ops::Op op, const ops::Result& result) {
  return Complete(Invoke(std::move(op)), result);
}

History& History::Fault(const std::string& kind, bool ok, double lasting) {
  ops::Event e;
  e.type = ops::Event::Type::kFault;
  e.case_id = "c";
  e.t = t_ += 1;
  e.info = {{"kind", kind}, {"target", "s"}, {"ok", ok}};
  if (lasting > 0) e.info["t_end"] = e.t + lasting;
  events_.push_back(std::move(e));
  return *this;
}

History& History::Offline(const ops::OfflineEdit& edit) {
  Fault("offline");
  events_.back().info["edit"] = ops::OfflineEditToJson(edit);
  return *this;
}

History& History::Check(const std::string& what, bool ok, const std::string& detail) {
  ops::Event e;
  e.type = ops::Event::Type::kCheck;
  e.case_id = "c";
  e.t = t_ += 1;
  e.info = {{"what", what}, {"ok", ok}, {"detail", detail}};
  events_.push_back(std::move(e));
  return *this;
}

History& History::Kernel(const std::vector<std::string>& lines, const std::string& error) {
  ops::Event e;
  e.type = ops::Event::Type::kKernel;
  e.case_id = "c";
  e.t = t_ += 1;
  e.info = {{"node", "s"}, {"lines", lines}, {"dropped", 0}};
  if (!error.empty()) e.info["error"] = error;
  events_.push_back(std::move(e));
  return *this;
}

std::vector<ops::Event> History::End(const std::string& status) const {
  std::vector<ops::Event> out = events_;
  ops::Event e;
  e.type = ops::Event::Type::kEnd;
  e.case_id = "c";
  e.t = t_ + 1;
  e.info = {{"status", status}};
  if (status == "unresolved") e.info["reason"] = "the server did not start";
  out.push_back(std::move(e));
  return out;
}

CaseVerdict JudgeOne(const std::vector<ops::Event>& events, const JudgeOptions& options) {
  std::vector<CaseVerdict> all = Judge(events, options);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? CaseVerdict() : all.front();
}

bool Has(const CaseVerdict& v, const std::string& rule, bool must) {
  for (const Finding& f : v.findings) {
    if (f.rule == rule && f.must == must) return true;
  }
  return false;
}

std::string Dump(const CaseVerdict& v) {
  std::string out = std::string(VerdictName(v.verdict)) + " " + v.reason + "\n";
  for (const Finding& f : v.findings) out += "  " + FormatFinding(f) + "\n";
  return out;
}

std::string FileData(const std::string& path, uint64_t size) {
  return ops::FixtureFileData(kSeed, path, size);
}

ops::Target P(const std::string& path) {
  ops::Target t;
  t.path = path;
  return t;
}
ops::Target V(const std::string& var) {
  ops::Target t;
  t.var = var;
  return t;
}

namespace {

ops::Op Make(ops::Kind kind) {
  ops::Op op;
  op.kind = kind;
  return op;
}

// "d/e/f" -> target "d/e", name "f".
ops::Op Entry(ops::Kind kind, const std::string& path) {
  ops::Op op = Make(kind);
  const size_t slash = path.rfind('/');
  op.target = P(slash == std::string::npos ? "" : path.substr(0, slash));
  op.name = slash == std::string::npos ? path : path.substr(slash + 1);
  return op;
}

}  // namespace

ops::Op Lookup(const std::string& path, const std::string& save) {
  ops::Op op = Entry(ops::Kind::kLookup, path);
  op.save = save;
  return op;
}

ops::Op LookupIn(const ops::Target& dir, const std::string& name, const std::string& save) {
  ops::Op op = Make(ops::Kind::kLookup);
  op.target = dir;
  op.name = name;
  op.save = save;
  return op;
}

ops::Op GetAttr(const ops::Target& t) {
  ops::Op op = Make(ops::Kind::kGetAttr);
  op.target = t;
  return op;
}

ops::Op Read(const ops::Target& t, uint64_t offset, uint32_t count) {
  ops::Op op = Make(ops::Kind::kRead);
  op.target = t;
  op.offset = offset;
  op.count = count;
  return op;
}

ops::Op Write(const ops::Target& t, uint64_t offset, const std::string& data, ops::Stable stable) {
  ops::Op op = Make(ops::Kind::kWrite);
  op.target = t;
  op.offset = offset;
  op.data = data;
  op.stable = stable;
  return op;
}

ops::Op Commit(const ops::Target& t) {
  ops::Op op = Make(ops::Kind::kCommit);
  op.target = t;
  return op;
}

ops::Op SetSize(const ops::Target& t, uint64_t size) {
  ops::Op op = Make(ops::Kind::kSetAttr);
  op.target = t;
  op.size = size;
  return op;
}

ops::Op Create(const std::string& path, const std::string& save, ops::CreateHow how,
               uint8_t verifier) {
  ops::Op op = Entry(ops::Kind::kCreate, path);
  op.save = save;
  op.how = how;
  op.verifier.fill(verifier);
  return op;
}

ops::Op Mkdir(const std::string& path, const std::string& save) {
  ops::Op op = Entry(ops::Kind::kMkdir, path);
  op.save = save;
  return op;
}

ops::Op Symlink(const std::string& path, const std::string& to) {
  ops::Op op = Entry(ops::Kind::kSymlink, path);
  op.link_target = to;
  return op;
}

ops::Op Readlink(const ops::Target& t) {
  ops::Op op = Make(ops::Kind::kReadlink);
  op.target = t;
  return op;
}

ops::Op Remove(const std::string& path) {
  return Entry(ops::Kind::kRemove, path);
}
ops::Op Rmdir(const std::string& path) {
  return Entry(ops::Kind::kRmdir, path);
}

ops::Op Rename(const std::string& from, const std::string& to) {
  ops::Op op = Entry(ops::Kind::kRename, from);
  const ops::Op dest = Entry(ops::Kind::kRename, to);
  op.target2 = dest.target;
  op.name2 = dest.name;
  return op;
}

ops::Op Link(const ops::Target& file, const std::string& to) {
  ops::Op op = Make(ops::Kind::kLink);
  op.target = file;
  const ops::Op dest = Entry(ops::Kind::kLink, to);
  op.target2 = dest.target;
  op.name2 = dest.name;
  return op;
}

ops::Op Readdir(const ops::Target& dir, uint32_t max, const std::string& save,
                const std::string& resume) {
  ops::Op op = Make(ops::Kind::kReaddir);
  op.target = dir;
  op.max_entries = max;
  op.save = save;
  op.resume = resume;
  return op;
}

ops::Op As(ops::Op op, const std::string& client) {
  op.client = client;
  return op;
}

ops::Op Open(const std::string& path, const std::string& fd) {
  ops::Op op = Make(ops::Kind::kOpen);
  op.target = P(path);
  op.fd = fd;
  return op;
}

ops::Op Close(const std::string& fd) {
  ops::Op op = Make(ops::Kind::kClose);
  op.fd = fd;
  return op;
}

ops::Target F(const std::string& fd) {
  ops::Target t;
  t.fd = fd;
  return t;
}

ops::Result Ok() {
  return ops::Result();
}

ops::Result Err(const std::string& error) {
  ops::Result r;
  r.outcome = ops::Result::Outcome::kError;
  r.error = error;
  return r;
}

ops::Result Unknown() {
  ops::Result r;
  r.outcome = ops::Result::Outcome::kUnknown;
  r.error = "connection reset";
  return r;
}

ops::Result WithHandle(const std::string& handle) {
  ops::Result r;
  r.handle = handle;
  return r;
}

ops::Result WithAttrs(const std::string& type, uint64_t size, uint64_t fileid, uint32_t nlink) {
  ops::Result r;
  r.attrs = ops::Attrs{type, size, fileid, nlink, 0644};
  return r;
}

ops::Result WithData(const std::string& data, bool eof) {
  ops::Result r;
  r.data = data;
  r.eof = eof;
  return r;
}

ops::Result Written(uint32_t count, ops::Stable committed, uint64_t verifier) {
  ops::Result r;
  r.count = count;
  r.committed = committed;
  r.verifier = verifier;
  return r;
}

ops::Result Page(const std::vector<std::string>& names, bool eof) {
  ops::Result r;
  uint64_t cookie = 0;
  for (const std::string& n : names) r.entries.push_back({n, ++cookie});
  r.eof = eof;
  return r;
}

}  // namespace ovl::model::testing
