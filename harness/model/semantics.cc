#include "model/semantics.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>

#include "model/checks.h"

namespace ovl::model {
namespace {

using ops::Kind;

// Errors a malformed handle may get: the NFS ones, an RPC layer refusing an oversize handle as
// garbage, or the client library refusing to send it at all (reported, not failed).
const std::set<std::string> kMalformedErrors{"BADHANDLE", "STALE", "RPC_GARBAGE_ARGS", "NOT_SENT"};

// What the model allows an operation to return in one state.
struct Plan {
  enum class Outcome { kUnchecked, kOk, kError };
  Outcome outcome = Outcome::kOk;
  // kError: the errors that fit; another error breaks `rule` with `code_severity` (a success
  // always breaks it as a MUST).
  std::set<std::string> errors;
  Severity code_severity = Severity::kMust;
  std::string rule;
  std::string why;
  ObjId obj = kRootId;          // the target (the directory of an entry op)
  ObjId dir2 = kRootId;         // rename / link destination directory
  std::optional<ObjId> entry;   // what `name` names in obj now
  std::optional<ObjId> entry2;  // what `name2` names in dir2 now
  // The target is a held handle of an object an offline edit touched: an error is allowed.
  bool may_fail = false;
  // The target is a held handle of a removed object still open: STALE is allowed, any success
  // must be that object as it is.
  bool open_unlinked = false;
};

Plan Fail(std::set<std::string> errors, Severity code_severity, std::string rule, std::string why) {
  Plan p;
  p.outcome = Plan::Outcome::kError;
  p.errors = std::move(errors);
  p.code_severity = code_severity;
  p.rule = std::move(rule);
  p.why = std::move(why);
  return p;
}

std::string Join(const std::set<std::string>& names, const char* sep) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : sep) + n;
  return out;
}

std::string Entry(const State& s, ObjId dir, const std::string& name) {
  const std::string path = s.PathOf(dir);
  return path.empty() ? name : path + "/" + name;
}

// The object a target names, or the plan of its failure.
Plan ResolveTarget(const State& s, const std::string& client, const ops::Target& t) {
  Plan p;
  if (!t.fd.empty()) {
    // An open file reaches its object whatever became of its names.
    auto it = s.open_files.find({client, t.fd});
    if (it == s.open_files.end()) {
      p.outcome = Plan::Outcome::kUnchecked;  // the agent does not hold it either
      return p;
    }
    p.obj = it->second;
    return p;
  }
  if (t.raw) {
    auto it = s.handle_owner.find(*t.raw);
    if (it == s.handle_owner.end()) {
      return Fail(kMalformedErrors, Severity::kMust, "malformed-handle",
                  "a handle the server never gave");
    }
    p.obj = it->second;
  } else if (!t.var.empty()) {
    auto it = s.vars.find({client, t.var});
    if (it == s.vars.end()) {
      p.outcome = Plan::Outcome::kUnchecked;  // the agent does not hold it either
      return p;
    }
    if (!t.mutate.empty()) {
      return Fail(kMalformedErrors, Severity::kMust, "malformed-handle",
                  t.var + " corrupted by " + t.mutate);
    }
    p.obj = it->second.obj;
    p.may_fail = it->second.offline_may_fail;
  } else {
    const State::Resolved r = s.Resolve(t.path);
    if (!r.error.empty()) {
      return Fail({r.error}, r.error == "NOENT" ? Severity::kMust : Severity::kMay, "path",
                  "\"" + t.path + "\" does not resolve");
    }
    p.obj = r.id;
  }
  if (!s.Alive(p.obj) && s.IsOpen(p.obj)) {
    p.open_unlinked = true;
    return p;
  }
  if (!s.Alive(p.obj)) {
    // The rule the oracle exists for: STALE once the last name is gone. Any success is a
    // MUST violation; another error code only differs in wording.
    return Fail({"STALE"}, Severity::kMay, "stale-handle",
                "every name of " + s.Get(p.obj).label + " is gone");
  }
  p.may_fail = p.may_fail || ((t.raw || !t.var.empty()) && s.Get(p.obj).offline_touched);
  return p;
}

