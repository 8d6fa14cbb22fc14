// The model's picture of one overlay export: objects (files, dirs, symlinks) with identity, data,
// mode and names, plus what the clients hold (handles bound to objects, variables, directory
// listings in progress). One State is one candidate: when the history leaves open whether
// something happened (an operation cut off by a fault), the judge keeps a State per possibility.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"

namespace ovl::model {

using ObjId = uint64_t;
inline constexpr ObjId kRootId = 0;
// Objects created by operation `seq` get kCreatedBase + seq: the same id in every candidate.
inline constexpr ObjId kCreatedBase = 1ull << 40;

// Possible contents one file may have before the model stops following them.
inline constexpr size_t kMaxContents = 16;

enum class Type { kReg, kDir, kLnk };
// "reg", "dir", "lnk": the spelling of ops::Attrs::type.
const char* TypeName(Type type);

// One possible content of a file: what a read returns now, and what a crash cannot take away
// (data written FILE_SYNC/DATA_SYNC or committed). They differ while UNSTABLE writes are
// uncommitted.
struct Content {
  std::string now;
  std::string durable;
  bool operator==(const Content&) const = default;
};

struct Object {
  Type type = Type::kReg;
  // kReg: the contents the file may have (more than one after a restart may have lost
  // uncommitted writes; reads narrow them down). kLnk: contents[0].now is the target.
  std::vector<Content> contents;
  // More possible contents than the model follows (kMaxContents): data and size go unchecked.
  bool content_unknown = false;
  std::optional<uint32_t> mode;                      // permission bits, when the history fixes them
  std::vector<std::pair<ObjId, std::string>> names;  // (dir, name); a dir has at most one
  std::map<std::string, ObjId> entries;              // kDir: its children
  std::optional<std::array<uint8_t, 8>> exclusive_verifier;  // made by CREATE EXCLUSIVE
  std::string label;  // its path when it last had a name, for messages
  // kReg from the fixture: what the lower layer holds (shown again when the upper copy goes).
  std::string lower_data;
  // An offline edit (model/offline.h) touched it: a held handle of it may get an error.
  bool offline_touched = false;
  bool operator==(const Object&) const = default;
};

// A directory listing read page by page (READDIR with cookies).
struct Listing {
  ObjId dir = kRootId;
  std::set<std::string> seen;    // names the pages returned so far
  std::set<std::string> always;  // names present throughout the listing so far
  std::set<std::string> ever;    // names present at any moment of the listing so far
  bool broken = false;           // the server refused a cookie (BAD_COOKIE): no more checks
  bool operator==(const Listing&) const = default;
};

struct VarBinding {
  ObjId obj = kRootId;
  std::string handle;
  // An offline edit since it was saved may make this handle fail, not a handle saved later of
  // the same object (copy-up-unindexed, model/offline.h).
  bool offline_may_fail = false;
  bool operator==(const VarBinding&) const = default;
};

using ClientVar = std::pair<std::string, std::string>;  // (client, variable)

struct State {
  std::map<ObjId, Object> objects;            // dead objects stay, for handles and messages
  std::map<std::string, ObjId> handle_owner;  // handle bytes -> the object they name
  std::map<ObjId, std::string> handle_of;     // object -> its handle bytes
  std::map<ObjId, uint64_t> fileid;           // as first reported
  // As last reported by an operation on a real handle or a path, not by a corrupted copy's
  // answer: a corrupted copy answering this fileid reached the held object (model/semantics.cc).
  std::map<ObjId, uint64_t> last_fileid;
  std::map<ClientVar, VarBinding> vars;
  std::map<ClientVar, Listing> listings;
  // Files the clients keep open (kOpen), by (client, fd name). An object removed while open
  // stays readable through its open file, and a handle of it may still reach it or be STALE
  // (docs/scenarios.md, "open-unlinked").
  std::map<ClientVar, ObjId> open_files;
  // What offline edits (model/offline.h) need to know about the layers. `lower`: the visible
  // lower-layer paths and their objects (the fixture's merged view, then edited). `upper`:
  // objects the union changed (copied up, created, or a dir whose entries changed). `removed`:
  // (dir, name) entries the union removed or renamed away, which may have left a whiteout.
  std::map<std::string, ObjId> lower;
  std::set<ObjId> upper;
  std::set<std::pair<ObjId, std::string>> removed;
  bool operator==(const State&) const = default;

  // The merged view of `fixture` as the initial state.
  static State FromFixture(const ops::Fixture& fixture);

  const Object& Get(ObjId id) const { return objects.at(id); }
  Object& Get(ObjId id) { return objects.at(id); }
  // The root always; anything else while it has a name.
  bool Alive(ObjId id) const;
  // Some client keeps it open.
  bool IsOpen(ObjId id) const;
  // "d/a" ("" for the root); "" for a dead object.
  std::string PathOf(ObjId id) const;
  // For messages: "d/a", "the root", or "removed d/a".
  std::string Describe(ObjId id) const;

  struct Resolved {
    ObjId id = kRootId;
    std::string error;  // "NOENT" or "NOTDIR" when the path does not resolve
  };
  // Walks `path` ('/'-separated, "" = root) from the root as a client's LOOKUPs would.
  Resolved Resolve(const std::string& path) const;

  void AddName(ObjId obj, ObjId dir, const std::string& name);
  // Removes the entry `name` of `dir`; its object loses that name.
  void RemoveName(ObjId dir, const std::string& name);

  // A server restart (crash or reboot): a file with uncommitted UNSTABLE writes may come back
  // with them or without them (RFC 1813 lets a server lose uncommitted data; the changed write
  // verifier tells the client to send it again).
  void Restart();
  // After a namespace change: updates the listings in progress.
  void RefreshListings();
};

}  // namespace ovl::model
