#include "model/checks.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>

namespace ovl::model {
namespace {

// Keeps the contents at `keep` (indices, ascending), without copying any data.
void KeepContents(Object* o, const std::vector<size_t>& keep) {
  std::vector<Content> kept;
  for (size_t i : keep) kept.push_back(std::move(o->contents[i]));
  o->contents = std::move(kept);
}

// The bytes a READ of `op` can return from `data`.
uint64_t Available(const std::string& data, const ops::Op& op) {
  return op.offset >= data.size() ? 0 : std::min<uint64_t>(op.count, data.size() - op.offset);
}

// Objects larger than this are not searched when naming whose data a wrong read returned.
constexpr size_t kMaxSearchSize = 64u << 20;

std::string HexHandle(const std::string& handle) {
  return handle.empty() ? "(empty)" : ops::Hex(handle);
}

std::string Slice(const std::string& data, uint64_t offset, uint64_t length) {
  if (offset >= data.size()) return "";
  return data.substr(offset, length);
}

// " - that is the data of d/b" when `digest` is another object's bytes at `offset`.
std::string WhoseData(const State& s, ObjId except, uint64_t offset, uint64_t length,
                      uint64_t digest) {
  if (length == 0) return "";
  for (const auto& [id, o] : s.objects) {
    if (id == except || o.type != Type::kReg) continue;
    for (const Content& c : o.contents) {
      if (c.now.size() > kMaxSearchSize || c.now.size() < offset + length) continue;
      if (ops::DataDigest(c.now.substr(offset, length)) == digest) {
        return " - that is the data of " + s.Describe(id);
      }
    }
  }
  return "";
}

std::string JoinNames(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string DescribeData(uint64_t length, uint64_t digest) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%" PRIu64 " bytes, digest %016" PRIx64, length, digest);
  return buf;
}

}  // namespace

std::string DescribeOk(const State& s, const ops::Op& op, const ops::Result& r) {
  std::string out = "ok";
  if (r.attrs) {
    out += ", fileid " + std::to_string(r.attrs->fileid);
    for (const auto& [id, fileid] : s.fileid) {
      if (fileid == r.attrs->fileid) out += " (" + s.Describe(id) + "'s)";
    }
  }
  if (op.kind == ops::Kind::kRead) {
    out += ", " + DescribeData(r.DataLength(), r.DataDigestValue()) +
           WhoseData(s, kRootId, op.offset, r.DataLength(), r.DataDigestValue());
  }
  return out;
}

bool CheckHandle(State& s, ObjId obj, const std::string& handle, std::vector<Issue>* issues) {
  if (handle.empty()) return true;
  auto owner = s.handle_owner.find(handle);
  if (owner != s.handle_owner.end() && owner->second != obj) {
    issues->push_back({Severity::kMust, "handle-reused", "a handle of " + s.Describe(obj),
                       HexHandle(handle) + ", the handle of " + s.Describe(owner->second)});
    return false;
  }
  auto mine = s.handle_of.find(obj);
  if (mine != s.handle_of.end() && mine->second != handle) {
    issues->push_back({Severity::kMust, "handle-changed",
                       "the handle " + s.Describe(obj) + " always had: " + HexHandle(mine->second),
                       HexHandle(handle)});
    return false;
  }
  s.handle_owner[handle] = obj;
  s.handle_of[obj] = handle;
  return true;
}

void CheckAttrs(State& s, ObjId obj, const ops::Attrs& attrs, bool sweep,
                std::vector<Issue>* issues) {
  Object& o = s.Get(obj);
  const std::string what = s.Describe(obj);
  if (attrs.type != TypeName(o.type)) {
    issues->push_back(
        {Severity::kMust, "type", std::string(TypeName(o.type)) + " (" + what + ")", attrs.type});
  }
  auto known = s.fileid.find(obj);
  auto last = s.last_fileid.find(obj);
  const bool as_last = last != s.last_fileid.end() && last->second == attrs.fileid;
  if (known != s.fileid.end()) {
    if (known->second != attrs.fileid && !(sweep && as_last)) {
      issues->push_back({Severity::kMust, "fileid-changed",
                         "fileid " + std::to_string(known->second) + " of " + what,
                         "fileid " + std::to_string(attrs.fileid)});
    }
  } else {
    for (const auto& [other, id] : s.fileid) {
      if (id == attrs.fileid && s.Alive(other)) {
        issues->push_back({Severity::kMay, "fileid-shared", "a fileid of its own for " + what,
                           "fileid " + std::to_string(id) + ", also " + s.Describe(other) + "'s"});
      }
    }
    s.fileid[obj] = attrs.fileid;
  }
  if (!sweep) s.last_fileid[obj] = attrs.fileid;
  if (o.type == Type::kReg) {
    // A file open after its last name went: local file systems say nlink 0, a kernel NFS
    // client's renamed-away file 1 (State::open_files).
    if (attrs.nlink != o.names.size() && s.Alive(obj)) {
      issues->push_back({Severity::kMust, "nlink",
                         "nlink " + std::to_string(o.names.size()) + " (" + what + ")",
                         "nlink " + std::to_string(attrs.nlink)});
    }
    if (!o.content_unknown) {
      std::vector<size_t> fit;
      for (size_t i = 0; i < o.contents.size(); ++i) {
        if (o.contents[i].now.size() == attrs.size) fit.push_back(i);
      }
      if (fit.empty()) {
        issues->push_back(
            {Severity::kMust, "size",
             "size " + std::to_string(o.contents.front().now.size()) + " (" + what + ")",
             "size " + std::to_string(attrs.size)});
      } else {
        KeepContents(&o, fit);
      }
    }
  } else if (o.type == Type::kLnk && attrs.size != o.contents.front().now.size()) {
    issues->push_back(
        {Severity::kMay, "size",
         "size " + std::to_string(o.contents.front().now.size()) + " (the length of the target)",
         "size " + std::to_string(attrs.size)});
  }
  if (o.mode && (attrs.mode & 07777) != *o.mode) {
    char want[16], got[16];
    std::snprintf(want, sizeof want, "%04o", *o.mode);
    std::snprintf(got, sizeof got, "%04o", attrs.mode & 07777);
    issues->push_back(
        {Severity::kMay, "mode", std::string("mode ") + want, std::string("mode ") + got});
  }
}

void CheckRead(State& s, ObjId obj, const ops::Op& op, const ops::Result& r,
               std::vector<Issue>* issues) {
  Object& o = s.Get(obj);
  if (o.content_unknown) return;
  const uint64_t length = r.DataLength();
  const uint64_t digest = r.DataDigestValue();
  std::vector<size_t> fit;
  for (size_t i = 0; i < o.contents.size(); ++i) {
    const std::string& now = o.contents[i].now;
    if (length <= Available(now, op) && ops::DataDigest(Slice(now, op.offset, length)) == digest) {
      fit.push_back(i);
    }
  }
  if (fit.empty()) {
    const std::string want = Slice(o.contents.front().now, op.offset, op.count);
    issues->push_back(
        {Severity::kMust, "data",
         DescribeData(want.size(), ops::DataDigest(want)) + " of " + s.Describe(obj) +
             " at offset " + std::to_string(op.offset) +
             (o.contents.size() > 1 ? " (or another content a restart may have left)" : ""),
         DescribeData(length, digest) + WhoseData(s, obj, op.offset, length, digest)});
    return;
  }
  KeepContents(&o, fit);
  const uint64_t size = o.contents.front().now.size();
  if (length == 0 && Available(o.contents.front().now, op) > 0) {
    issues->push_back({Severity::kMay, "short-read",
                       std::to_string(Available(o.contents.front().now, op)) + " bytes",
                       "0 bytes before the end of the file"});
  }
  const bool at_end = op.offset + length >= size;
  if (r.eof != at_end && o.contents.size() == 1) {
    issues->push_back({Severity::kMay, "eof", at_end ? "eof at the end of the file" : "no eof",
                       r.eof ? "eof" : "no eof"});
  }
}

void CheckReaddir(State& s, ObjId dir, const ops::Op& op, const ops::Result& r,
                  std::vector<Issue>* issues) {
  std::set<std::string> now;
  for (const auto& [name, id] : s.Get(dir).entries) now.insert(name);
  Listing page_only{dir, {}, now, now, false};
  Listing* l = &page_only;
  Listing fresh{dir, {}, now, now, false};
  if (!op.resume.empty()) {
    auto it = s.listings.find({op.client, op.resume});
    if (it == s.listings.end()) return;  // the agent had no position either (NOVAR)
    l = &it->second;
  } else if (op.cookie == 0) {
    l = &fresh;
  }
  const bool listing = l != &page_only;
  std::set<std::string> duplicates, ghosts;
  for (const ops::DirEntry& e : r.entries) {
    if (e.name == "." || e.name == "..") continue;
    if (!l->ever.count(e.name) && !now.count(e.name)) ghosts.insert(e.name);
    if (!l->seen.insert(e.name).second && !l->broken) duplicates.insert(e.name);
  }
  if (!ghosts.empty()) {
    issues->push_back({Severity::kMust, "readdir-ghost",
                       "only names that existed during the listing of " + s.Describe(dir),
                       JoinNames(ghosts)});
  }
  if (!duplicates.empty()) {
    issues->push_back({Severity::kMust, "readdir-duplicate",
                       "each name once in the listing of " + s.Describe(dir),
                       "again: " + JoinNames(duplicates)});
  }
  if (r.eof && listing && !l->broken) {
    std::set<std::string> missing;
    std::set_difference(l->always.begin(), l->always.end(), l->seen.begin(), l->seen.end(),
                        std::inserter(missing, missing.end()));
    if (!missing.empty()) {
      issues->push_back({Severity::kMust, "readdir-gap",
                         "every name present throughout the listing of " + s.Describe(dir),
                         "missing: " + JoinNames(missing)});
    }
  }
  if (!op.save.empty() && listing) s.listings[{op.client, op.save}] = *l;
}

}  // namespace ovl::model