Plan NeedDir(const State& s, Plan p) {
  if (p.outcome == Plan::Outcome::kOk && s.Get(p.obj).type != Type::kDir) {
    return Fail({"NOTDIR"}, Severity::kMay, "wrong-type", s.Describe(p.obj) + " is not a dir");
  }
  return p;
}

Plan NeedFile(const State& s, Plan p) {
  if (p.outcome != Plan::Outcome::kOk) return p;
  const Type type = s.Get(p.obj).type;
  if (type == Type::kReg) return p;
  return Fail({type == Type::kDir ? "ISDIR" : "INVAL"}, Severity::kMay, "wrong-type",
              s.Describe(p.obj) + " is not a file");
}

std::optional<ObjId> Child(const State& s, ObjId dir, const std::string& name) {
  if (name == ".") return dir;
  if (name == "..") return s.Get(dir).names.empty() ? kRootId : s.Get(dir).names.front().first;
  const auto& entries = s.Get(dir).entries;
  auto it = entries.find(name);
  if (it == entries.end()) return std::nullopt;
  return it->second;
}

bool Inside(const State& s, ObjId dir, ObjId ancestor) {
  for (ObjId d = dir;; d = s.Get(d).names.front().first) {
    if (d == ancestor) return true;
    if (d == kRootId || s.Get(d).names.empty()) return false;
  }
}

Plan PredictEntry(const State& s, const ops::Op& op) {
  Plan p = NeedDir(s, ResolveTarget(s, op.client, op.target));
  if (p.outcome != Plan::Outcome::kOk) return p;
  p.entry = Child(s, p.obj, op.name);
  const std::string path = Entry(s, p.obj, op.name);
  switch (op.kind) {
    case Kind::kLookup:
      if (!p.entry) return Fail({"NOENT"}, Severity::kMust, "noent", path + " does not exist");
      return p;
    case Kind::kCreate:
      if (!p.entry) return p;
      if (op.how == ops::CreateHow::kExclusive) {
        const Object& e = s.Get(*p.entry);
        if (e.exclusive_verifier && *e.exclusive_verifier == op.verifier) return p;  // a replay
        return Fail({"EXIST"}, Severity::kMust, "exist",
                    path + " exists (not made by an exclusive create with this verifier)");
      }
      if (op.how == ops::CreateHow::kUnchecked && s.Get(*p.entry).type == Type::kReg) return p;
      return Fail({"EXIST", "ISDIR"},
                  op.how == ops::CreateHow::kGuarded ? Severity::kMust : Severity::kMay, "exist",
                  path + " exists");
    case Kind::kMkdir:
    case Kind::kSymlink:
      if (p.entry) return Fail({"EXIST"}, Severity::kMust, "exist", path + " exists");
      return p;
    case Kind::kRemove:
      if (!p.entry) return Fail({"NOENT"}, Severity::kMust, "noent", path + " does not exist");
      if (s.Get(*p.entry).type == Type::kDir) {
        return Fail({"ISDIR", "PERM", "ACCES", "INVAL"}, Severity::kMay, "wrong-type",
                    path + " is a dir");
      }
      return p;
    case Kind::kRmdir:
      if (!p.entry) return Fail({"NOENT"}, Severity::kMust, "noent", path + " does not exist");
      if (s.Get(*p.entry).type != Type::kDir) {
        return Fail({"NOTDIR"}, Severity::kMay, "wrong-type", path + " is not a dir");
      }
      if (!s.Get(*p.entry).entries.empty()) {
        return Fail({"NOTEMPTY", "EXIST"}, Severity::kMay, "notempty", path + " is not empty");
      }
      return p;
    default:
      return p;
  }
}

// The destination of rename and link: a directory and what name2 names there.
Plan PredictDestination(const State& s, const ops::Op& op, Plan p) {
  Plan d = NeedDir(s, ResolveTarget(s, op.client, op.target2));
  if (d.outcome != Plan::Outcome::kOk) return d;
  p.dir2 = d.obj;
  p.entry2 = Child(s, p.dir2, op.name2);
  return p;
}

