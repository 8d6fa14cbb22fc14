// Kernel messages as findings (model/kernel_log.h), from lines as the consoles and /dev/kmsg
// capture gave them: the kernel's reports in their real formats, a guest's boot, the harness's
// own writes to the console, and records a process wrote into /dev/kmsg.
#include "model/kernel_log.h"

#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace ovl::model {
namespace {

using testing::Has;
using testing::History;
using testing::JudgeOne;

// The rules of `reports`, "MUST kernel-warn" or "MAY kernel-overlayfs", in order.
std::vector<std::string> Rules(const std::vector<KernelReport>& reports) {
  std::vector<std::string> out;
  for (const auto& r : reports) out.push_back((r.must ? "MUST " : "MAY ") + r.rule);
  return out;
}

// The verdict on a case whose only event besides its start and end is a kernel event of `lines`.
CaseVerdict JudgeCase(const std::vector<std::string>& lines, const std::string& error = "") {
  History h(nlohmann::json{{"entries", {{{"file", "a"}, {"size", 10}}}}});
  h.Kernel(lines, error);
  return JudgeOne(h.End());
}

// A WARN() on a 6.1 guest (kernel/panic.c __warn's format up to 6.18), syslog console form.
const std::vector<std::string> kWarn61 = {
    "<4>[  123.456789] ------------[ cut here ]------------",
    "<4>[  123.456790] WARNING: CPU: 0 PID: 812 at fs/overlayfs/export.c:123 "
    "ovl_encode_fh+0x1c/0x90 [overlay]",
    "<4>[  123.456800] Modules linked in: overlay nfsd auth_rpcgss",
    "<4>[  123.456810] CPU: 0 PID: 812 Comm: nfsd Not tainted 6.1.0-57-amd64 #1  Debian 6.1.153-1",
    "<4>[  123.456820] RIP: 0010:ovl_encode_fh+0x1c/0x90 [overlay]",
    "<4>[  123.456830] Call Trace:",
    "<4>[  123.456831]  <TASK>",
    "<4>[  123.456832]  exportfs_encode_fh+0x5b/0xb0",
    "<4>[  123.456833]  nfsd_lookup+0x10/0x20 [nfsd]",
    "<4>[  123.456834]  </TASK>",
    "<4>[  123.456840] ---[ end trace 0000000000000000 ]---",
};

TEST(KernelLogTest, WarnIsAMustFindingWithItsLines) {
  const auto reports = JudgeKernelLines(kWarn61);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].must);
  EXPECT_EQ(reports[0].rule, "kernel-warn");
  EXPECT_EQ(reports[0].lines.front(),
            "[  123.456790] WARNING: CPU: 0 PID: 812 at fs/overlayfs/export.c:123 "
            "ovl_encode_fh+0x1c/0x90 [overlay]");
  // The report runs to the end of its stack; the end marker after </TASK> is no report.
  EXPECT_EQ(reports[0].lines.back(), "[  123.456834]  </TASK>");

  const CaseVerdict v = JudgeCase(kWarn61);
  EXPECT_EQ(v.verdict, Verdict::kFail) << testing::Dump(v);
  EXPECT_TRUE(Has(v, "kernel-warn", true)) << testing::Dump(v);
  EXPECT_NE(v.reason.find("expected no WARN() from the kernel of s; got [  123.456790] WARNING: "),
            std::string::npos)
      << v.reason;
  EXPECT_NE(v.reason.find("exportfs_encode_fh"), std::string::npos) << v.reason;
  EXPECT_EQ(v.kernel_lines.size(), kWarn61.size());
  EXPECT_EQ(v.kernel_lines_total, kWarn61.size());
}

