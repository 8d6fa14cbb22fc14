#include "ops/ops.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <utility>

namespace ovl::ops {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Kind, const char*>, 17> kKindNames{{
    {Kind::kLookup, "lookup"},
    {Kind::kGetAttr, "getattr"},
    {Kind::kSetAttr, "setattr"},
    {Kind::kRead, "read"},
    {Kind::kWrite, "write"},
    {Kind::kCommit, "commit"},
    {Kind::kCreate, "create"},
    {Kind::kMkdir, "mkdir"},
    {Kind::kSymlink, "symlink"},
    {Kind::kRemove, "remove"},
    {Kind::kRmdir, "rmdir"},
    {Kind::kRename, "rename"},
    {Kind::kLink, "link"},
    {Kind::kReaddir, "readdir"},
    {Kind::kReadlink, "readlink"},
    {Kind::kOpen, "open"},
    {Kind::kClose, "close"},
}};

constexpr std::array<const char*, 3> kStableNames{"unstable", "data_sync", "file_sync"};
constexpr std::array<const char*, 3> kHowNames{"unchecked", "guarded", "exclusive"};
constexpr std::array<const char*, 3> kOutcomeNames{"ok", "error", "unknown"};

// Parse failures inside from_json are thrown (nlohmann's ADL hooks have no other channel) as
// nlohmann exceptions, like its own type errors, so one `catch (const json::exception&)` at the
// parse API covers both; OpFromJson / ResultFromJson / the history reader catch them.
[[noreturn]] void Bad(const std::string& what) {
  throw nlohmann::json::other_error::create(501, what, nullptr);
}

template <size_t N>
int IndexOf(const std::array<const char*, N>& names, const std::string& name, const char* field) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  Bad(std::string("bad ") + field + " \"" + name + "\"");
}

std::string UnhexOrThrow(const json& j, const char* field) {
  std::optional<std::string> bytes = Unhex(j.get<std::string>());
  if (!bytes) Bad(std::string(field) + " is not a hex string");
  return *bytes;
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

uint64_t ParseHex64(const json& j, const char* field) {
  const std::string s = j.get<std::string>();
  if (s.empty() || s.size() > 16 || s.find_first_not_of("0123456789abcdefABCDEF") != s.npos) {
    Bad(std::string(field) + " is not a 64-bit hex number");
  }
  return std::stoull(s, nullptr, 16);
}

json TargetToJson(const Target& t) {
  json o = json::object();
  if (!t.path.empty()) o["path"] = t.path;
  if (!t.var.empty()) o["var"] = t.var;
  if (!t.fd.empty()) o["fd"] = t.fd;
  if (t.raw) o["raw"] = Hex(*t.raw);
  if (!t.mutate.empty()) o["mutate"] = t.mutate;
  if (t.sweep) {
    json& w = o["sweep"] = {{"of", t.sweep->of}};
    if (t.sweep->mask != 0) {
      w["offset"] = t.sweep->offset;
      w["mask"] = t.sweep->mask;
    } else {
      w["length"] = t.sweep->length;
    }
  }
  return o;
}

Target TargetFromJson(const json& j) {
  Target t;
  if (!j.is_object()) Bad("target is not an object");
  if (j.contains("path")) t.path = j.at("path").get<std::string>();
  if (j.contains("var")) t.var = j.at("var").get<std::string>();
  if (j.contains("fd")) t.fd = j.at("fd").get<std::string>();
  if (j.contains("raw")) t.raw = UnhexOrThrow(j.at("raw"), "target.raw");
  if (j.contains("mutate")) t.mutate = j.at("mutate").get<std::string>();
  if (j.contains("sweep")) {
    const json& w = j.at("sweep");
    SweepPoint p;
    p.of = w.at("of").get<std::string>();
    if (w.contains("mask")) {
      const uint32_t mask = w.at("mask").get<uint32_t>();
      if (mask == 0 || mask > 0xff) Bad("sweep.mask is not in 1..255");
      p.mask = static_cast<uint8_t>(mask);
      p.offset = w.at("offset").get<uint32_t>();
    } else {
      p.length = w.at("length").get<uint32_t>();
    }
    t.sweep = std::move(p);
  }
  return t;
}

}  // namespace

