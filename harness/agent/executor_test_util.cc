#include "agent/executor_test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "support/scratch_dir.h"

namespace ovl::agent::testutil {
namespace {

using ops::Kind;
using Outcome = ops::Result::Outcome;

// Runs `op` and expects it to succeed.
ops::Result Ok(Executor& e, VarTable& vars, const ops::Op& op) {
  ops::Result r = e.Execute(op, vars);
  EXPECT_EQ(r.outcome, Outcome::kOk)
      << ops::KindName(op.kind) << " seq " << op.seq << ": " << r.error;
  return r;
}

// Runs `op` and expects the error `name`.
void Fails(Executor& e, VarTable& vars, const ops::Op& op, const std::string& name) {
  ops::Result r = e.Execute(op, vars);
  EXPECT_EQ(r.outcome, Outcome::kError) << ops::KindName(op.kind) << " seq " << op.seq;
  EXPECT_EQ(r.error, name) << ops::KindName(op.kind) << " seq " << op.seq;
}

}  // namespace

Status MakeTree(const std::string& dir) {
  OVL_RETURN_IF_ERROR(testsupport::WriteFile(dir + "/a", kFileA));
  if (mkdir((dir + "/d").c_str(), 0755) != 0) return Status::FromErrno("mkdir d");
  return testsupport::WriteFile(dir + "/d/x", "xx");
}

void TreeDirTest::SetUp() {
  Result<testsupport::ScratchDir> dir = testsupport::ScratchDir::Create(prefix_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  dir_ = std::move(dir).value();
  ASSERT_TRUE(MakeTree(dir_.path()).ok());
}

nlohmann::json AgentRequest(Agent& agent, const std::string& line) {
  bool quit = false;
  return nlohmann::json::parse(agent.Handle(line, &quit));
}

ops::Result AgentOp(Agent& agent, const ops::Op& op) {
  nlohmann::json response = AgentRequest(agent, nlohmann::json{{"cmd", "op"}, {"op", op}}.dump());
  EXPECT_EQ(response.value("seq", uint64_t{0}), op.seq) << response.dump();
  Result<ops::Result> r = ops::ResultFromJson(response.at("result"));
  EXPECT_TRUE(r.ok()) << response.dump();
  return r.ok() ? *r : ops::Result{};
}

ops::Target Path(std::string path) {
  ops::Target t;
  t.path = std::move(path);
  return t;
}

ops::Target Var(std::string var) {
  ops::Target t;
  t.var = std::move(var);
  return t;
}

ops::Target Raw(std::string bytes) {
  ops::Target t;
  t.raw = std::move(bytes);
  return t;
}

ops::Op MakeOp(ops::Kind kind, ops::Target target, std::string name) {
  static uint64_t seq = 0;
  ops::Op op;
  op.seq = ++seq;
  op.kind = kind;
  op.target = std::move(target);
  op.name = std::move(name);
  return op;
}

void ExpectEveryKind(Executor& e) {
  VarTable vars;

  // Lookup, getattr, read of a file that exists from the start.
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ops::Result a = Ok(e, vars, lookup);
  ASSERT_FALSE(a.handle.empty());
  ASSERT_EQ(vars["A"], a.handle);
  ASSERT_TRUE(a.attrs);
  EXPECT_EQ(a.attrs->type, "reg");
  EXPECT_EQ(a.attrs->size, 5u);
  ops::Result got = Ok(e, vars, MakeOp(Kind::kGetAttr, Var("A")));
  ASSERT_TRUE(got.attrs);
  EXPECT_EQ(got.attrs->fileid, a.attrs->fileid);
  ops::Op read = MakeOp(Kind::kRead, Var("A"));
  read.count = 100;
  ops::Result data = Ok(e, vars, read);
  EXPECT_EQ(data.data, kFileA);
  EXPECT_TRUE(data.eof);

  // Write through the held handle, commit, read back by path.
  ops::Op write = MakeOp(Kind::kWrite, Var("A"));
  write.offset = 5;
  write.data = " world";
  write.stable = ops::Stable::kFileSync;
  ops::Result wrote = Ok(e, vars, write);
  EXPECT_EQ(wrote.count, 6u);
  EXPECT_EQ(wrote.committed, ops::Stable::kFileSync);
  Ok(e, vars, MakeOp(Kind::kCommit, Var("A")));
  read.target = Path("a");
  EXPECT_EQ(Ok(e, vars, read).data, "hello world");

  ops::Op setattr = MakeOp(Kind::kSetAttr, Var("A"));
  setattr.size = 5;
  setattr.mode = 0600;
  ops::Result set = Ok(e, vars, setattr);
  ASSERT_TRUE(set.attrs);
  EXPECT_EQ(set.attrs->size, 5u);
  EXPECT_EQ(set.attrs->mode, 0600u);

  // Create (guarded twice: EXIST), mkdir, symlink + readlink, link.
  ops::Op create = MakeOp(Kind::kCreate, Path(""), "n");
  create.mode = 0640;
  create.save = "N";
  ops::Result created = Ok(e, vars, create);
  ASSERT_TRUE(created.attrs);
  EXPECT_EQ(created.attrs->mode, 0640u);
  create.save.clear();
  Fails(e, vars, create, "EXIST");
  ops::Op mkdir = MakeOp(Kind::kMkdir, Path(""), "m");
  mkdir.mode = 0750;
  mkdir.save = "M";
  ops::Result made = Ok(e, vars, mkdir);
  ASSERT_TRUE(made.attrs);
  EXPECT_EQ(made.attrs->type, "dir");
  ops::Op symlink = MakeOp(Kind::kSymlink, Var("M"), "s");
  symlink.link_target = "../a";
  symlink.save = "S";
  Ok(e, vars, symlink);
  EXPECT_EQ(Ok(e, vars, MakeOp(Kind::kReadlink, Var("S"))).link_target, "../a");
  ops::Op link = MakeOp(Kind::kLink, Var("A"));
  link.target2 = Var("M");
  link.name2 = "a2";
  ops::Result linked = Ok(e, vars, link);
  ASSERT_TRUE(linked.attrs);
  EXPECT_EQ(linked.attrs->nlink, 2u);

  // Rename into the new dir: the held handle and a fresh LOOKUP agree byte for byte.
  ops::Op rename = MakeOp(Kind::kRename, Path(""), "n");
  rename.target2 = Path("m");
  rename.name2 = "n2";
  Ok(e, vars, rename);
  EXPECT_EQ(Ok(e, vars, MakeOp(Kind::kLookup, Path("m"), "n2")).handle, vars["N"]);

  // Paged listing, one entry per page, each continuing where the last one stopped.
  std::vector<std::string> names;
  ops::Op readdir = MakeOp(Kind::kReaddir, Path("m"));
  readdir.max_entries = 1;
  readdir.save = "P";
  for (int page = 0; page < 10; ++page) {
    ops::Result r = Ok(e, vars, readdir);
    EXPECT_LE(r.entries.size(), 1u);
    for (const ops::DirEntry& entry : r.entries) names.push_back(entry.name);
    if (r.eof) break;
    readdir.resume = "P";
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a2", "n2", "s"}));

  // Remove everything made, then rmdir: the held dir handle goes STALE.
  for (const char* name : {"a2", "n2", "s"}) Ok(e, vars, MakeOp(Kind::kRemove, Var("M"), name));
  Ok(e, vars, MakeOp(Kind::kRmdir, Path(""), "m"));
  Fails(e, vars, MakeOp(Kind::kGetAttr, Var("M")), "STALE");

  // A held handle of a file whose last name is removed is STALE, never another file.
  Fails(e, vars, MakeOp(Kind::kRmdir, Path(""), "d"), "NOTEMPTY");
  ops::Op lookup_x = MakeOp(Kind::kLookup, Path("d"), "x");
  lookup_x.save = "X";
  Ok(e, vars, lookup_x);
  Ok(e, vars, MakeOp(Kind::kRemove, Path("d"), "x"));
  Fails(e, vars, MakeOp(Kind::kGetAttr, Var("X")), "STALE");

  // Errors named the same way on every path.
  Fails(e, vars, MakeOp(Kind::kGetAttr, Path("missing")), "NOENT");
  Fails(e, vars, MakeOp(Kind::kLookup, Path("a"), "x"), "NOTDIR");
  Fails(e, vars, MakeOp(Kind::kGetAttr, Raw("\x01\x02")), "BADHANDLE");
  Fails(e, vars, MakeOp(Kind::kGetAttr, Var("unset")), kErrNoVar);
  ops::Target mutated = Var("A");
  mutated.mutate = "no-such-mutation";
  Fails(e, vars, MakeOp(Kind::kGetAttr, mutated), kErrBadMutation);
  // Nothing failed above may have touched the variables.
  EXPECT_EQ(vars.count("unset"), 0u);
}

}  // namespace ovl::agent::testutil
