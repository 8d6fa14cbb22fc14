#include "nfs4/client_record.h"

#include <fcntl.h>

namespace ovl::nfs4 {

namespace {

constexpr const char* kRecord = "nfs4-clients";
constexpr const char* kScratch = "nfs4-clients.tmp";
constexpr char kHex[] = "0123456789abcdef";
// One owner per line, hex-encoded (owners are opaque bytes, up to 1024 of them).
constexpr size_t kMaxLine = 2 * 1024;

std::string ToHex(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool FromHex(const std::string& s, std::string* out) {
  if (s.size() % 2 != 0 || s.size() > kMaxLine) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

Result<ClientRecord> ClientRecord::Open(FsEnv* env, const std::string& work_dir,
                                        size_t max_owners) {
  int raw = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return Status::FromErrno("open work dir " + work_dir);
  Fd work(raw);
  OVL_ASSIGN_OR_RETURN(Fd dir, env->OpenBeneath(work.get(), "ovlnfsd", O_RDONLY | O_DIRECTORY));
  ClientRecord record(env, std::move(dir));
  Result<Fd> f = env->OpenBeneath(record.dir_.get(), kRecord, O_RDONLY);
  if (!f.ok()) {
    if (f.status().code() == ENOENT) return record;
    return f.status();
  }
  std::string text;
  char buf[65536];
  for (;;) {
    OVL_ASSIGN_OR_RETURN(size_t n, env->PRead(f->get(), buf, sizeof buf, text.size()));
    if (n == 0) break;
    text.append(buf, n);
    if (text.size() > max_owners * (kMaxLine + 1)) break;
  }
  size_t pos = 0;
  while (pos < text.size() && record.owners_.size() < max_owners) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // a torn last line cannot happen (rename), but skip it
    std::string owner;
    if (FromHex(text.substr(pos, nl - pos), &owner) && !owner.empty()) {
      record.owners_.insert(owner);
    }
    pos = nl + 1;
  }
  return record;
}

Status ClientRecord::Write(const std::vector<std::string>& owners) {
  std::string text;
  for (const std::string& o : owners) text += ToHex(o) + "\n";
  OVL_ASSIGN_OR_RETURN(Fd f,
                       env_->OpenBeneath(dir_.get(), kScratch, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  OVL_ASSIGN_OR_RETURN(size_t n, env_->PWrite(f.get(), text.data(), text.size(), 0));
  if (n != text.size()) return Status::Error(EIO, "short write of the NFSv4 client record");
  OVL_RETURN_IF_ERROR(env_->Fsync(f.get()));
  OVL_RETURN_IF_ERROR(env_->Rename(dir_.get(), kScratch, dir_.get(), kRecord, 0));
  return env_->Fsync(dir_.get());
}

}  // namespace ovl::nfs4