uint64_t DataDigest(const std::string& data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t Result::DataLength() const {
  return data.empty() ? data_len : data.size();
}

uint64_t Result::DataDigestValue() const {
  return data.empty() && data_len > 0 ? data_digest : DataDigest(data);
}

bool Modifies(Kind k) {
  switch (k) {
    case Kind::kSetAttr:
    case Kind::kWrite:
    case Kind::kCommit:
    case Kind::kCreate:
    case Kind::kMkdir:
    case Kind::kSymlink:
    case Kind::kRemove:
    case Kind::kRmdir:
    case Kind::kRename:
    case Kind::kLink:
      return true;
    default:
      return false;
  }
}

std::string KindName(Kind k) {
  for (const auto& [kind, name] : kKindNames) {
    if (kind == k) return name;
  }
  return "?";
}

std::optional<Kind> KindFromName(const std::string& name) {
  for (const auto& [kind, n] : kKindNames) {
    if (name == n) return kind;
  }
  return std::nullopt;
}

void to_json(nlohmann::json& j, const Op& op) {
  j = json::object();
  j["seq"] = op.seq;
  if (!op.client.empty()) j["client"] = op.client;
  j["kind"] = KindName(op.kind);
  j["target"] = TargetToJson(op.target);
  if (!op.name.empty()) j["name"] = op.name;
  const json t2 = TargetToJson(op.target2);
  if (!t2.empty()) j["target2"] = t2;
  if (!op.name2.empty()) j["name2"] = op.name2;
  if (!op.save.empty()) j["save"] = op.save;
  if (!op.fd.empty()) j["fd"] = op.fd;
  if (op.offset != 0) j["offset"] = op.offset;
  if (op.count != 0) j["count"] = op.count;
  if (op.kind == Kind::kWrite) {
    j["data"] = Hex(op.data);
    j["stable"] = kStableNames[static_cast<int>(op.stable)];
  }
  if (op.size) j["size"] = *op.size;
  if (op.mode) j["mode"] = *op.mode;
  if (op.kind == Kind::kCreate) {
    j["how"] = kHowNames[static_cast<int>(op.how)];
    if (op.how == CreateHow::kExclusive) {
      j["verifier"] = Hex(std::string(op.verifier.begin(), op.verifier.end()));
    }
  }
  if (!op.link_target.empty()) j["link_target"] = op.link_target;
  if (op.cookie != 0) j["cookie"] = op.cookie;
  if (op.max_entries != 0) j["max_entries"] = op.max_entries;
  if (!op.resume.empty()) j["resume"] = op.resume;
  if (op.step != 0) j["step"] = op.step;
  if (op.may) j["check"] = "may";
}

void from_json(const nlohmann::json& j, Op& op) {
  op = Op();
  if (!j.is_object()) Bad("op is not an object");
  op.seq = j.at("seq").get<uint64_t>();
  if (j.contains("client")) op.client = j.at("client").get<std::string>();
  const std::string kind = j.at("kind").get<std::string>();
  std::optional<Kind> k = KindFromName(kind);
  if (!k) Bad("unknown op kind \"" + kind + "\"");
  op.kind = *k;
  if (j.contains("target")) op.target = TargetFromJson(j.at("target"));
  if (j.contains("name")) op.name = j.at("name").get<std::string>();
  if (j.contains("target2")) op.target2 = TargetFromJson(j.at("target2"));
  if (j.contains("name2")) op.name2 = j.at("name2").get<std::string>();
  if (j.contains("save")) op.save = j.at("save").get<std::string>();
  if (j.contains("fd")) op.fd = j.at("fd").get<std::string>();
  if (j.contains("offset")) op.offset = j.at("offset").get<uint64_t>();
  if (j.contains("count")) op.count = j.at("count").get<uint32_t>();
  if (j.contains("data")) op.data = UnhexOrThrow(j.at("data"), "data");
  if (j.contains("stable")) {
    op.stable =
        static_cast<Stable>(IndexOf(kStableNames, j.at("stable").get<std::string>(), "stable"));
  }
  if (j.contains("size")) op.size = j.at("size").get<uint64_t>();
  if (j.contains("mode")) op.mode = j.at("mode").get<uint32_t>();
  if (j.contains("how")) {
    op.how = static_cast<CreateHow>(IndexOf(kHowNames, j.at("how").get<std::string>(), "how"));
  }
  if (j.contains("verifier")) {
    const std::string v = UnhexOrThrow(j.at("verifier"), "verifier");
    if (v.size() != op.verifier.size()) Bad("verifier is not 8 bytes");
    std::copy(v.begin(), v.end(), op.verifier.begin());
  }
  if (j.contains("link_target")) op.link_target = j.at("link_target").get<std::string>();
  if (j.contains("cookie")) op.cookie = j.at("cookie").get<uint64_t>();
  if (j.contains("max_entries")) op.max_entries = j.at("max_entries").get<uint32_t>();
  if (j.contains("resume")) op.resume = j.at("resume").get<std::string>();
  if (j.contains("step")) op.step = j.at("step").get<uint32_t>();
  if (j.contains("check")) {
    if (j.at("check").get<std::string>() != "may") Bad("check must be \"may\"");
    op.may = true;
  }
}

nlohmann::json ResultToJson(const Result& r, bool with_data) {
  json j = json::object();
  j["outcome"] = kOutcomeNames[static_cast<int>(r.outcome)];
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.handle.empty()) j["handle"] = Hex(r.handle);
  if (r.attrs) {
    j["attrs"] = {{"type", r.attrs->type},
                  {"size", r.attrs->size},
                  {"fileid", r.attrs->fileid},
                  {"nlink", r.attrs->nlink},
                  {"mode", r.attrs->mode}};
  }
  if (with_data) {
    if (!r.data.empty()) j["data"] = Hex(r.data);
  } else if (r.DataLength() > 0) {
    j["data_len"] = r.DataLength();
    j["data_digest"] = Hex64(r.DataDigestValue());
  }
  if (r.eof) j["eof"] = true;
  if (r.count != 0) j["count"] = r.count;
  if (r.committed != Stable::kFileSync)
    j["committed"] = kStableNames[static_cast<int>(r.committed)];
  if (r.verifier) j["verifier"] = Hex64(*r.verifier);
  if (!r.entries.empty()) {
    json& entries = j["entries"] = json::array();
    for (const DirEntry& e : r.entries) entries.push_back({{"name", e.name}, {"cookie", e.cookie}});
  }
  if (!r.link_target.empty()) j["link_target"] = r.link_target;
  return j;
}

