// The NFSv4.1 server state (RFC 8881 sections 2.4, 2.10, 8, 9): client records, sessions with
// their slot tables, open stateids with share reservations, leases and the grace period after a
// start. Every table is bounded (Limits), so a hostile client cannot exhaust memory: over a
// bound it gets an error and others keep being served. Leases are renewed by SEQUENCE; a client
// whose lease ran out keeps its state until someone needs the room or conflicts with it
// (dropped lazily, as a "courteous" server does). Thread-safe: one mutex guards everything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "nfs4/nfs4_xdr.h"
#include "nfs4/slot_table.h"
#include "union/union_fs.h"

namespace ovl::nfs4 {

struct Limits {
  uint32_t max_clients = 128;
  uint32_t max_sessions_per_client = 4;
  uint32_t max_opens_per_client = 1024;
  uint32_t max_slots = 16;
  uint32_t max_ops = 64;
  // Fore channel sizes: requests fit the transport's record limit (rpc/server.h), responses a
  // 1 MiB READ with its headers.
  uint32_t max_request = (1u << 20) + 32 * 1024;
  uint32_t max_response = (1u << 20) + 32 * 1024;
  // Replies longer than this are not kept for replay: 16 slots x 16 KiB x 4 sessions x 128
  // clients bounds the reply cache at 128 MiB.
  uint32_t max_cached_response = 16 * 1024;
  uint32_t lease_s = 10;
  uint32_t grace_s = 10;
};

struct ChannelAttrs {
  uint32_t header_pad = 0, max_request = 0, max_response = 0, max_response_cached = 0, max_ops = 0,
           max_requests = 0;
};

// share_access and share_deny bits.
inline constexpr uint32_t kShareRead = 1, kShareWrite = 2, kShareBoth = 3;

class Nfs4State {
 public:
  // Milliseconds of a monotonic clock; injectable for tests.
  using Clock = std::function<int64_t()>;
  // Makes `owners` (client owner ids) durable, replacing the previous list.
  using Persist = std::function<Status(const std::vector<std::string>& owners)>;

  // `previous`: the owners of clients known before this start (the durable record), who may
  // reclaim during grace. `boot_tag` must differ at every start: it is part of every client id,
  // session id and stateid, so those of an earlier instance are recognised as stale.
  Nfs4State(const Limits& limits, Clock clock, std::set<std::string> previous, Persist persist,
            uint32_t boot_tag);
  ~Nfs4State();
  Nfs4State(const Nfs4State&) = delete;
  Nfs4State& operator=(const Nfs4State&) = delete;

  const Limits& limits() const { return limits_; }

  // EXCHANGE_ID (SP4_NONE): the client id for `owner`; a new verifier (the client rebooted)
  // drops the old record's state. When the client table is full, clients whose lease ran out
  // make room, else the oldest one that never created a session; kDelay when every client is
  // live and confirmed.
  struct Exchanged {
    uint64_t clientid = 0;
    uint32_t sequence = 0;  // what the next CREATE_SESSION must carry
    bool confirmed = false;
  };
  Nfsstat4 ExchangeId(const std::string& owner, const Verifier& verifier, Exchanged* out);

  // CREATE_SESSION: negotiates `want` down to Limits. A retry of the last CREATE_SESSION (same
  // sequence) returns the same session. kStaleClientId, kSeqMisordered, kServerFault (too many
  // sessions of this client).
  struct Created {
    SessionId id{};
    uint32_t sequence = 0;
    ChannelAttrs fore;
  };
  Nfsstat4 CreateSession(uint64_t clientid, uint32_t sequence, const ChannelAttrs& want,
                         Created* out);
  Nfsstat4 DestroySession(const SessionId& id);
  // Drops the client and takes it out of the durable record. kClientIdBusy while the client
  // has sessions, kStaleClientId when unknown.
  Nfsstat4 DestroyClientId(uint64_t clientid);
  // kBadSession when unknown.
  Nfsstat4 CheckSession(const SessionId& id);

  // SEQUENCE of a compound of `numops` operations and `request_bytes` bytes: checks them
  // against the session's channel (kTooManyOps, kReqTooBig, before the slot is touched), then
  // the slot, and renews the lease. On kOk `out->verdict` says whether to run the compound
  // (kNew, then FinishSequence) or send `out->cached`.
  struct Sequenced {
    SlotTable::Verdict verdict = SlotTable::Verdict::kBadSlot;
    std::string cached;
    uint64_t clientid = 0;
    uint32_t highest_slot = 0;
    ChannelAttrs fore;
  };
  Nfsstat4 Sequence(const SessionId& id, uint32_t seqid, uint32_t slot, uint32_t numops,
                    size_t request_bytes, Sequenced* out);
  // Ends the request SEQUENCE accepted, keeping `reply` for a replay (nullopt: not cacheable).
  void FinishSequence(const SessionId& id, uint32_t slot, std::optional<std::string> reply);