TEST(KernelLogTest, LaterWarnFormatAndPlainConsoleLines) {
  // The format after 6.18, and a console without the syslog prefix.
  for (const std::string& line :
       {std::string("<4>[    5.1] WARNING: fs/overlayfs/util.c:42 at ovl_x+0x1/0x2, CPU#1: "
                    "kworker/1:0/17"),
        std::string("<4>[    5.1] WARNING: at ovl_x+0x1/0x2, CPU#0: swapper/0/1"),
        std::string("[    5.1] WARNING: CPU: 1 PID: 17 at mm/page_alloc.c:4000 f+0x1/0x2")}) {
    const auto reports = JudgeKernelLines({line});
    ASSERT_EQ(reports.size(), 1u) << line;
    EXPECT_EQ(reports[0].rule, "kernel-warn") << line;
  }
}

TEST(KernelLogTest, BugOopsKasanAreMustAndOneReportEach) {
  const std::vector<std::string> oops = {
      "<1>[   50.000001] BUG: kernel NULL pointer dereference, address: 0000000000000008",
      "<1>[   50.000002] #PF: supervisor read access in kernel mode",
      "<4>[   50.000003] Oops: 0000 [#1] PREEMPT SMP NOPTI",
      "<4>[   50.000004] Call Trace:",
      "<4>[   50.000005]  <TASK>",
      "<4>[   50.000006]  ovl_lookup+0x1/0x2 [overlay]",
      "<4>[   50.000007]  </TASK>",
      "<3>[   60.000001] BUG: KASAN: slab-use-after-free in ovl_dentry_upper+0x1/0x2",
      "<3>[   60.000002] Read of size 8 at addr ffff888 by task nfsd/812",
      "<4>[   60.000003] Call Trace:",
      "<4>[   60.000004]  </TASK>",
      "<4>[   70.000001] kernel BUG at fs/overlayfs/inode.c:100!",
      "<4>[   70.000002] invalid opcode: 0000 [#2] PREEMPT SMP NOPTI",
      "<4>[   70.000003]  </TASK>",
      "<4>[   80.000001] general protection fault, probably for non-canonical address 0xdead: "
      "0000 [#3] SMP",
      "<4>[   80.000002] ---[ end trace 0000000000000000 ]---",
  };
  const auto reports = JudgeKernelLines(oops);
  EXPECT_EQ(Rules(reports), (std::vector<std::string>{"MUST kernel-bug", "MUST kernel-kasan",
                                                      "MUST kernel-bug", "MUST kernel-oops"}));
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports[0].lines.size(), 7u);  // its Oops: line is part of it
}

TEST(KernelLogTest, LockdepAndHungTasksAreMayWithTheirStacks) {
  const std::vector<std::string> lines = {
      "<4>[   10.1] ======================================================",
      "<4>[   10.2] WARNING: possible circular locking dependency detected",
      "<4>[   10.3] 6.12.0-1-amd64 #1 Not tainted",
      "<4>[   10.4] Call Trace:",
      "<4>[   10.5]  </TASK>",
      "<3>[  250.1] INFO: task nfsd:812 blocked for more than 120 seconds.",
      "<3>[  250.2] INFO: lockdep is turned off.",
      "<4>[  250.3] Call Trace:",
      "<4>[  250.4]  </TASK>",
  };
  // A MAY report's further header opens another report.
  EXPECT_EQ(Rules(JudgeKernelLines(lines)),
            (std::vector<std::string>{"MAY kernel-lockdep", "MAY kernel-hung", "MAY kernel-hung"}));
  // Their "Call Trace:" lines belong to them: no kernel-call-trace.
  const CaseVerdict v = JudgeCase(lines);
  EXPECT_EQ(v.verdict, Verdict::kPass) << testing::Dump(v);
  EXPECT_TRUE(Has(v, "kernel-lockdep", false));
  EXPECT_FALSE(Has(v, "kernel-call-trace", true));
}

