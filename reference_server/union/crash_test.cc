// Crash safety (docs/design.md, "Crash safety and recovery"): every filesystem call of an
// operation in turn is the last one (FaultInjectionEnv: that call and every later one fail), in
// two ways: the process dies (kCrash: what reached the filesystem stays), or the power goes
// (kPowerLoss: only what was made durable stays, see fs/power_loss_env.h). The union is reopened
// on the same directories (recovery runs), and the result must be wholly the state before the
// operation or wholly the state after it, with held handles agreeing. Under power loss an
// operation that completed must be wholly durable.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <functional>

#include "fs/fault_injection_env.h"
#include "union/union_test_util.h"

namespace ovl {
namespace {

using Tree = std::map<std::string, std::string>;

// The union fixture used outside a TEST_F body: one per crash point.
class CrashTest : public UnionTest {
 public:
  void TestBody() override {}
  using UnionTest::fs_;
  using UnionTest::Lower;
  using UnionTest::LowerDir;
  using UnionTest::LowerLink;
  using UnionTest::lowers_;
  using UnionTest::MustWalk;
  using UnionTest::Open;
  using UnionTest::Options;
  using UnionTest::Root;
  using UnionTest::tmp_;
  using UnionTest::Tree;
  using UnionTest::Walk;
  using UnionTest::work_;
  using UnionTest::WriteAll;
};

struct CrashCase {
  std::function<void(CrashTest&)> populate;                  // lower layers
  std::function<void(CrashTest&)> before;                    // union steps before the crash
  std::function<std::string(CrashTest&)> held;               // the handle the client holds
  std::function<Status(CrashTest&, const std::string&)> op;  // the operation crashed into
  Tree old_tree, new_tree;
  bool stale_after = false;  // the held handle is STALE in the new state
  std::map<std::string, uint32_t> old_nlink, new_nlink;  // path -> expected union nlink
};

// The union's tree (UnionTest::Tree) with the permission bits of each object that has other
// than the ones every test creates with (0755 directories, 0777 symlinks, 0644 the rest), so a
// mode that was set but not made durable shows as a torn state.
Tree TreeWithModes(CrashTest& t) {
  Tree tree = t.Tree(t.Root());
  for (auto& [path, content] : tree) {
    auto node = t.Walk(path);
    EXPECT_TRUE(node.ok()) << path;
    if (!node.ok()) continue;
    auto attr = t.fs_->GetAttr(*node);
    EXPECT_TRUE(attr.ok()) << path;
    if (!attr.ok()) continue;
    const uint32_t usual = attr->type == FileType::kDir   ? 0755
                           : attr->type == FileType::kLnk ? 0777
                                                          : 0644;
    if (attr->mode != usual) {
      char mode[16];
      snprintf(mode, sizeof mode, " mode=%04o", attr->mode);
      content += mode;
    }
  }
  return tree;
}

// From now on `env` keeps only what is made durable, for a power cut.
void StartPowerLossTracking(CrashTest& t, FaultInjectionEnv& env) {
  // Beside the layers, on their filesystem, outside the union.
  const std::string scratch = t.tmp_.path() + "/power-loss-scratch";
  ASSERT_EQ(mkdir(scratch.c_str(), 0700), 0);
  Fd fd(open(scratch.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(env.StartPowerLossTracking(fd.get()).ok());
}

// Runs `c` with a crash of kind `mode` (kCrash or kPowerLoss) at mutating call 1, 2, ... until
// the operation completes untouched.
void RunCrashCase(const std::string& what, const CrashCase& c, FaultInjectionEnv::Mode mode) {
  const bool power = mode == FaultInjectionEnv::Mode::kPowerLoss;
  int crash_points = 0;
  for (uint64_t n = 1; n < 500; ++n) {
    SCOPED_TRACE(what + ": " + (power ? "power cut" : "crash") + " at mutating call " +
                 std::to_string(n));
    CrashTest t;
    c.populate(t);
    FaultInjectionEnv env(DefaultFsEnv());
    UnionOptions o = t.Options();
    o.env = &env;
    t.Open(o);
    if (c.before) c.before(t);
    std::string held = c.held(t);
    if (power) {
      ASSERT_NO_FATAL_FAILURE(StartPowerLossTracking(t, env));
    }
    env.FailAt(n, EIO, mode);
    Status st = c.op(t, held);
    const bool crashed = env.crashed();
    // A completed operation was acknowledged: a power cut right after must not undo any of it.
    if (power && !crashed) {
      Status cut = env.PowerCut();
      EXPECT_TRUE(cut.ok()) << cut.ToString();
    }
    t.fs_.reset();
    const std::vector<std::string> log = env.log();
    env.Disarm();
    t.Open();  // restart on the real filesystem: recovery runs
    Tree now = TreeWithModes(t);
    const bool is_old = now == c.old_tree, is_new = now == c.new_tree;
    auto show = [&] {
      std::string s = "\nstate: ";
      for (auto& [k, v] : now) s += k + "=" + v + " ";
      s += "\nlog:\n";
      for (auto& l : log) s += "  " + l + "\n";
      return s;
    };
    if (!crashed) {
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(is_new) << "completed operation did not reach the new state" << show();
    } else {
      ++crash_points;
      EXPECT_TRUE(is_old || is_new) << "torn state after crash" << show();
      for (const std::string& l : log)
        EXPECT_EQ(l.find("PowerCut() [failed"), std::string::npos) << l;
    }
    auto decoded = t.fs_->Decode(held);
    if (is_new && c.stale_after) {
      EXPECT_EQ(decoded.status().code(), ESTALE) << "held handle survived its object";
    } else {
      EXPECT_TRUE(decoded.ok()) << "held handle lost: " << decoded.status().ToString();
    }
    for (const auto& [path, nlink] : is_new ? c.new_nlink : c.old_nlink) {
      auto node = t.Walk(path);
      ASSERT_TRUE(node.ok()) << path;
      EXPECT_EQ(t.fs_->GetAttr(*node)->nlink, nlink) << path << " link count";
    }
    // Nothing half-made is left in the scratch dir.
    DIR* d = opendir((t.work_ + "/work").c_str());
    int leftovers = 0;
    while (auto* e = readdir(d)) leftovers += e->d_name[0] != '.';
    closedir(d);
    EXPECT_EQ(leftovers, 0);
    if (!crashed) break;
  }
  EXPECT_GT(crash_points, 0) << what << ": the operation never touched the filesystem";
}

// Both kinds of crash.
void RunCrashCase(const std::string& what, const CrashCase& c) {
  RunCrashCase(what, c, FaultInjectionEnv::Mode::kCrash);
  RunCrashCase(what, c, FaultInjectionEnv::Mode::kPowerLoss);
}

TEST(CrashTest, CopyUpByWrite) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(0, "d/f", "old-data"); };
  c.held = [](CrashTest& t) { return t.MustWalk("d/f").handle; };
  c.op = [](CrashTest& t, const std::string& h) {
    auto w = t.fs_->Write(Node{h, FileType::kReg}, 0, "NEW", StableHow::kFileSync);
    return w.ok() ? Status::Ok() : w.status();
  };
  c.old_tree = {{"d", "<dir>"}, {"d/f", "old-data"}};
  c.new_tree = {{"d", "<dir>"}, {"d/f", "NEW-data"}};
  RunCrashCase("copy-up", c);
}

TEST(CrashTest, RenameLowerFileAcrossDirs) {
  CrashCase c;
  c.populate = [](CrashTest& t) {
    t.Lower(0, "a/f", "payload");
    t.LowerDir(1, "b");
  };
  c.held = [](CrashTest& t) { return t.MustWalk("a/f").handle; };
  c.op = [](CrashTest& t, const std::string&) {
    return t.fs_->Rename(t.MustWalk("a"), "f", t.MustWalk("b"), "g");
  };
  c.old_tree = {{"a", "<dir>"}, {"a/f", "payload"}, {"b", "<dir>"}};
  c.new_tree = {{"a", "<dir>"}, {"b", "<dir>"}, {"b/g", "payload"}};
  RunCrashCase("rename file", c);
}

TEST(CrashTest, RenameMergedDir) {
  CrashCase c;
  c.populate = [](CrashTest& t) {
    t.Lower(0, "d/x", "x");
    t.Lower(1, "d/y", "y");
  };
  c.held = [](CrashTest& t) { return t.MustWalk("d").handle; };
  c.op = [](CrashTest& t, const std::string&) {
    return t.fs_->Rename(t.Root(), "d", t.Root(), "e");
  };
  c.old_tree = {{"d", "<dir>"}, {"d/x", "x"}, {"d/y", "y"}};
  c.new_tree = {{"e", "<dir>"}, {"e/x", "x"}, {"e/y", "y"}};
  RunCrashCase("rename dir", c);
}

TEST(CrashTest, RemoveLowerFile) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(0, "f", "x"); };
  c.held = [](CrashTest& t) { return t.MustWalk("f").handle; };
  c.op = [](CrashTest& t, const std::string&) { return t.fs_->Remove(t.Root(), "f"); };
  c.old_tree = {{"f", "x"}};
  c.new_tree = {};
  c.stale_after = true;
  RunCrashCase("remove", c);
}

