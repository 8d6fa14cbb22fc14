#include "backend/overlay_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "base/fd.h"

namespace ovl::backend {
namespace {

constexpr std::chrono::seconds kBusyTimeout{15};

// The "overlayfs:" messages the kernel logged since `kmsg` was positioned, "; "-separated.
std::string OverlayMessages(int kmsg) {
  // A mount retried on EBUSY logs the same line on every try: each distinct line once, in order,
  // with how often it came.
  std::vector<std::pair<std::string, int>> lines;
  char record[8192];
  for (;;) {
    const ssize_t n = ::read(kmsg, record, sizeof record - 1);
    if (n < 0 && errno == EPIPE) continue;  // records were overwritten meanwhile
    if (n <= 0) break;
    // "<prio>,<seq>,<usec>,<flags>;<message>\n[continuation lines]"
    std::string line(record, static_cast<size_t>(n));
    const size_t semi = line.find(';');
    if (semi == std::string::npos) continue;
    line = line.substr(semi + 1, line.find('\n', semi) - semi - 1);
    if (line.rfind("overlayfs:", 0) != 0) continue;
    auto seen = std::find_if(lines.begin(), lines.end(),
                             [&line](const auto& l) { return l.first == line; });
    if (seen == lines.end()) {
      lines.emplace_back(std::move(line), 1);
    } else {
      ++seen->second;
    }
  }
  std::string out;
  for (const auto& [line, count] : lines) {
    out += (out.empty() ? "" : "; ") + line;
    if (count > 1) out += " (" + std::to_string(count) + " times)";
  }
  return out;
}

}  // namespace

Status MountOverlayAs(const std::string& source, const std::string& at, const std::string& options,
                      std::string* notes) {
  // Positioned at the end: only what the kernel logs from now on is read.
  Fd kmsg(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (kmsg.valid()) (void)::lseek(kmsg.get(), 0, SEEK_END);
  const auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
  while (::mount(source.c_str(), at.c_str(), "overlay", 0, options.c_str()) != 0) {
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      const int err = errno;
      std::string why = "mount -t overlay -o " + options + ": " + std::strerror(err);
      if (kmsg.valid()) {
        const std::string said = OverlayMessages(kmsg.get());
        if (!said.empty()) why += " (kernel: " + said + ")";
      }
      return Status::Error(err, why);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (notes != nullptr) *notes = kmsg.valid() ? OverlayMessages(kmsg.get()) : "";
  return Status::Ok();
}

}  // namespace ovl::backend