TEST(KernelLogTest, AnOrphanCallTraceIsMustWithWhatCameBefore) {
  const std::vector<std::string> lines = {
      "<4>[   30.1] nfsd: page allocation failure: order:4, mode:0x40cc0",
      "<4>[   30.2] CPU: 0 PID: 812 Comm: nfsd Not tainted 6.1.0-57-amd64 #1",
      "<4>[   30.3] Call Trace:",
      "<4>[   30.4]  dump_stack_lvl+0x1/0x2",
      "<4>[   30.5]  </TASK>",
      "<4>[   30.6] Mem-Info:",
  };
  const auto reports = JudgeKernelLines(lines);
  // The allocation failure's line is an nfsd warning as well.
  EXPECT_EQ(Rules(reports),
            (std::vector<std::string>{"MAY kernel-nfsd", "MUST kernel-call-trace"}));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].lines.front(),
            "[   30.2] CPU: 0 PID: 812 Comm: nfsd Not tainted "
            "6.1.0-57-amd64 #1");
  EXPECT_EQ(reports[1].lines.back(), "[   30.5]  </TASK>");
}

// After "reboot: Power down" the guest is gone as a server (the harness cuts the VM off); a
// stall its starved CPU reports before that is no finding. The next boot is judged again.
TEST(KernelLogTest, NothingBetweenPowerDownAndTheNextBootIsJudged) {
  const std::vector<std::string> lines = {
      "<4>[   31.6] sysrq: Power Off",
      "<0>[   31.7] reboot: Power down",
      "<3>[   36.0] I/O error, dev vda, sector 3934696 op 0x1:(WRITE) flags 0x9800",
      "<0>[   48.8] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [swapper/0:0]",
      "<4>[   48.9] Call Trace:",
      "<4>[   49.0]  </TASK>",
      "<3>[    0.03] ACPI BIOS Error (bug): A valid RSDP was not found",
      "<4>[   12.0] Call Trace:",
      "<4>[   12.1]  </TASK>",
  };
  EXPECT_EQ(Rules(JudgeKernelLines(lines)), (std::vector<std::string>{"MUST kernel-call-trace"}));
  std::vector<std::string> no_boot(lines.begin(), lines.begin() + 6);
  EXPECT_TRUE(JudgeKernelLines(no_boot).empty());
  no_boot.erase(no_boot.begin() + 1);  // negative control: without the power-down it is judged
  EXPECT_EQ(Rules(JudgeKernelLines(no_boot)), (std::vector<std::string>{"MUST kernel-call-trace"}));
}

TEST(KernelLogTest, OverlayfsLinesAreMayAndTheCasePasses) {
  // The host 6.18 kernel mounting an overlay with xino=on on one filesystem (seen in
  // backend/kernel_log_test.cc), at info level; repeats fold into one finding.
  const std::vector<std::string> lines = {
      "<6>[22511.344401] overlayfs: \"xino=on\" is useless with all layers on same fs, ignore.",
      "<6>[22512.000000] harness (13380): drop_caches: 3",
      "<6>[22513.344401] overlayfs: \"xino=on\" is useless with all layers on same fs, ignore.",
      "<3>[22514.000000] overlayfs: failed to verify upper root origin",
  };
  const auto reports = JudgeKernelLines(lines);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].rule, "kernel-overlayfs");
  EXPECT_EQ(reports[0].repeats, 2u);
  EXPECT_EQ(FormatKernelReport(reports[0]),
            "[22511.344401] overlayfs: \"xino=on\" is useless with all layers on same fs, ignore. "
            "(printed 2 times)");
  const CaseVerdict v = JudgeCase(lines);
  EXPECT_EQ(v.verdict, Verdict::kPass) << testing::Dump(v);
  EXPECT_TRUE(Has(v, "kernel-overlayfs", false)) << testing::Dump(v);
}

TEST(KernelLogTest, NfsdInfoIsIgnoredItsWarningsAreMay) {
  const auto reports = JudgeKernelLines({
      "<6>[   40.1] NFSD: starting 90-second grace period (net f0000000)",
      "<6>[   40.2] nfsd: last server has exited, flushing export cache",
      "<4>[   40.3] NFSD: client 10.200.0.2 testing state ID with incorrect client ID",
  });
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].rule, "kernel-nfsd");
  EXPECT_FALSE(reports[0].must);
}