  // Grace: true until grace_s after the start, or until every client of `previous` has sent
  // RECLAIM_COMPLETE (at once when there is none).
  bool InGrace();
  // Whether `clientid` may reclaim now: in grace, known before the start, not yet complete.
  bool MayReclaim(uint64_t clientid);
  // kCompleteAlready on a second call.
  Nfsstat4 ReclaimComplete(uint64_t clientid);

  // OPEN by (clientid, owner) of the file `fh`: a new open stateid, or the owner's existing one
  // for the file with its seqid bumped and the modes added. Share reservations of other owners
  // are enforced (kShareDenied). The first open of a client not yet in the durable record is
  // answered only after the record is made durable (kServerFault if that fails).
  // `reclaim`: a CLAIM_PREVIOUS, whose client is then counted as known.
  Nfsstat4 Open(uint64_t clientid, const std::string& owner, const Handle& fh, uint32_t access,
                uint32_t deny, bool reclaim, Stateid* out);
  Nfsstat4 Downgrade(uint64_t clientid, const Stateid& in, uint32_t access, uint32_t deny,
                     Stateid* out);
  Nfsstat4 Close(uint64_t clientid, const Stateid& in);
  // The check of READ, WRITE and SETATTR(size): a stateid of `clientid` for `fh` whose modes
  // allow `access` (kOpenMode otherwise), or a special stateid when no other open denies it.
  Nfsstat4 CheckIo(uint64_t clientid, const Stateid& in, const Handle& fh, uint32_t access);
  // TEST_STATEID of one stateid.
  Nfsstat4 Test(uint64_t clientid, const Stateid& in);
  // FREE_STATEID: an open stateid is still in use (kLocksHeld); anything else is kBadStateid.
  Nfsstat4 Free(uint64_t clientid, const Stateid& in);

  // Sizes, for tests and counters.
  size_t clients() const;
  size_t opens() const;

 private:
  struct Client;
  struct Session;
  struct OpenState;

  int64_t LeaseMs() const { return int64_t{limits_.lease_s} * 1000; }
  bool Expired(const Client& c) const REQUIRES(mu_);
  Client* FindClient(uint64_t clientid) REQUIRES(mu_);
  void DropClient(uint64_t clientid) REQUIRES(mu_);
  void DropOpen(uint64_t id) REQUIRES(mu_);
  // Drops the clients whose lease ran out; true when one was dropped.
  bool SweepExpired() REQUIRES(mu_);
  // Drops the client record longest without a session (a flood of EXCHANGE_IDs must not lock
  // out clients that go on to CREATE_SESSION); false when every client has one.
  bool DropOldestUnconfirmed() REQUIRES(mu_);
  bool InGraceLocked() REQUIRES(mu_);
  // The open a stateid names, checked against its client and seqid.
  Nfsstat4 FindOpen(uint64_t clientid, const Stateid& in, OpenState** out) REQUIRES(mu_);
  Stateid StateidOf(const OpenState& o) const;
  Status PersistLocked() REQUIRES(mu_);

  const Limits limits_;
  const Clock clock_;
  const Persist persist_;
  const uint32_t boot_tag_;
  const int64_t start_ms_;

  mutable Mutex mu_;
  const std::set<std::string> previous_;
  std::set<std::string> reclaimed_ GUARDED_BY(mu_);  // owners of previous_ that completed
  bool grace_over_ GUARDED_BY(mu_) = false;
  uint32_t next_client_ GUARDED_BY(mu_) = 0;
  uint64_t next_open_ GUARDED_BY(mu_) = 0;
  uint32_t next_session_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::unique_ptr<Client>> clients_ GUARDED_BY(mu_);
  std::map<SessionId, std::unique_ptr<Session>> sessions_ GUARDED_BY(mu_);
  std::map<uint64_t, std::unique_ptr<OpenState>> opens_ GUARDED_BY(mu_);
  std::map<Handle, std::set<uint64_t>> opens_by_file_ GUARDED_BY(mu_);
};

}  // namespace ovl::nfs4