TEST(CrashTest, RemoveCopiedUpFile) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(0, "f", "x"); };
  c.before = [](CrashTest& t) { ASSERT_TRUE(t.WriteAll(t.MustWalk("f"), "y").ok()); };
  c.held = [](CrashTest& t) { return t.MustWalk("f").handle; };
  c.op = [](CrashTest& t, const std::string&) { return t.fs_->Remove(t.Root(), "f"); };
  c.old_tree = {{"f", "y"}};
  c.new_tree = {};
  c.stale_after = true;
  RunCrashCase("remove copied-up", c);
}

TEST(CrashTest, RemoveOneOfTwoLowerHardlinks) {
  CrashCase c;
  c.populate = [](CrashTest& t) {
    t.Lower(0, "a", "shared");
    t.LowerLink(0, "a", "b");
  };
  c.held = [](CrashTest& t) { return t.MustWalk("a").handle; };
  c.op = [](CrashTest& t, const std::string&) { return t.fs_->Remove(t.Root(), "a"); };
  c.old_tree = {{"a", "shared"}, {"b", "shared"}};
  c.new_tree = {{"b", "shared"}};
  c.old_nlink = {{"a", 2}, {"b", 2}};
  c.new_nlink = {{"b", 1}};
  RunCrashCase("remove hardlink", c);
}