Plan PredictRename(const State& s, const ops::Op& op) {
  Plan p = NeedDir(s, ResolveTarget(s, op.client, op.target));
  if (p.outcome != Plan::Outcome::kOk) return p;
  p.entry = Child(s, p.obj, op.name);
  if (!p.entry) {
    return Fail({"NOENT"}, Severity::kMust, "noent", Entry(s, p.obj, op.name) + " does not exist");
  }
  p = PredictDestination(s, op, p);
  if (p.outcome != Plan::Outcome::kOk) return p;
  const std::string to = Entry(s, p.dir2, op.name2);
  if (p.entry2 == p.entry) return p;  // two names of one object: nothing to do (POSIX)
  const Object& src = s.Get(*p.entry);
  if (src.type == Type::kDir) {
    if (Inside(s, p.dir2, *p.entry)) {
      return Fail({"INVAL"}, Severity::kMay, "rename-into-self", to + " is inside the moved dir");
    }
    if (p.entry2 && s.Get(*p.entry2).type != Type::kDir) {
      return Fail({"NOTDIR", "EXIST"}, Severity::kMay, "wrong-type", to + " is not a dir");
    }
    if (p.entry2 && !s.Get(*p.entry2).entries.empty()) {
      return Fail({"NOTEMPTY", "EXIST"}, Severity::kMay, "notempty", to + " is not empty");
    }
  } else if (p.entry2 && s.Get(*p.entry2).type == Type::kDir) {
    return Fail({"ISDIR", "EXIST"}, Severity::kMay, "wrong-type", to + " is a dir");
  }
  return p;
}

Plan PredictLink(const State& s, const ops::Op& op) {
  Plan p = ResolveTarget(s, op.client, op.target);
  if (p.outcome != Plan::Outcome::kOk) return p;
  if (s.Get(p.obj).type == Type::kDir) {
    return Fail({"ISDIR", "PERM", "INVAL"}, Severity::kMay, "wrong-type",
                s.Describe(p.obj) + " is a dir");
  }
  p = PredictDestination(s, op, p);
  if (p.outcome == Plan::Outcome::kOk && p.entry2) {
    return Fail({"EXIST"}, Severity::kMust, "exist", Entry(s, p.dir2, op.name2) + " exists");
  }
  return p;
}

Plan Predict(const State& s, const ops::Op& op) {
  switch (op.kind) {
    case Kind::kGetAttr:
      return ResolveTarget(s, op.client, op.target);
    case Kind::kSetAttr:
      return op.size ? NeedFile(s, ResolveTarget(s, op.client, op.target))
                     : ResolveTarget(s, op.client, op.target);
    case Kind::kRead:
    case Kind::kWrite:
    case Kind::kCommit:
      return NeedFile(s, ResolveTarget(s, op.client, op.target));
    case Kind::kReadlink: {
      Plan p = ResolveTarget(s, op.client, op.target);
      if (p.outcome == Plan::Outcome::kOk && s.Get(p.obj).type != Type::kLnk) {
        return Fail({"INVAL", "ISDIR"}, Severity::kMay, "wrong-type",
                    s.Describe(p.obj) + " is not a symlink");
      }
      return p;
    }
    case Kind::kReaddir:
      return NeedDir(s, ResolveTarget(s, op.client, op.target));
    case Kind::kOpen:
      return NeedFile(s, ResolveTarget(s, op.client, op.target));
    case Kind::kClose: {
      ops::Target t;
      t.fd = op.fd;
      return ResolveTarget(s, op.client, t);
    }
    case Kind::kRename:
      return PredictRename(s, op);
    case Kind::kLink:
      return PredictLink(s, op);
    default:
      return PredictEntry(s, op);
  }
}

void Put(std::string* data, uint64_t offset, const std::string& bytes) {
  if (data->size() < offset + bytes.size()) data->resize(offset + bytes.size(), '\0');
  data->replace(offset, bytes.size(), bytes);
}

void Dedup(Object* o) {
  std::vector<Content> unique;
  for (Content& c : o->contents) {
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(std::move(c));
  }
  o->contents = std::move(unique);
}