TEST(KernelLogTest, BootNoiseAndRestartRetriesAreNoFindings) {
  // 6.1 and 6.12 guests' reboots on their consoles under TCG (libvirt_vm_test saw these), the
  // harness's own lines there, and the local backend's remount retries.
  const std::vector<std::string> lines = {
      "<3>[    0.000000] ACPI BIOS Error (bug): A valid RSDP was not found (20220331/tbxfroot-210)",
      "ovl-init: kernel 6.1.0-57-amd64 up after 10.04s\r",
      "ovl-init: knfsd (knfsd) ready after 12.07s\r",
      "ovl-guestd: serving /dev/vport1p1\r",
      "<6>[   59.163616] sysrq: Resetting\r",
      "<4>[    0.044000] tsc: Unable to calibrate against PIT",
      "<4>[    0.824000] APIC timer disabled due to verification failure",
      "<4>[    4.380198] Unstable clock detected, switching default tracing clock to \"global\"",
      "<4>[    3.195134] amd_pstate: the _CPC object is not present in SBIOS or ACPI disabled",
      "<4>[    0.000000] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to "
      "RETBleed attacks, data leaks possible!",
      "<3>[22136.105260] overlayfs: upperdir is in-use as upperdir/workdir of another mount, "
      "mount with '-o index=off' to override exclusive upperdir protection.",
      "<6>[   12.0] overlayfs: \"xino\" feature enabled using 32 upper inode bits.",
  };
  EXPECT_TRUE(JudgeKernelLines(lines).empty());
  const CaseVerdict v = JudgeCase(lines);
  EXPECT_EQ(v.verdict, Verdict::kPass) << testing::Dump(v);
  EXPECT_TRUE(v.findings.empty()) << testing::Dump(v);
  // The report shows the kernel's lines only, without the syslog prefix.
  ASSERT_EQ(v.kernel_lines.size(), 9u);
  EXPECT_EQ(v.kernel_lines[1], "[   59.163616] sysrq: Resetting");
}

TEST(KernelLogTest, LinesAProcessWroteAreNotTheKernels) {
  // Written into /dev/kmsg ("<4>WARNING: ..." gets facility user: priority 12), and echoed to
  // the console by a script: neither is a kernel message.
  const std::vector<std::string> lines = {
      "<12>[  100.000000] WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1",
      "<12>[  100.000001] BUG: kernel NULL pointer dereference, address: 0",
      "WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1",
      "role.sh: BUG: overlayfs: not a kernel line",
      "[not a time] WARNING: CPU: 0 PID: 1 at fake.c:1",
  };
  EXPECT_TRUE(JudgeKernelLines(lines).empty());
  EXPECT_TRUE(KernelMessages(lines).empty());
}

TEST(KernelLogTest, LongReportsAreBounded) {
  std::vector<std::string> lines = {"<4>[ 1.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x0/0x1"};
  for (int i = 0; i < 60; ++i) lines.push_back("<4>[ 1.1]  frame" + std::to_string(i));
  const auto reports = JudgeKernelLines(lines);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].lines.size(), kKernelReportLines);
  EXPECT_EQ(reports[0].more, 61 - kKernelReportLines);
  EXPECT_NE(FormatKernelReport(reports[0]).find("(45 more lines)"), std::string::npos);

  const CaseVerdict v = JudgeCase(lines);
  EXPECT_EQ(v.kernel_lines.size(), kMaxCaseKernelLines);
  EXPECT_EQ(v.kernel_lines_total, 61u);
}

TEST(KernelLogTest, AnUnreadableLogIsAMayFinding) {
  const CaseVerdict v = JudgeCase({}, "open /dev/kmsg: Permission denied");
  EXPECT_EQ(v.verdict, Verdict::kPass);
  EXPECT_TRUE(Has(v, "kernel-log", false)) << testing::Dump(v);
}

}  // namespace
}  // namespace ovl::model
