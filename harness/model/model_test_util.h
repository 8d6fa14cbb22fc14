// Hand-written histories for the model's tests: a builder of events and short constructors of
// operations and results.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model.h"
#include "ops/history.h"
#include "ops/offline.h"
#include "ops/ops.h"

namespace ovl::model::testing {

inline constexpr uint64_t kSeed = 7;

class History {
 public:
  // A case "c" whose fixture is `fixture` (ops/fixture.h JSON form) and seed kSeed.
  explicit History(nlohmann::json fixture, bool disjoint_clients = false);

  // invoke + complete; assigns the next seq unless op.seq is set.
  History& Do(ops::Op op, const ops::Result& result);
  // invoke only; returns the seq. Complete() finishes it later.
  uint64_t Invoke(ops::Op op);
  History& Complete(uint64_t seq, const ops::Result& result);
  // A fault that began now and lasted `lasting` (the events' clock advances 1 per event).
  History& Fault(const std::string& kind, bool ok = true, double lasting = 0);
  History& Check(const std::string& what, bool ok, const std::string& detail);
  // What server "s" printed (backend/kernel_log.h's lines), or why it could not be read.
  History& Kernel(const std::vector<std::string>& lines, const std::string& error = "");
  // An offline edit, recorded as the runner does: a fault of kind "offline" carrying the edit.
  History& Offline(const ops::OfflineEdit& edit);

  // The events with an end event of `status`.
  std::vector<ops::Event> End(const std::string& status = "done") const;
  // The events as they are, without an end event.
  const std::vector<ops::Event>& events() const { return events_; }

 private:
  std::vector<ops::Event> events_;
  uint64_t seq_ = 0;
  double t_ = 0;
};

// The single case of `events`.
CaseVerdict JudgeOne(const std::vector<ops::Event>& events, const JudgeOptions& options = {});
// True when `v` has a finding of `rule` with that severity.
bool Has(const CaseVerdict& v, const std::string& rule, bool must = true);
// Every finding, formatted, for failure messages.
std::string Dump(const CaseVerdict& v);

// The bytes of fixture file `path` of `size` (seed kSeed).
std::string FileData(const std::string& path, uint64_t size);

ops::Target P(const std::string& path);
ops::Target V(const std::string& var);

ops::Op Lookup(const std::string& path, const std::string& save = "");
ops::Op LookupIn(const ops::Target& dir, const std::string& name, const std::string& save = "");
ops::Op GetAttr(const ops::Target& t);
ops::Op Read(const ops::Target& t, uint64_t offset = 0, uint32_t count = 1 << 20);
ops::Op Write(const ops::Target& t, uint64_t offset, const std::string& data,
              ops::Stable stable = ops::Stable::kFileSync);
ops::Op Commit(const ops::Target& t);
ops::Op SetSize(const ops::Target& t, uint64_t size);
ops::Op Create(const std::string& path, const std::string& save = "",
               ops::CreateHow how = ops::CreateHow::kGuarded, uint8_t verifier = 0);
ops::Op Mkdir(const std::string& path, const std::string& save = "");
ops::Op Symlink(const std::string& path, const std::string& to);
ops::Op Readlink(const ops::Target& t);
ops::Op Remove(const std::string& path);
ops::Op Rmdir(const std::string& path);
ops::Op Rename(const std::string& from, const std::string& to);
ops::Op Link(const ops::Target& file, const std::string& to);
ops::Op Readdir(const ops::Target& dir, uint32_t max, const std::string& save,
                const std::string& resume = "");
ops::Op As(ops::Op op, const std::string& client);
// Keeps the file at `path` open under `fd`; closes it; a target acting through it.
ops::Op Open(const std::string& path, const std::string& fd);
ops::Op Close(const std::string& fd);
ops::Target F(const std::string& fd);

ops::Result Ok();
ops::Result Err(const std::string& error);
ops::Result Unknown();
ops::Result WithHandle(const std::string& handle);
ops::Result WithAttrs(const std::string& type, uint64_t size, uint64_t fileid, uint32_t nlink);
ops::Result WithData(const std::string& data, bool eof = true);
ops::Result Written(uint32_t count, ops::Stable committed, uint64_t verifier);
ops::Result Page(const std::vector<std::string>& names, bool eof);

}  // namespace ovl::model::testing
