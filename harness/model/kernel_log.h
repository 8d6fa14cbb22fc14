// A server's kernel messages during a case (the "kernel" event of ops/history.h, captured by
// backend/kernel_log.h) judged as findings of that case. Pure.
//
// A line is the kernel's when it has the console's syslog form "<PRIO>[SECONDS] message" with
// facility 0, or the plain form "[SECONDS] message" (a console without console_msg_format=syslog;
// its level is taken as warning). Anything else on a console is userspace's (the guest's init
// and daemons write there), and a record with another facility was written into /dev/kmsg by a
// process: neither is a kernel message, whatever it says.
//
// Reports are recognised by how their first line begins, in the kernel's own formats:
//
// | rule | severity | first line of the report |
// |---|---|---|
// | kernel-warn | MUST | WARN(): "WARNING: CPU: N PID: N at ..." (kernel/panic.c __warn up
// to 6.18), "WARNING: FILE:LINE at SYM, CPU#N: ..." and "WARNING: at SYM, CPU#N: ..." (later) | |
// kernel-bug | MUST | "BUG: ..." (NULL dereference, sleeping in atomic context, soft lockup, bad
// page state, "Dentry still in use" at umount...), "kernel BUG at FILE:LINE!" (lib/bug.c) | |
// kernel-kasan | MUST | "BUG: KASAN: ..." (mm/kasan/report.c), "KASAN: ..." | | kernel-oops | MUST
// | "Oops: ...", "general protection fault...", "Kernel panic - not syncing: ..." | |
// kernel-call-trace | MUST | "Call Trace:" outside any report above (a dump_stack() after a message
// of its own, such as a page allocation failure) | | kernel-lockdep | MAY | any other "WARNING:
// ..." line: lockdep's and RCU's checks ("possible circular locking dependency detected",
// "suspicious RCU usage"; kernel/locking/lockdep.c) | | kernel-hung | MAY | "INFO: ..." (a task
// blocked for more than N seconds, an RCU stall): under TCG a slow guest can trip them without a
// bug | | kernel-overlayfs | MAY | "overlayfs: ..." at any captured level: the overlay reports
// option fallbacks ("falling back to nfs_export=off", "... does not support file handles") and
// errors there | | kernel-nfsd | MAY | "nfsd: ..." or "NFSD: ..." at level warning or worse (its
// info lines are the grace period and client tracking every start prints) |
//
// A report runs from its first line to the end of its stack (" </TASK>", or "---[ end trace");
// a MUST report's further headers ("Oops:" after "BUG: unable to handle page fault", "INFO:
// lockdep is turned off.") are part of it, not reports of their own.
//
// Ignored, with their reasons (Ignored, in kernel_log.cc): the local kernel-overlay backend's
// restarts (harness/backend/local_nodes.cc mounts again while a detached earlier instance still
// holds the upper dir, and retries on EBUSY), and overlayfs's note of the xino bits it uses. No
// line of a 6.1 or 6.12 guest's boot under TCG matches a rule (libvirt_vm_test prints them), so
// boot noise needs no entry there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ovl::model {

struct KernelReport {
  bool must = true;
  std::string rule;                // "kernel-warn", ...
  std::string what;                // "a WARN()", for the finding's "expected no ..."
  std::vector<std::string> lines;  // the report, as printed, at most kKernelReportLines
  uint64_t more = 0;               // lines of the report beyond those
  uint64_t repeats = 1;            // a one-line report printed this many times in the event
};

inline constexpr size_t kKernelReportLines = 16;

// The kernel's reports among `lines` (one kernel event's), in order.
std::vector<KernelReport> JudgeKernelLines(const std::vector<std::string>& lines);

// The kernel's lines among `lines`, as the console shows them without the syslog prefix
// ("[SECONDS] message").
std::vector<std::string> KernelMessages(const std::vector<std::string>& lines);

// "[  12.000000] WARNING: ...\n..." and "... (N more lines)" or "(printed N times)".
std::string FormatKernelReport(const KernelReport& report);

}  // namespace ovl::model