ObjId NewObject(State& s, const ops::Op& op, Type type) {
  const ObjId id = kCreatedBase + op.seq;
  Object o;
  o.type = type;
  if (type == Type::kReg) o.contents.push_back({"", ""});
  if (type == Type::kLnk) o.contents.push_back({op.link_target, op.link_target});
  // CREATE EXCLUSIVE keeps its verifier in the attributes; the client sets the mode after.
  if (type != Type::kLnk && op.how != ops::CreateHow::kExclusive) o.mode = op.mode;
  if (op.how == ops::CreateHow::kExclusive && type == Type::kReg) {
    o.exclusive_verifier = op.verifier;
  }
  s.objects[id] = std::move(o);
  return id;
}

// Applies `op` (which the model allows to succeed, as `p` says) to `s`. With `r`, also checks
// the result's payload and binds what it returns; `sweep`: `r` answers a corrupted copy of the
// handle `op` holds (CheckAttrs).
void Effect(State& s, const ops::Op& op, const Plan& p, const ops::Result* r, bool sweep,
            std::vector<Issue>* issues) {
  ObjId subject = p.obj;  // what the result's handle and attributes describe
  bool namespace_changed = false;
  switch (op.kind) {
    case Kind::kSetAttr: {
      s.upper.insert(p.obj);
      Object& o = s.Get(p.obj);
      if (op.mode) o.mode = *op.mode & 07777;
      if (op.size) {
        for (Content& c : o.contents) {
          c.now.resize(*op.size, '\0');
          c.durable.resize(*op.size, '\0');
        }
        Dedup(&o);
      }
      break;
    }
    case Kind::kWrite: {
      s.upper.insert(p.obj);
      Object& o = s.Get(p.obj);
      std::string bytes = op.data;
      if (r && r->count < bytes.size()) {
        issues->push_back({Severity::kMay, "short-write", std::to_string(bytes.size()) + " bytes",
                           std::to_string(r->count) + " bytes written"});
        bytes.resize(r->count);
      }
      const bool durable = (r ? r->committed : op.stable) != ops::Stable::kUnstable;
      for (Content& c : o.contents) {
        Put(&c.now, op.offset, bytes);
        if (durable) Put(&c.durable, op.offset, bytes);
      }
      Dedup(&o);
      break;
    }
    case Kind::kCommit:
      for (Content& c : s.Get(p.obj).contents) c.durable = c.now;
      Dedup(&s.Get(p.obj));
      break;
    case Kind::kLookup:
      subject = *p.entry;
      break;
    case Kind::kCreate:
    case Kind::kMkdir:
    case Kind::kSymlink:
      if (p.entry) {
        subject = *p.entry;
      } else {
        subject = NewObject(s, op,
                            op.kind == Kind::kMkdir     ? Type::kDir
                            : op.kind == Kind::kSymlink ? Type::kLnk
                                                        : Type::kReg);
        s.AddName(subject, p.obj, op.name);
        s.upper.insert({subject, p.obj});
        namespace_changed = true;
      }
      break;
    case Kind::kRemove:
    case Kind::kRmdir:
      s.RemoveName(p.obj, op.name);
      s.upper.insert(p.obj);
      s.removed.insert({p.obj, op.name});
      namespace_changed = true;
      break;
    case Kind::kRename:
      if (p.entry2 != p.entry) {
        if (p.entry2) s.RemoveName(p.dir2, op.name2);
        s.RemoveName(p.obj, op.name);
        s.AddName(*p.entry, p.dir2, op.name2);
        s.upper.insert({p.obj, p.dir2, *p.entry});
        s.removed.insert({p.obj, op.name});
        namespace_changed = true;
      }
      break;
    case Kind::kLink:
      s.AddName(p.obj, p.dir2, op.name2);
      s.upper.insert({p.obj, p.dir2});
      namespace_changed = true;
      break;
    case Kind::kOpen:
      s.open_files[{op.client, op.fd}] = p.obj;
      break;
    case Kind::kClose:
      s.open_files.erase({op.client, op.fd});
      break;
    default:
      break;
  }
  if (namespace_changed) s.RefreshListings();
  if (!r) return;
  switch (op.kind) {
    case Kind::kRead:
      CheckRead(s, subject, op, *r, issues);
      break;
    case Kind::kReadlink:
      if (r->link_target != s.Get(subject).contents.front().now) {
        issues->push_back({Severity::kMust, "readlink",
                           "\"" + s.Get(subject).contents.front().now + "\"",
                           "\"" + r->link_target + "\""});
      }
      break;
    case Kind::kReaddir:
      CheckReaddir(s, subject, op, *r, issues);
      break;
    default:
      break;
  }
  const bool yields_handle = op.kind == Kind::kLookup || op.kind == Kind::kCreate ||
                             op.kind == Kind::kMkdir || op.kind == Kind::kSymlink;
  if (yields_handle) {
    CheckHandle(s, subject, r->handle, issues);
    if (!op.save.empty() && !r->handle.empty()) s.vars[{op.client, op.save}] = {subject, r->handle};
  }
  if (r->attrs && op.kind != Kind::kRename && op.kind != Kind::kRemove && op.kind != Kind::kRmdir &&
      op.kind != Kind::kReaddir) {
    CheckAttrs(s, subject, *r->attrs, sweep, issues);
  }
}

