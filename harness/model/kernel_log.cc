#include "model/kernel_log.h"

#include <cctype>
#include <cstdlib>
#include <deque>
#include <map>
#include <string_view>

namespace ovl::model {
namespace {

constexpr int kLevelWarning = 4;
constexpr size_t kCallTraceContext = 4;  // lines before an orphan "Call Trace:" that explain it

struct Line {
  bool kernel = false;
  int level = kLevelWarning;  // unknown without the syslog prefix: as if a warning
  std::string shown;          // "[SECONDS] message"
  std::string_view message;   // into shown
  double seconds = 0;         // the timestamp: since the boot
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "[  12.345678]": spaces, digits and one dot.
bool IsTimestamp(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  bool digit = false;
  for (char c : s.substr(1, s.size() - 2)) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (c != ' ' && c != '.') {
      return false;
    }
  }
  return digit;
}

// "[    T123]" or "[  C0]": the printk caller id (CONFIG_PRINTK_CALLER).
size_t CallerIdLength(std::string_view s) {
  const size_t close = s.find(']');
  if (s.empty() || s.front() != '[' || close == std::string_view::npos) return 0;
  std::string_view id = s.substr(1, close - 1);
  while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
  if (id.size() < 2 || (id.front() != 'T' && id.front() != 'C')) return 0;
  for (char c : id.substr(1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
  }
  return close + 1;
}

Line Parse(const std::string& raw) {
  Line l;
  std::string_view s = raw;
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  int prio = -1;
  if (StartsWith(s, "<")) {
    const size_t close = s.find('>');
    if (close == std::string_view::npos || close == 1 || close > 4) return l;
    prio = 0;
    for (char c : s.substr(1, close - 1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return l;
      prio = prio * 10 + (c - '0');
    }
    s.remove_prefix(close + 1);
  }
  const size_t close = s.find(']');
  if (close == std::string_view::npos || !IsTimestamp(s.substr(0, close + 1))) return l;
  // Not the kernel's: a record a process wrote into /dev/kmsg (facility user, ...).
  if (prio >= 0 && (prio >> 3) != 0) return l;
  if (prio >= 0) l.level = prio & 7;
  l.kernel = true;
  l.seconds = std::strtod(std::string(s.substr(1, close - 1)).c_str(), nullptr);
  l.shown = std::string(s);
  std::string_view rest = std::string_view(l.shown).substr(close + 1);
  rest.remove_prefix(CallerIdLength(rest));
  if (StartsWith(rest, " ")) rest.remove_prefix(1);
  l.message = rest;
  return l;
}

struct Rule {
  const char* rule;
  const char* what;
  bool must;
  bool report;  // a report of several lines (with a stack), not a line of its own
  int max_level;
};

constexpr Rule kWarn{"kernel-warn", "WARN()", true, true, 7};
constexpr Rule kBug{"kernel-bug", "BUG", true, true, 7};
constexpr Rule kKasan{"kernel-kasan", "KASAN report", true, true, 7};
constexpr Rule kOops{"kernel-oops", "oops or panic", true, true, 7};
constexpr Rule kCallTrace{"kernel-call-trace", "stack dump", true, true, 7};
constexpr Rule kLockdep{"kernel-lockdep", "lockdep or RCU warning", false, true, 7};
constexpr Rule kHung{"kernel-hung", "hung task or stall report", false, true, 7};
constexpr Rule kOverlayfs{"kernel-overlayfs", "overlayfs message", false, false, 7};
// nfsd's info lines (grace period, client tracking) come with every start of the server.
constexpr Rule kNfsd{"kernel-nfsd", "nfsd warning or error", false, false, kLevelWarning};

// Lines that match a rule but say nothing about the server under test, each with its reason.
bool Ignored(std::string_view m) {
  // The local kernel-overlay backend mounts again at a restart while the detached earlier mount
  // still holds the upper and work dirs, and retries on EBUSY (harness/backend/local_nodes.cc);
  // a mount that never succeeds is the backend's own error.
  if (StartsWith(m, "overlayfs: upperdir is in-use as upperdir/workdir of another mount") ||
      StartsWith(m, "overlayfs: workdir is in-use as upperdir/workdir of another mount")) {
    return true;
  }
  // The configuration asked for ("xino" with layers on several filesystems), not a problem.
  return StartsWith(m, "overlayfs: \"xino\" feature enabled using");
}

const Rule* Match(const Line& l) {
  const std::string_view m = l.message;
  if (Ignored(m)) return nullptr;
  const Rule* r = nullptr;
  if (StartsWith(m, "BUG: KASAN: ") || StartsWith(m, "KASAN: ")) {
    r = &kKasan;
  } else if (StartsWith(m, "BUG: ") || StartsWith(m, "kernel BUG at ")) {
    r = &kBug;
  } else if (StartsWith(m, "Oops: ") || StartsWith(m, "general protection fault") ||
             StartsWith(m, "Kernel panic - not syncing")) {
    r = &kOops;
  } else if (StartsWith(m, "WARNING: CPU: ") ||
             (StartsWith(m, "WARNING: ") && m.find(", CPU#") != std::string_view::npos)) {
    r = &kWarn;
  } else if (StartsWith(m, "WARNING: ")) {
    r = &kLockdep;
  } else if (StartsWith(m, "INFO: ")) {
    r = &kHung;
  } else if (StartsWith(m, "overlayfs: ")) {
    r = &kOverlayfs;
  } else if (StartsWith(m, "nfsd: ") || StartsWith(m, "NFSD: ")) {
    r = &kNfsd;
  }
  return r && l.level <= r->max_level ? r : nullptr;
}

// The last line of a stack dump: x86's " </TASK>", or the end marker of a WARN or oops.
bool EndsReport(std::string_view m) {
  while (StartsWith(m, " ")) m.remove_prefix(1);
  return m == "</TASK>" || StartsWith(m, "---[ end trace");
}

KernelReport NewReport(const Rule& r) {
  KernelReport k;
  k.must = r.must;
  k.rule = r.rule;
  k.what = r.what;
  return k;
}

void AddLine(KernelReport& k, const std::string& shown) {
  if (k.lines.size() < kKernelReportLines) {
    k.lines.push_back(shown);
  } else {
    ++k.more;
  }
}

}  // namespace

std::vector<KernelReport> JudgeKernelLines(const std::vector<std::string>& lines) {
  std::vector<KernelReport> out;
  std::map<std::string, size_t> single;  // rule + message -> its report, to count repeats
  std::deque<std::string> recent;        // kernel lines outside any report, the last few
  bool open = false;                     // out.back() is a report still being printed
  // Between a guest kernel's "reboot: Power down" and its next boot (whose timestamps start
  // again) the machine is halted, not serving: the libvirt backend cuts it off there
  // (backend/libvirt/vm.cc, RestartInto), and what it prints meanwhile is not judged.
  bool halted = false;
  double last = 0;
  for (const std::string& raw : lines) {
    const Line l = Parse(raw);
    if (!l.kernel) continue;
    if (halted && l.seconds >= last) {
      last = l.seconds;
      continue;
    }
    halted = StartsWith(l.message, "reboot: Power down");
    last = l.seconds;
    if (halted) {
      open = false;
      continue;
    }
    const Rule* r = Match(l);
    if (r && !r->report) {
      auto [it, added] =
          single.emplace(std::string(r->rule) + "\n" + std::string(l.message), out.size());
      if (added) {
        out.push_back(NewReport(*r));
        AddLine(out.back(), l.shown);
      } else {
        ++out[it->second].repeats;
      }
      continue;
    }
    if (r && !(open && out.back().must)) {
      out.push_back(NewReport(*r));
      open = true;
    } else if (!open && StartsWith(l.message, "Call Trace:")) {
      out.push_back(NewReport(kCallTrace));
      for (const auto& before : recent) AddLine(out.back(), before);
      open = true;
    }
    if (!open) {
      recent.push_back(l.shown);
      if (recent.size() > kCallTraceContext) recent.pop_front();
      continue;
    }
    AddLine(out.back(), l.shown);
    if (EndsReport(l.message)) {
      open = false;
      recent.clear();
    }
  }
  return out;
}

std::vector<std::string> KernelMessages(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& raw : lines) {
    Line l = Parse(raw);
    if (l.kernel) out.push_back(std::move(l.shown));
  }
  return out;
}

std::string FormatKernelReport(const KernelReport& report) {
  std::string out;
  for (const auto& line : report.lines) out += (out.empty() ? "" : "\n") + line;
  if (report.more > 0) out += "\n(" + std::to_string(report.more) + " more lines)";
  if (report.repeats > 1) out += " (printed " + std::to_string(report.repeats) + " times)";
  return out;
}

}  // namespace ovl::model
