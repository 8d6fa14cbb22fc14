// The operation vocabulary shared by harness-agent (which executes operations against a server)
// and the model (which judges their results), so the two cannot drift apart. Everything here is
// plain data with a JSON form; the JSON is what travels over the agent's pipe and what
// history.jsonl holds.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::ops {

enum class Kind {
  kLookup,    // target = directory, name -> handle + attrs of the entry
  kGetAttr,   // target -> attrs
  kSetAttr,   // target, size and/or mode -> attrs
  kRead,      // target, offset, count -> data, eof
  kWrite,     // target, offset, data, stable -> count, committed, verifier
  kCommit,    // target -> verifier
  kCreate,    // target = directory, name, mode, how (+ verifier) -> handle + attrs
  kMkdir,     // target = directory, name, mode -> handle + attrs
  kSymlink,   // target = directory, name, link_target -> handle
  kRemove,    // target = directory, name
  kRmdir,     // target = directory, name
  kRename,    // target = from dir, name -> target2 = to dir, name2
  kLink,      // target = file -> target2 = directory, name2
  kReaddir,   // target = directory, cookie, max_entries -> entries, eof (one page)
  kReadlink,  // target -> link_target
  // The client keeps the target file open under the name `fd` (ops on Target::fd act through it)
  // until a kClose of that name; what the file shows once its last name is gone while it is open
  // is the point (docs/scenarios.md, "open-unlinked"). Only paths with an open: local syscalls
  // and kernel NFS mounts (whose client turns a remove of an open file into a rename).
  kOpen,   // target, fd -> attrs
  kClose,  // fd
};

enum class Stable { kUnstable = 0, kDataSync = 1, kFileSync = 2 };
enum class CreateHow { kUnchecked = 0, kGuarded = 1, kExclusive = 2 };

// Where the bytes of a raw target come from when a corrupted-handle sweep made them
// (ops/sweep.h): the held handle they corrupt, and how. Offsets and lengths count bytes of the
// server's own handle, inside whatever wrapping the access path adds.
struct SweepPoint {
  std::string of;       // the variable holding the handle that was corrupted
  uint32_t offset = 0;  // mask != 0: this byte was XORed with mask
  uint8_t mask = 0;     // 0: the handle was cut or zero-extended to `length` bytes instead
  uint32_t length = 0;
  bool operator==(const SweepPoint&) const = default;
};

// What an operation acts on: a union path, resolved by the agent with LOOKUPs from the root at
// the time of the operation, or a handle held in a variable from an earlier result, or literal
// handle bytes (malformed-handle tests), or a file the client holds open. Exactly one is set.
struct Target {
  std::string path;  // "" = the export root when var, raw and fd are empty too
  std::string var;
  std::string fd;                  // a file a kOpen of this client opened under this name
  std::optional<std::string> raw;  // literal handle bytes
  // With `var`: send the held handle corrupted this way (see MutateHandle), to test how the
  // server treats malformed handles made from a real one.
  std::string mutate;
  // With `raw`: the bytes are this corruption of a held handle; the model judges the answer
  // against that handle's object (rule corrupt-handle).
  std::optional<SweepPoint> sweep;
};

struct Op {
  uint64_t seq = 0;    // unique in a run, assigned by the runner
  std::string client;  // which agent runs it
  Kind kind = Kind::kGetAttr;
  Target target;
  std::string name;
  Target target2;
  std::string name2;
  std::string save;  // store the resulting handle under this variable name
  std::string fd;    // kOpen, kClose: the name of the open file
  uint64_t offset = 0;
  uint32_t count = 0;
  std::string data;  // kWrite payload (raw bytes; hex in JSON)
  Stable stable = Stable::kFileSync;
  std::optional<uint64_t> size;  // kSetAttr
  std::optional<uint32_t> mode;  // kSetAttr, kCreate, kMkdir
  CreateHow how = CreateHow::kGuarded;
  std::array<uint8_t, 8> verifier{};  // kCreate with kExclusive
  std::string link_target;            // kSymlink
  uint64_t cookie = 0;                // kReaddir
  uint32_t max_entries = 0;           // kReaddir; 0 = the agent's default page
  // kReaddir: continue the listing whose position (last cookie and cookie verifier) an earlier
  // kReaddir stored under this variable with `save`; `cookie` is then ignored. A kReaddir with
  // `save` stores its position there, so the pages of one listing can be split by faults.
  std::string resume;
  uint32_t step = 0;  // 1-based index of the scenario step this op comes from; 0 = none
  bool may = false;   // `check: may`: the model reports differences here instead of failing
};