// Errors a corrupted copy of a held handle may get (the sweep; the syscall path maps ESTALE to
// STALE, EINVAL and EBADF to BADHANDLE), besides what the held handle itself would get.
const std::set<std::string> kCorruptErrors{"BADHANDLE", "STALE", "INVAL"};

// Rules whose breach by a corrupted handle's answer means it reached another object, or the
// object's data as it no longer is.
const std::set<std::string> kIdentityRules{"type", "fileid-changed", "data", "handle-changed",
                                           "handle-reused"};

// The answer to `op`, whose raw target is a corruption of the handle held in sweep->of: an
// error, or exactly what the held handle would have answered, with the fileid the server last
// reported for its object (docs/scenarios.md, "Corrupted-handle sweep").
std::vector<Issue> StepSweep(State& s, const ops::Op& op, const ops::Result& r) {
  std::vector<Issue> issues;
  ops::Op held = op;
  held.target = ops::Target{};
  held.target.var = op.target.sweep->of;
  const Plan p = Predict(s, held);
  if (p.outcome == Plan::Outcome::kUnchecked) return issues;
  const std::string expected =
      "an error (" + Join(kCorruptErrors, ", ") + ") or what " + held.target.var + " answers";
  if (r.outcome == ops::Result::Outcome::kError) {
    if (!kCorruptErrors.count(r.error) &&
        !(p.outcome == Plan::Outcome::kError && p.errors.count(r.error))) {
      issues.push_back({Severity::kMust, "corrupt-handle", expected, r.error});
    }
    return issues;
  }
  if (p.outcome == Plan::Outcome::kError) {
    issues.push_back(
        {Severity::kMust, "corrupt-handle", "an error: " + p.why, DescribeOk(s, op, r)});
    return issues;
  }
  Effect(s, held, p, &r, /*sweep=*/true, &issues);
  for (Issue& issue : issues) {
    if (issue.severity != Severity::kMust || !kIdentityRules.count(issue.rule)) continue;
    issue.expected = expected + " (" + issue.rule + ": " + issue.expected + ")";
    issue.rule = "corrupt-handle";
  }
  return issues;
}

}  // namespace