TEST(CrashTest, RmdirLowerDir) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(1, "d/f", "x"); };
  c.before = [](CrashTest& t) { ASSERT_TRUE(t.fs_->Remove(t.MustWalk("d"), "f").ok()); };
  c.held = [](CrashTest& t) { return t.MustWalk("d").handle; };
  c.op = [](CrashTest& t, const std::string&) { return t.fs_->RmDir(t.Root(), "d"); };
  c.old_tree = {{"d", "<dir>"}};
  c.new_tree = {};
  c.stale_after = true;
  RunCrashCase("rmdir", c);
}

TEST(CrashTest, MkdirOverRemovedLowerDir) {
  CrashCase c;
  c.populate = [](CrashTest& t) {
    t.Lower(0, "d/f", "x");
    t.Lower(0, "keep", "k");
  };
  c.before = [](CrashTest& t) {
    ASSERT_TRUE(t.fs_->Remove(t.MustWalk("d"), "f").ok());
    ASSERT_TRUE(t.fs_->RmDir(t.Root(), "d").ok());
  };
  c.held = [](CrashTest& t) { return t.MustWalk("keep").handle; };
  c.op = [](CrashTest& t, const std::string&) {
    auto n = t.fs_->MkDir(t.Root(), "d", 0755, Cred{});
    return n.ok() ? Status::Ok() : n.status();
  };
  c.old_tree = {{"keep", "k"}};
  c.new_tree = {{"d", "<dir>"}, {"keep", "k"}};
  RunCrashCase("mkdir over whiteout", c);
}

TEST(CrashTest, LinkLowerFile) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(0, "f", "x"); };
  c.held = [](CrashTest& t) { return t.MustWalk("f").handle; };
  c.op = [](CrashTest& t, const std::string& h) {
    return t.fs_->Link(Node{h, FileType::kReg}, t.Root(), "l");
  };
  c.old_tree = {{"f", "x"}};
  c.new_tree = {{"f", "x"}, {"l", "x"}};
  c.old_nlink = {{"f", 1}};
  c.new_nlink = {{"f", 2}, {"l", 2}};
  RunCrashCase("link", c);
}

// Special files: a symlink and nodes the server must never open (a FIFO would block it, a
// device run its driver; 4000 is a major no driver has). Sockets and block devices take the
// same paths (integration_special_files_test covers them over the wire).
struct SpecialKind {
  const char* name;
  mode_t type;  // S_IFLNK, S_IFIFO or S_IFCHR
};
constexpr SpecialKind kSpecialKinds[] = {{"symlink", S_IFLNK}, {"fifo", S_IFIFO}, {"chr", S_IFCHR}};

// Makes `path` of kind `k` in lower layer 0.

