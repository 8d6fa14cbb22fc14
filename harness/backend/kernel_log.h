// What a server's kernel printed during a case, read from a mark on: on the local backend the
// host's /dev/kmsg (the servers run on the host's kernel), in a VM its serial console file. Each
// line is in the kernel's syslog console form, "<PRIO>[SECONDS] message" (PRIO = facility * 8 +
// level; the guests boot with console_msg_format=syslog), so that the model
// (harness/model/kernel_log.h) tells kernel records from userspace ones and judges both backends
// alike. Lines without that form (a console also carries what the guest's init writes) are kept:
// the model, not the capture, decides what is a kernel message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ovl::backend {

struct KernelLines {
  std::vector<std::string> lines;  // oldest first, at most kMaxKernelLines
  // Lines beyond the bound, plus one for each gap of records the ring buffer overwrote unread.
  uint64_t dropped = 0;
};

// The bound on the lines of one read: a flood (a warning per operation) must not swamp the
// history; the model needs the first reports, and the count says how many more there were.
inline constexpr size_t kMaxKernelLines = 1000;

class KernelLog {
 public:
  virtual ~KernelLog() = default;
  // The lines printed since the mark (the log's opening) or since the previous Read.
  virtual Result<KernelLines> Read() = 0;
};

// The host kernel's log (/dev/kmsg, or `path` in tests) from now on. Read returns the kernel's
// records (facility 0) down to level info (6), as "<PRIO>[SECONDS] message": records that
// userspace wrote into /dev/kmsg (facility user and others) are not the kernel's and are skipped,
// and debug records are skipped as the guests' consoles do (loglevel 7). Needs read access to
// /dev/kmsg (root, or kernel.dmesg_restrict=0).
Result<std::unique_ptr<KernelLog>> OpenHostKernelLog(const std::string& path = "/dev/kmsg");

// A console log file from now on: Read returns the complete lines appended to `path` since (a
// line the mark cut in two is skipped; a trailing line without its newline waits for the next
// Read), with a trailing carriage return removed.
Result<std::unique_ptr<KernelLog>> OpenConsoleLog(const std::string& path);

// One /dev/kmsg record ("PRIO,SEQ,USEC,FLAGS[,...];message" and optional " KEY=value" lines)
// as "<PRIO>[SECONDS] message", or "" when the capture skips it (not the kernel's, debug, or not
// a record). Exposed for tests.
std::string KmsgRecordLine(std::string_view record);

}  // namespace ovl::backend
