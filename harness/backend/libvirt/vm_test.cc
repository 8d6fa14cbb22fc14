// Boots server VMs (knfsd, ovlnfsd, knfsd on fuse-overlayfs) and kernel NFS client VMs (TCG
// unless KVM boots) and drives harness-agent in the clients: hold a handle, write through it,
// crash (power cut) or reboot the server, read the data back through the same handle. Needs root,
// libvirt and QEMU; builds the guest image on first use (a few minutes, needs the Debian mirror).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>

#include "backend/libvirt/backend.h"
#include "backend/libvirt/vm_nodes.h"
#include "base/file_text.h"
#include "model/kernel_log.h"
#include "ops/fixture.h"
#include "ops/fixture_json.h"
#include "ops/ops.h"

namespace ovl::backend::libvirt {
namespace {

using json = nlohmann::json;
namespace protocol = ovl::agent::protocol;

// A reply in its wire form, for the checks below.
json Json(const protocol::Reply& reply) {
  return json::parse(protocol::EncodeReply(reply));
}

class LibvirtVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (libvirt qemu:///system)";
    if (!std::filesystem::exists("/usr/bin/qemu-system-x86_64")) GTEST_SKIP() << "no QEMU";
    run_dir_ = std::filesystem::temp_directory_path() / ("vm_test." + std::to_string(getpid()));
    LibvirtOptions o;
    o.run_dir = run_dir_;
    o.ovlnfsd = OVLNFSD_PATH;
    o.agent = HARNESS_AGENT_PATH;
    o.guestd = GUESTD_PATH;
    auto b = LibvirtBackend::Open(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = *b;
  }
  // Consoles stay only when something failed.
  void TearDown() override {
    if (run_dir_.empty()) return;
    if (HasFailure()) {
      std::cerr << "consoles kept under " << run_dir_ << "\n";
    } else {
      std::filesystem::remove_all(run_dir_);
    }
  }

  // Public for the HandleSurvives helper below.
 public:
  json Op(AgentNode& agent, ops::Op op) {
    op.seq = ++seq_;
    op.client = agent.name();
    auto r = agent.Request(protocol::RunOp{op});
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << agent.LogTail();
    return r.ok() ? Json(*r).value("result", json()) : json();
  }

  const std::shared_ptr<LibvirtBackend>& backend() const { return backend_; }

  std::string run_dir_;
  std::shared_ptr<LibvirtBackend> backend_;
  uint64_t seq_ = 0;
};

ops::Target Path(const std::string& p) {
  ops::Target t;
  t.path = p;
  return t;
}
ops::Target Var(const std::string& v) {
  ops::Target t;
  t.var = v;
  return t;
}

topology::ServerSpec Server(const std::string& name, topology::Variant variant,
                            const std::string& kernel) {
  topology::ServerSpec s;
  s.name = name;
  s.variant = variant;
  s.backend = topology::Backend::kLibvirt;
  s.kernel = topology::KernelSpec::Debian(kernel);
  return s;
}

topology::ClientSpec Client(const std::string& name, const std::string& server,
                            const std::string& kernel) {
  topology::ClientSpec c;
  c.name = name;
  c.access = topology::Access::kKernelMount;
  c.backend = topology::Backend::kLibvirt;
  c.kernel = topology::KernelSpec::Debian(kernel);
  c.servers = {server};
  return c;
}

ops::Fixture SmallFixture() {
  auto f = ops::FixtureFromJson(json{{"layers", 1},
                                     {"entries", json::array({{{"file", "a"}, {"size", 5000}},
                                                              {{"file", "d/b"}, {"size", 100}}})}},
                                1);
  EXPECT_TRUE(f.ok());
  return f.ok() ? *f : ops::Fixture{};
}

ops::Op Lookup(const std::string& name, const std::string& save) {
  ops::Op op{};
  op.kind = ops::Kind::kLookup;
  op.target = Path("");
  op.name = name;
  op.save = save;
  return op;
}

ops::Op Write(const std::string& var, const std::string& data) {
  ops::Op op{};
  op.kind = ops::Kind::kWrite;
  op.target = Var(var);
  op.data = data;
  op.stable = ops::Stable::kFileSync;
  return op;
}

ops::Op Read(const std::string& var) {
  ops::Op op{};
  op.kind = ops::Kind::kRead;
  op.target = Var(var);
  op.count = 64;
  return op;
}

protocol::Reconnect Reconnect(const ServerNode& server) {
  return protocol::ReconnectTo(server.ConnectRequest());
}

TEST_F(LibvirtVmTest, KnfsdHandleSurvivesPowerCut) {
  topology::Topology topo;
  topo.servers = {Server("knfsd", topology::Variant::kKnfsd, "6.1")};
  topo.clients = {Client("kc", "knfsd", "6.1")};
  plan::Plan plan;
  plan.servers = {{"knfsd", topology::Variant::kKnfsd, topology::Backend::kLibvirt,
                   topology::Expect::kPass, plan::kGuestNfsPort, topo.servers[0]}};
  plan.clients = {{"kc",
                   "kc",
                   topology::Access::kKernelMount,
                   topology::Backend::kLibvirt,
                   {"knfsd"},
                   topo.clients[0]}};
  plan.links = {{"knfsd", "kc", 24101, 24102}};
  plan.servers[0].host = plan.clients[0].host = plan.links[0].host = backend_->host().name;

  auto t0 = std::chrono::steady_clock::now();
  auto nodes = StartVmNodes(backend_, plan);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  std::cerr << "both VMs up after "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s, booted in parallel (" << backend_->accel_note() << ")\n";
  ServerNode& srv = *nodes->servers.at("knfsd");
  AgentNode& agent = *nodes->agents.at("kc");

  Status up = srv.Setup(SmallFixture(), "");
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << srv.LogTail();
  auto connected = agent.Request(srv.ConnectRequest());
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  ASSERT_EQ(Json(*connected).value("ok", false), true) << Json(*connected).dump() << "\n"
                                                       << agent.LogTail();

  json r = Op(agent, Lookup("a", "A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump();
  const std::string data = "copied up through a held handle";
  r = Op(agent, Write("A", data));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump();

  Status crash = srv.Crash();
  ASSERT_TRUE(crash.ok()) << crash.ToString();
  auto rc = agent.Request(Reconnect(srv));
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(Json(*rc).value("ok", false), true) << Json(*rc).dump();

  r = Op(agent, Read("A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump() << "\n" << agent.LogTail();
  auto result = ops::ResultFromJson(r);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->data.substr(0, data.size()), data);
  Status lowers = srv.VerifyLowerLayers(SmallFixture());  // the copy-up left the lower alone
  EXPECT_TRUE(lowers.ok()) << lowers.ToString();

  Status reboot = srv.Reboot();
  ASSERT_TRUE(reboot.ok()) << reboot.ToString();
  ASSERT_TRUE(agent.Request(Reconnect(srv)).ok());
  r = Op(agent, Read("A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump() << "\n" << agent.LogTail();

  ASSERT_TRUE(agent.EvictClientCaches().ok());
  ASSERT_TRUE(srv.Evict().ok());
  ops::Op getattr{};
  getattr.kind = ops::Kind::kGetAttr;
  getattr.target = Var("A");
  r = Op(agent, getattr);
  EXPECT_EQ(r.value("outcome", ""), "ok") << r.dump();
  EXPECT_TRUE(srv.Teardown(false).ok());
}

// ovlnfsd in a 6.12 guest, a clean guest reboot, and eviction of ovlnfsd's caches.
// Holds a handle of a written file across `fault` (run `times` times) and reads the data back
// through it after each, with every cache on both sides dropped.
void HandleSurvives(LibvirtVmTest& t, const topology::ServerSpec& server, const std::string& client,
                    const std::function<Status(ServerNode&)>& fault, int times = 1) {
  const std::vector<plan::Link> links = {{server.name, client, 24111, 24112}};
  auto s = StartVmServer(t.backend(), server, links);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto a = StartVmAgent(t.backend(), Client(client, server.name, "6.12"), client, {server}, links);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ServerNode& srv = **s;
  AgentNode& agent = **a;
  Status up = srv.Setup(SmallFixture(), "");
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << srv.LogTail();
  auto connected = agent.Request(srv.ConnectRequest());
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  ASSERT_EQ(Json(*connected).value("ok", false), true) << Json(*connected).dump() << "\n"
                                                       << agent.LogTail();

  json r = t.Op(agent, Lookup("a", "A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump() << "\n" << srv.LogTail();
  const std::string data = "written before the fault";
  r = t.Op(agent, Write("A", data));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump();
  for (int i = 0; i < times; ++i) {
    Status st = fault(srv);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto rc = agent.Request(Reconnect(srv));
    ASSERT_TRUE(rc.ok()) << rc.status().ToString();
    ASSERT_TRUE(srv.Evict().ok()) << srv.LogTail();
    ASSERT_TRUE(agent.EvictClientCaches().ok());
    r = t.Op(agent, Read("A"));
    ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump() << "\n" << srv.LogTail();
    auto result = ops::ResultFromJson(r);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->data.substr(0, data.size()), data) << "after fault " << i + 1;
  }
  EXPECT_TRUE(srv.Teardown(false).ok());
}

TEST_F(LibvirtVmTest, ReferenceHandleSurvivesReboot) {
  HandleSurvives(*this, Server("reference", topology::Variant::kReference, "6.12"), "kr",
                 [](ServerNode& s) { return s.Reboot(); });
}

// knfsd encodes the handle on 6.1, is upgraded to 6.12 and back (ServerNode::Upgrade); the held
// handle must decode on each. The boot record says which kernel the server runs.
TEST_F(LibvirtVmTest, KnfsdHandleSurvivesKernelUpgradeAndBack) {
  topology::ServerSpec server = Server("knfsd-up", topology::Variant::kKnfsd, "6.1");
  server.kernel_upgrade = topology::KernelSpec::Debian("6.12");
  std::vector<std::string> kernels;
  HandleSurvives(
      *this, server, "ku",
      [&](ServerNode& s) {
        Status st = s.Upgrade();
        json boot = json::parse(ReadFileText(run_dir_ + "/vm/knfsd-up/boots.json").value_or(""),
                                nullptr, false);
        kernels.push_back(boot.is_object() ? boot.value("kernel", "") : "");
        return st;
      },
      2);
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_TRUE(kernels[0].starts_with("6.12")) << kernels[0];
  EXPECT_TRUE(kernels[1].starts_with("6.1.")) << kernels[1];
}

// A layer setup on disks of the VM's own (the upper on xfs, the lower on ext4): the written
// handle survives a power cut, which both filesystems recover from at the next boot.
TEST_F(LibvirtVmTest, KnfsdOnLayerDisksHandleSurvivesPowerCut) {
  topology::ServerSpec server = Server("knfsd-disks", topology::Variant::kKnfsd, "6.12");
  server.upper_fs = topology::LayerFs::kXfs;
  server.lower_fs = {topology::LayerFs::kExt4};
  HandleSurvives(*this, server, "kd", [](ServerNode& s) { return s.Crash(); });
}

// The kernel refuses metacopy with nfs_export at mount: UNSUPPORTED with its own words.
TEST_F(LibvirtVmTest, KnfsdRefusedOverlayIsUnsupportedWithTheKernelsReason) {
  topology::ServerSpec server = Server("knfsd-metacopy", topology::Variant::kKnfsd, "6.1");
  server.overlay.metacopy = "on";  // index and nfs_export are on by default
  server.nested = true;            // and the nested lower layer is mounted and unmounted around it
  auto s = StartVmServer(backend_, server, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status up = (*s)->Setup(SmallFixture(), "");
  EXPECT_EQ(up.code(), kErrNotSupp) << up.ToString();
  EXPECT_NE(up.message().find("overlayfs:"), std::string::npos) << up.message();
  EXPECT_TRUE((*s)->Teardown(false).ok());
}

// Without nfs_export the kernel overlay cannot encode handles: UNSUPPORTED, not a failure.
TEST_F(LibvirtVmTest, KnfsdWithoutNfsExportIsUnsupported) {
  topology::ServerSpec server = Server("knfsd-noexport", topology::Variant::kKnfsd, "6.12");
  server.overlay.nfs_export = "off";
  auto s = StartVmServer(backend_, server, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status up = (*s)->Setup(SmallFixture(), "");
  EXPECT_EQ(up.code(), kErrNotSupp) << up.ToString();
  EXPECT_NE(up.message().find("name_to_handle_at"), std::string::npos) << up.message();
}

// The kernel-side negative control: knfsd exporting a fuse-overlayfs mount. Its node ids live
// in the fuse daemon's memory, so a handle held across a power cut must stop resolving.
TEST_F(LibvirtVmTest, KnfsdFuseLosesHandleAcrossPowerCut) {
  const topology::ServerSpec server = Server("kfuse", topology::Variant::kKnfsdFuse, "6.1");
  const std::vector<plan::Link> links = {{"kfuse", "kf", 24121, 24122}};
  auto s = StartVmServer(backend_, server, links);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto a = StartVmAgent(backend_, Client("kf", "kfuse", "6.1"), "kf", {server}, links);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ServerNode& srv = **s;
  AgentNode& agent = **a;
  Status up = srv.Setup(SmallFixture(), "");
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << srv.LogTail();
  auto connected = agent.Request(srv.ConnectRequest());
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  ASSERT_EQ(Json(*connected).value("ok", false), true) << Json(*connected).dump() << "\n"
                                                       << agent.LogTail();
  json r = Op(agent, Lookup("a", "A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump();
  r = Op(agent, Read("A"));
  ASSERT_EQ(r.value("outcome", ""), "ok") << r.dump();
  ASSERT_TRUE(srv.Crash().ok());
  ASSERT_TRUE(agent.Request(Reconnect(srv)).ok());
  ASSERT_TRUE(agent.EvictClientCaches().ok());
  r = Op(agent, Read("A"));
  EXPECT_EQ(r.value("outcome", ""), "error") << r.dump();
  EXPECT_EQ(r.value("error", ""), "STALE") << r.dump();
}

// The guest kernel's messages reach a case through the serial console: the console shows
// each line with its syslog priority (vm.cc boots with console_msg_format=syslog) and, once the
// guest is up, info messages too (init.sh). A real overlayfs message of the guest kernel (xino=on
// with every layer on the data disk: the option is useless, the kernel says, at every mount) is
// a MAY finding; a whole reboot inside the window (its boot messages, the guest init's own lines
// on the console) is none. A fake WARNING written into the guest's /dev/kmsg would be no test:
// the console shows it with facility user, which the model skips like the host capture does
// (backend kernel_log_test, model kernel_log_test).
TEST_F(LibvirtVmTest, GuestKernelMessagesReachTheCaseThroughTheConsole) {
  for (const auto& [series, name] : {std::pair{"6.1", "kmsg-61"}, std::pair{"6.12", "kmsg-612"}}) {
    SCOPED_TRACE(series);
    topology::ServerSpec server = Server(name, topology::Variant::kKnfsd, series);
    server.overlay.xino = "on";
    auto s = StartVmServer(backend_, server, {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ServerNode& srv = **s;
    auto log = srv.OpenKernelLog();
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Status up = srv.Setup(SmallFixture(), "");
    ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << srv.LogTail();
    Status reboot = srv.Reboot();
    ASSERT_TRUE(reboot.ok()) << reboot.ToString();
    ASSERT_TRUE(srv.Teardown(false).ok());
    auto lines = (*log)->Read();
    ASSERT_TRUE(lines.ok()) << lines.status().ToString();
    std::string all;
    bool init_line = false;
    for (const auto& l : lines->lines) {
      all += l + "\n";
      init_line |= l.rfind("ovl-init: ", 0) == 0;
    }
    std::cerr << series << ": console lines in the window:\n" << all;
    EXPECT_TRUE(init_line) << "the reboot's init lines are on the console";
    for (const auto& m : model::KernelMessages(lines->lines)) {
      EXPECT_EQ(m.find("ovl-init: "), std::string::npos) << m;
    }
    uint64_t xino = 0;
    for (const auto& r : model::JudgeKernelLines(lines->lines)) {
      EXPECT_FALSE(r.must) << r.rule << ": " << model::FormatKernelReport(r);
      if (r.rule == "kernel-overlayfs" &&
          r.lines.front().find("overlayfs: \"xino=on\" is useless") != std::string::npos) {
        xino += r.repeats;
      }
    }
    EXPECT_EQ(xino, 2u) << "one per mount: at setup and after the reboot\n" << all;
  }
}

}  // namespace
}  // namespace ovl::backend::libvirt