void MakeLowerSpecial(CrashTest& t, const SpecialKind& k, const std::string& path) {
  const std::string full = t.lowers_[0] + "/" + path;
  const int rc = k.type == S_IFLNK ? symlink("target", full.c_str())
                                   : mknod(full.c_str(), k.type | 0644, makedev(4000, 3));
  ASSERT_EQ(rc, 0) << full;
}

std::string SpecialContent(const SpecialKind& k) {
  return k.type == S_IFLNK ? "-> target" : "<special>";
}

TEST(CrashTest, LinkLowerSpecialFile) {
  for (const SpecialKind& k : kSpecialKinds) {
    CrashCase c;
    c.populate = [&](CrashTest& t) { MakeLowerSpecial(t, k, "f"); };
    c.held = [](CrashTest& t) { return t.MustWalk("f").handle; };
    c.op = [](CrashTest& t, const std::string&) {
      return t.fs_->Link(t.MustWalk("f"), t.Root(), "l");
    };
    c.old_tree = {{"f", SpecialContent(k)}};
    c.new_tree = {{"f", SpecialContent(k)}, {"l", SpecialContent(k)}};
    c.old_nlink = {{"f", 1}};
    c.new_nlink = {{"f", 2}, {"l", 2}};
    RunCrashCase(k.name, c);
  }
}

TEST(CrashTest, RemoveOneOfTwoNamesOfALowerSpecialFile) {
  for (const SpecialKind& k : kSpecialKinds) {
    CrashCase c;
    c.populate = [&](CrashTest& t) {
      MakeLowerSpecial(t, k, "a");
      t.LowerLink(0, "a", "b");
    };
    c.held = [](CrashTest& t) { return t.MustWalk("a").handle; };
    c.op = [](CrashTest& t, const std::string&) { return t.fs_->Remove(t.Root(), "a"); };
    c.old_tree = {{"a", SpecialContent(k)}, {"b", SpecialContent(k)}};
    c.new_tree = {{"b", SpecialContent(k)}};
    c.old_nlink = {{"a", 2}, {"b", 2}};
    c.new_nlink = {{"b", 1}};
    RunCrashCase(k.name, c);
  }
}

TEST(CrashTest, TruncateLowerFile) {
  CrashCase c;
  c.populate = [](CrashTest& t) { t.Lower(0, "f", "0123456789"); };
  c.held = [](CrashTest& t) { return t.MustWalk("f").handle; };
  c.op = [](CrashTest& t, const std::string& h) {
    SetAttrRequest r;
    r.size = 2;
    return t.fs_->SetAttr(Node{h, FileType::kReg}, r);
  };
  c.old_tree = {{"f", "0123456789"}};
  c.new_tree = {{"f", "01"}};
  RunCrashCase("truncate", c);
}

TEST(CrashTest, RenameOverLowerTarget) {
  CrashCase c;
  c.populate = [](CrashTest& t) {
    t.Lower(0, "src", "S");
    t.Lower(1, "dst", "D");
  };
  c.held = [](CrashTest& t) { return t.MustWalk("dst").handle; };
  c.op = [](CrashTest& t, const std::string&) {
    return t.fs_->Rename(t.Root(), "src", t.Root(), "dst");
  };
  c.old_tree = {{"dst", "D"}, {"src", "S"}};
  c.new_tree = {{"dst", "S"}};
  c.stale_after = true;
  RunCrashCase("rename over target", c);
}

// The planted bug create-skips-dir-fsync (base/planted_bugs.h) must be a real mistake that only a
// power cut shows: a CREATE that returned is gone after the cut, and a correct server keeps it.
TEST(CrashTest, PlantedCreateWithoutDirFsyncIsLostAtAPowerCut) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    CrashTest t;
    t.Lower(0, "keep", "k");
    FaultInjectionEnv env(DefaultFsEnv());
    UnionOptions o = t.Options();
    o.env = &env;
    if (planted) o.plants.Add(Plant::kCreateSkipsDirFsync);
    t.Open(o);
    ASSERT_NO_FATAL_FAILURE(StartPowerLossTracking(t, env));
    auto made = t.fs_->Create(t.Root(), "new", CreateMode::kGuarded, 0644, {}, Cred{});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ASSERT_TRUE(env.PowerCut().ok());
    t.fs_.reset();
    env.Disarm();
    t.Open();
    EXPECT_EQ(t.Walk("new").ok(), !planted) << "the acknowledged CREATE after the cut";
    EXPECT_TRUE(t.Walk("keep").ok());
  }
}

}  // namespace
}  // namespace ovl
