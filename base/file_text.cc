#include "base/file_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <sstream>

namespace ovl {

std::optional<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

Status WriteFileText(const std::string& path, const std::string& text, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno("open " + path);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = n < 0 ? Status::FromErrno("write " + path)
                        : Status::Error(ENOSPC, "write " + path + ": no progress");
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::FromErrno("close " + path);
  return Status::Ok();
}

std::string TailOfFile(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += l + "\n";
  return out;
}

}  // namespace ovl