std::vector<Issue> Step(State& s, const ops::Op& op, const ops::Result& r) {
  // Bytes that happen to be a handle the server gave are that handle, whatever made them.
  if (op.target.sweep && !s.handle_owner.count(*op.target.raw)) return StepSweep(s, op, r);
  std::vector<Issue> issues;
  const Plan p = Predict(s, op);
  if (p.outcome == Plan::Outcome::kUnchecked) return issues;
  if (r.outcome == ops::Result::Outcome::kError &&
      (r.error == "NOVAR" || r.error == "BADMUTATION")) {
    issues.push_back({Severity::kMay, "harness", "the agent to run the op", r.error});
    return issues;
  }
  if (p.outcome == Plan::Outcome::kError) {
    if (r.outcome == ops::Result::Outcome::kOk) {
      issues.push_back(
          {Severity::kMust, p.rule, Join(p.errors, " or ") + ": " + p.why, DescribeOk(s, op, r)});
    } else if (!p.errors.count(r.error)) {
      issues.push_back({p.code_severity, p.rule, Join(p.errors, " or ") + ": " + p.why, r.error});
    } else if (r.error == "NOT_SENT") {
      issues.push_back({Severity::kMay, "not-sent", "the server's answer to a malformed handle",
                        "the client library could not send it"});
    }
    return issues;
  }
  if (r.outcome == ops::Result::Outcome::kOk) {
    Effect(s, op, p, &r, /*sweep=*/false, &issues);
    return issues;
  }
  if (op.kind == Kind::kReaddir && r.error == "BAD_COOKIE" && (!op.resume.empty() || op.cookie)) {
    auto it = s.listings.find({op.client, op.resume});
    if (it != s.listings.end()) it->second.broken = true;
    return issues;  // a server may refuse a cookie it can no longer honour
  }
  if (p.open_unlinked && r.error == "STALE") {
    issues.push_back(
        {Severity::kMay, "open-unlinked", "the removed file still open, or STALE", r.error});
    return issues;
  }
  if (p.may_fail) {
    issues.push_back({Severity::kMay, "offline-handle",
                      "the object an offline edit touched, or STALE", r.error});
    return issues;
  }
  if (op.kind == Kind::kRename && r.error == "XDEV" && s.Get(*p.entry).type == Type::kDir) {
    issues.push_back({Severity::kMay, "rename-xdev", "the directory renamed",
                      "XDEV (an overlay without redirect_dir cannot rename lower dirs)"});
    return issues;
  }
  issues.push_back({Severity::kMust, "unexpected-error", "ok", r.error});
  return issues;
}

bool Happen(State& s, const ops::Op& op) {
  if (!ops::Modifies(op.kind)) return false;
  const Plan p = Predict(s, op);
  if (p.outcome != Plan::Outcome::kOk) return false;
  Effect(s, op, p, nullptr, /*sweep=*/false, nullptr);
  return true;
}

bool NonIdempotent(ops::Kind kind) {
  return kind == Kind::kCreate || kind == Kind::kMkdir || kind == Kind::kSymlink ||
         kind == Kind::kRemove || kind == Kind::kRmdir || kind == Kind::kRename ||
         kind == Kind::kLink;
}

std::string DescribeOp(const ops::Op& op) {
  auto target = [](const ops::Target& t) -> std::string {
    if (!t.mutate.empty()) return " var=" + t.var + "(" + t.mutate + ")";
    if (!t.var.empty()) return " var=" + t.var;
    if (t.sweep) {
      const ops::SweepPoint& w = *t.sweep;
      char mask[8];
      std::snprintf(mask, sizeof mask, "%02x", w.mask);
      return " sweep=" + w.of +
             (w.mask ? "[" + std::to_string(w.offset) + "]^" + mask
                     : " length " + std::to_string(w.length)) +
             " raw=" + ops::Hex(t.raw.value_or(""));
    }
    if (t.raw) return " raw=" + ops::Hex(*t.raw);
    if (!t.fd.empty()) return " fd=" + t.fd;
    return " path=\"" + t.path + "\"";
  };
  if (op.kind == Kind::kClose) return "close fd=" + op.fd;
  std::string out = ops::KindName(op.kind) + target(op.target);
  if (!op.name.empty()) out += " name=" + op.name;
  if (op.kind == Kind::kRename || op.kind == Kind::kLink) {
    out += " ->" + target(op.target2) + " name2=" + op.name2;
  }
  if (op.kind == Kind::kRead || op.kind == Kind::kWrite) {
    out += " offset=" + std::to_string(op.offset);
  }
  if (op.kind == Kind::kRead) out += " count=" + std::to_string(op.count);
  if (op.kind == Kind::kWrite) {
    out += " len=" + std::to_string(op.data.size()) +
           (op.stable == ops::Stable::kUnstable ? " unstable" : "");
  }
  if (op.size) out += " size=" + std::to_string(*op.size);
  if (!op.resume.empty()) out += " resume=" + op.resume;
  if (!op.save.empty()) out += " save=" + op.save;
  if (!op.fd.empty()) out += " as fd=" + op.fd;
  return out;
}

}  // namespace ovl::model
