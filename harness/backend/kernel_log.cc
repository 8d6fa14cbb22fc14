#include "backend/kernel_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/fd.h"

namespace ovl::backend {
namespace {

constexpr int kLevelDebug = 7;
// Larger than any record: the kernel's records hold at most 1024 bytes of text (escaped up to
// four times as long), and a read into a smaller buffer fails with EINVAL.
constexpr size_t kRecordBuffer = 16 * 1024;

void Add(KernelLines& out, std::string line) {
  if (out.lines.size() < kMaxKernelLines) {
    out.lines.push_back(std::move(line));
  } else {
    ++out.dropped;
  }
}

class HostKernelLog final : public KernelLog {
 public:
  explicit HostKernelLog(Fd fd) : fd_(std::move(fd)) {}

  Result<KernelLines> Read() override {
    KernelLines out;
    std::string buf(kRecordBuffer, '\0');
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      // The ring buffer overwrote records not yet read: the next read goes on after them.
      if (n < 0 && errno == EPIPE) {
        ++out.dropped;
        continue;
      }
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return Status::FromErrno("read /dev/kmsg");
      if (n == 0) break;
      const std::string line = KmsgRecordLine(std::string_view(buf.data(), n));
      if (line.empty()) continue;
      // A record of several lines (newlines escaped as \x0a; a backslash itself is \x5c)
      // becomes several console lines, as the kernel prints it on a console.
      const std::string prefix = line.substr(0, line.find("] ") + 2);
      size_t from = prefix.size();
      for (size_t nl; (nl = line.find("\\x0a", from)) != std::string::npos; from = nl + 4) {
        Add(out, prefix + line.substr(from, nl - from));
      }
      Add(out, prefix + line.substr(from));
    }
    return out;
  }

 private:
  Fd fd_;
};

class ConsoleLog final : public KernelLog {
 public:
  ConsoleLog(std::string path, off_t offset, bool mid_line)
      : path_(std::move(path)), offset_(offset), mid_line_(mid_line) {}

  Result<KernelLines> Read() override {
    KernelLines out;
    Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("open " + path_);
    std::string text;
    char buf[65536];
    for (off_t at = offset_;;) {
      const ssize_t n = ::pread(fd.get(), buf, sizeof buf, at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("read " + path_);
      if (n == 0) break;
      text.append(buf, n);
      at += n;
    }
    size_t pos = 0;
    if (mid_line_) {
      const size_t nl = text.find('\n');
      if (nl == std::string::npos) return out;
      pos = nl + 1;
      mid_line_ = false;
    }
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      std::string line = text.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Add(out, std::move(line));
    }
    // What follows the last newline is read again next time.
    offset_ += static_cast<off_t>(pos);
    return out;
  }

 private:
  std::string path_;
  off_t offset_;
  bool mid_line_;  // the mark cut a line: its rest is skipped
};

}  // namespace

std::string KmsgRecordLine(std::string_view record) {
  const size_t semi = record.find(';');
  if (semi == std::string_view::npos) return "";
  unsigned prio = 0;
  unsigned long long seq = 0, usec = 0;
  const std::string head(record.substr(0, semi));
  if (std::sscanf(head.c_str(), "%u,%llu,%llu", &prio, &seq, &usec) != 3) return "";
  if ((prio >> 3) != 0 || (prio & 7) == kLevelDebug) return "";
  std::string_view text = record.substr(semi + 1);
  text = text.substr(0, text.find('\n'));  // the dictionary lines follow
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "<%u>[%5llu.%06llu] ", prio, usec / 1000000, usec % 1000000);
  return prefix + std::string(text);
}

Result<std::unique_ptr<KernelLog>> OpenHostKernelLog(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + path);
  if (::lseek(fd.get(), 0, SEEK_END) < 0) return Status::FromErrno("seek to the end of " + path);
  return std::unique_ptr<KernelLog>(new HostKernelLog(std::move(fd)));
}

Result<std::unique_ptr<KernelLog>> OpenConsoleLog(const std::string& path) {
  // A console not written yet is empty: its lines all come after the mark.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() && errno != ENOENT) return Status::FromErrno("open " + path);
  struct stat st {};
  const off_t size = fd.valid() && ::fstat(fd.get(), &st) == 0 ? st.st_size : 0;
  char last = '\n';
  if (size > 0 && ::pread(fd.get(), &last, 1, size - 1) != 1) {
    return Status::FromErrno("read " + path);
  }
  return std::unique_ptr<KernelLog>(new ConsoleLog(path, size, last != '\n'));
}

}  // namespace ovl::backend