void from_json(const nlohmann::json& j, Result& r) {
  r = Result();
  if (!j.is_object()) Bad("result is not an object");
  r.outcome = static_cast<Result::Outcome>(
      IndexOf(kOutcomeNames, j.at("outcome").get<std::string>(), "outcome"));
  if (j.contains("error")) r.error = j.at("error").get<std::string>();
  if (j.contains("handle")) r.handle = UnhexOrThrow(j.at("handle"), "handle");
  if (j.contains("attrs")) {
    const json& a = j.at("attrs");
    r.attrs = Attrs{a.at("type").get<std::string>(), a.at("size").get<uint64_t>(),
                    a.at("fileid").get<uint64_t>(), a.at("nlink").get<uint32_t>(),
                    a.at("mode").get<uint32_t>()};
  }
  if (j.contains("data")) r.data = UnhexOrThrow(j.at("data"), "data");
  if (j.contains("data_len")) {
    if (!r.data.empty()) Bad("both data and data_len");
    r.data_len = j.at("data_len").get<uint64_t>();
    r.data_digest = ParseHex64(j.at("data_digest"), "data_digest");
  }
  if (j.contains("eof")) r.eof = j.at("eof").get<bool>();
  if (j.contains("count")) r.count = j.at("count").get<uint32_t>();
  if (j.contains("committed")) {
    r.committed = static_cast<Stable>(
        IndexOf(kStableNames, j.at("committed").get<std::string>(), "committed"));
  }
  if (j.contains("verifier")) r.verifier = ParseHex64(j.at("verifier"), "verifier");
  if (j.contains("entries")) {
    for (const json& e : j.at("entries")) {
      r.entries.push_back({e.at("name").get<std::string>(), e.at("cookie").get<uint64_t>()});
    }
  }
  if (j.contains("link_target")) r.link_target = j.at("link_target").get<std::string>();
}

ovl::Result<Op> OpFromJson(const nlohmann::json& j) {
  try {
    return j.get<Op>();
  } catch (const std::exception& e) {
    return Status::Error(EINVAL, std::string("op: ") + e.what());
  }
}

ovl::Result<Result> ResultFromJson(const nlohmann::json& j) {
  try {
    return j.get<Result>();
  } catch (const std::exception& e) {
    return Status::Error(EINVAL, std::string("result: ") + e.what());
  }
}

std::optional<std::string> MutateHandle(const std::string& handle, const std::string& how) {
  std::string h = handle;
  auto invert = [&h](size_t from, size_t to) {
    for (size_t i = from; i < to && i < h.size(); ++i) h[i] = static_cast<char>(~h[i]);
  };
  if (how == "truncate") return h.substr(0, h.size() / 2);
  if (how == "extend") {
    h.resize(65, '\0');
    return h;
  }
  if (how == "flip-magic") {
    invert(0, 2);
    return h;
  }
  if (how == "flip-version") {
    invert(2, 3);
    return h;
  }
  if (how == "wrong-uuid") {
    if (h.size() >= 24) {
      invert(8, 24);
    } else if (!h.empty()) {
      invert(h.size() - 1, h.size());
    }
    return h;
  }
  if (how == "zero") return std::string();
  return std::nullopt;
}

const std::vector<std::string>& MutationNames() {
  static const std::vector<std::string> kNames{"truncate",     "extend",     "flip-magic",
                                               "flip-version", "wrong-uuid", "zero"};
  return kNames;
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace ovl::ops
