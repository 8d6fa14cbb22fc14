// Executor: runs one operation of the shared vocabulary (ops/ops.h) against one access path and
// returns its result. Implementations: LibnfsExecutor (raw NFSv3 through libnfs) and
// SyscallExecutor (a local directory: kernel overlayfs, or a kernel NFS mount in a VM).
//
// Variables live in a VarTable owned by the caller, not in the executor, so they outlive it:
// after a server restart the agent builds a new executor for the same access path and the
// handles taken before the restart are sent again as they were. A variable holds either a
// handle (saved by an op that yields one) or a kReaddir listing position (saved by a kReaddir,
// continued with Op::resume).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "base/fd.h"
#include "ops/ops.h"

namespace ovl::agent {

// Variable contents by name (ops::Op::save, ops::Target::var, ops::Op::resume).
using VarTable = std::map<std::string, std::string>;
// Files a kOpen keeps open, by name (ops::Op::fd, ops::Target::fd). Owned by the caller like
// VarTable, so they stay open across the reconnect after a server restart, as a process's
// open files do.
using OpenFiles = std::map<std::string, Fd>;

// Error names of ops the runner got wrong, reported as server-style errors so that the run goes
// on and the history shows them: a variable that is not set (or holds no listing position where
// `resume` wants one), and a Target::mutate that MutateHandle does not know.
inline constexpr char kErrNoVar[] = "NOVAR";
inline constexpr char kErrBadMutation[] = "BADMUTATION";

// Entries per kReaddir page when the op leaves max_entries at 0, and the most any page holds.
inline constexpr uint32_t kDefaultPageEntries = 128;
inline constexpr uint32_t kMaxPageEntries = 4096;

// The most bytes one kRead returns, whatever count asks (the NFS servers cap reads the same way).
inline constexpr uint32_t kMaxReadBytes = 1024 * 1024;

class Executor {
 public:
  virtual ~Executor() = default;

  // Runs `op` once, reading var targets and `resume` positions from `vars`. When the op
  // succeeds and op.save is set, stores its handle (kReaddir: its listing position) in
  // vars[op.save]; a failed op leaves `vars` unchanged. Never throws; every wait is bounded.
  ops::Result Execute(const ops::Op& op, VarTable& vars);

  // Procedures outside the op vocabulary that throughput loads issue (SPECsfs's NFSv3 mix has
  // them): ACCESS of the object (read, lookup, modify, extend, delete, execute asked),
  // FSSTAT of its file system, and READDIR of one page of a directory (names and cookies only,
  // at most kDefaultPageEntries entries, no attributes or handles). The result carries no data
  // beyond the outcome (kReaddir: `entries`); nothing is saved to `vars`. Never throws; every
  // wait is bounded.
  enum class Probe { kAccess, kFsstat, kReaddir };
  virtual ops::Result RunProbe(Probe probe, const ops::Target& target, const VarTable& vars) = 0;

  // What Run() produces.
  struct Outcome {
    Outcome(ops::Result r, std::string s = "")  // NOLINT: implicit, most ops save nothing
        : result(std::move(r)), saved(std::move(s)) {}
    ops::Result result;
    std::string saved;  // what op.save stores on success; empty: nothing
  };

 protected:
  // The operation itself, as Execute() describes it, without touching `vars`.
  virtual Outcome Run(const ops::Op& op, const VarTable& vars) = 0;
};

// Where a kReaddir listing goes on: the cookie after the last entry handed out and the cookie
// verifier the server gave with it (0 where there is none).
struct Position {
  uint64_t cookie = 0;
  uint64_t verifier = 0;
};
std::string EncodePosition(const Position& p);

// Where a kReaddir starts: the position stored under op.resume, or op.cookie with verifier 0.
// nullopt (and *error) when op.resume names no stored position.
std::optional<Position> StartPosition(const ops::Op& op, const VarTable& vars, std::string* error);

// The bytes a raw or var target sends (a var's handle corrupted as target.mutate says).
// nullopt for a path target, and nullopt with *error set when the var is unset or the mutation
// unknown.
std::optional<std::string> HeldHandle(const ops::Target& target, const VarTable& vars,
                                      std::string* error);

// kError with the given error name.
ops::Result ErrorResult(std::string name);
// kUnknown with a description of why no answer came.
ops::Result UnknownResult(std::string why);
// The page size a kReaddir op asks for: max_entries, or the default for 0, capped.
uint32_t PageEntries(const ops::Op& op);

}  // namespace ovl::agent