struct Attrs {
  std::string type;  // "reg", "dir", "lnk", "chr", "blk", "sock", "fifo"
  uint64_t size = 0;
  uint64_t fileid = 0;
  uint32_t nlink = 0;
  uint32_t mode = 0;
};

struct DirEntry {
  std::string name;
  uint64_t cookie = 0;
};

struct Result {
  enum class Outcome {
    kOk,
    kError,    // the server answered with an error status (`error`)
    kUnknown,  // no answer (a fault cut it off): the operation may or may not have happened
  };
  Outcome outcome = Outcome::kOk;
  // NFS3ERR_* name without the prefix ("STALE", "NOENT", "BADHANDLE", ...); for the syscall
  // path the errno is mapped to the same names. kUnknown: a description of the transport error.
  std::string error;
  std::string handle;  // result handle (raw bytes; hex in JSON) where the op yields one
  std::optional<Attrs> attrs;
  std::string data;  // kRead (raw bytes; in JSON as length + 64-bit hash, see below)
  bool eof = false;
  uint32_t count = 0;  // kWrite
  Stable committed = Stable::kFileSync;
  std::optional<uint64_t> verifier;  // kWrite, kCommit
  std::vector<DirEntry> entries;     // kReaddir
  std::string link_target;           // kReadlink
  // Read from a history, where data is kept as length + digest only: data is empty and these
  // describe it. Use DataLength() / DataDigestValue(), which work for both forms.
  uint64_t data_len = 0;
  uint64_t data_digest = 0;

  uint64_t DataLength() const;
  uint64_t DataDigestValue() const;
};

// The 64-bit digest used for data in histories (FNV-1a); the model compares digests.
uint64_t DataDigest(const std::string& data);

std::string KindName(Kind k);
// True for the operations that change the namespace or data: an unknown outcome of one forks
// the model, and a lower-only export refuses them. COMMIT counts: it makes written data durable.
bool Modifies(Kind k);
// nullopt for an unknown name.
std::optional<Kind> KindFromName(const std::string& name);

void to_json(nlohmann::json& j, const Op& op);
void from_json(const nlohmann::json& j, Op& op);
// Data travels whole over the agent pipe (`with_data`), but history keeps its length and digest.
nlohmann::json ResultToJson(const Result& r, bool with_data);
void from_json(const nlohmann::json& j, Result& r);

// Non-throwing parsers for the agent pipe and history readers; errors name the bad field.
ovl::Result<Op> OpFromJson(const nlohmann::json& j);
ovl::Result<Result> ResultFromJson(const nlohmann::json& j);

// Handle corruptions for malformed-handle tests. The byte positions follow the reference
// handle layout (docs/handle-format.md: magic at 0-1, version at 2, export UUID at 8-23); on
// other formats they still corrupt header bytes:
//   truncate     the first half of the bytes        extend   zero-padded to 65 bytes (> 64)
//   flip-magic   bytes 0-1 inverted                  flip-version  byte 2 inverted
//   wrong-uuid   bytes 8-23 inverted (the last byte when shorter)   zero  no bytes at all
// nullopt for an unknown `how`.
std::optional<std::string> MutateHandle(const std::string& handle, const std::string& how);
// The names MutateHandle accepts, in the order above.
const std::vector<std::string>& MutationNames();

std::string Hex(const std::string& bytes);
// nullopt when `hex` is not an even-length hex string.
std::optional<std::string> Unhex(const std::string& hex);

}  // namespace ovl::ops
