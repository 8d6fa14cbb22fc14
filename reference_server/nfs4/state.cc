#include "nfs4/state.h"

#include <algorithm>
#include <cstring>

namespace ovl::nfs4 {

struct Nfs4State::Client {
  uint64_t id = 0;
  std::string owner;
  Verifier verifier{};
  bool confirmed = false;
  uint32_t cs_sequence = 1;  // the next CREATE_SESSION's
  std::optional<Created> last_created;
  int64_t renewed_ms = 0;
  bool reclaim_complete = false;
  bool previous = false;  // its owner is in the durable record of an earlier start
  bool recorded = false;  // its owner is in this start's durable record
  std::set<SessionId> sessions;
  std::set<uint64_t> opens;
};

struct Nfs4State::Session {
  SessionId id{};
  uint64_t clientid = 0;
  ChannelAttrs fore;
  SlotTable slots;
  Session(uint32_t n, size_t cached) : slots(n, cached) {}
};

struct Nfs4State::OpenState {
  uint64_t id = 0;
  uint64_t clientid = 0;
  std::string owner;
  Handle fh;
  uint32_t seqid = 1;
  uint32_t access = 0, deny = 0;
};

Nfs4State::Nfs4State(const Limits& limits, Clock clock, std::set<std::string> previous,
                     Persist persist, uint32_t boot_tag)
    : limits_(limits),
      clock_(std::move(clock)),
      persist_(std::move(persist)),
      boot_tag_(boot_tag),
      start_ms_(clock_()),
      previous_(std::move(previous)) {}

Nfs4State::~Nfs4State() = default;

bool Nfs4State::Expired(const Client& c) const {
  return clock_() - c.renewed_ms > LeaseMs();
}

Nfs4State::Client* Nfs4State::FindClient(uint64_t clientid) {
  auto it = clients_.find(clientid);
  return it == clients_.end() ? nullptr : it->second.get();
}

void Nfs4State::DropOpen(uint64_t id) {
  auto it = opens_.find(id);
  if (it == opens_.end()) return;
  auto by_file = opens_by_file_.find(it->second->fh);
  if (by_file != opens_by_file_.end()) {
    by_file->second.erase(id);
    if (by_file->second.empty()) opens_by_file_.erase(by_file);
  }
  if (Client* c = FindClient(it->second->clientid)) c->opens.erase(id);
  opens_.erase(it);
}

void Nfs4State::DropClient(uint64_t clientid) {
  Client* c = FindClient(clientid);
  if (!c) return;
  for (const SessionId& s : c->sessions) sessions_.erase(s);
  for (uint64_t o : std::set<uint64_t>(c->opens)) DropOpen(o);
  clients_.erase(clientid);
}

bool Nfs4State::SweepExpired() {
  std::vector<uint64_t> dead;
  for (const auto& [id, c] : clients_) {
    if (Expired(*c)) dead.push_back(id);
  }
  for (uint64_t id : dead) DropClient(id);
  return !dead.empty();
}

bool Nfs4State::DropOldestUnconfirmed() {
  const Client* oldest = nullptr;
  for (const auto& [id, c] : clients_) {
    if (!c->confirmed && (!oldest || c->renewed_ms < oldest->renewed_ms)) oldest = c.get();
  }
  if (!oldest) return false;
  DropClient(oldest->id);
  return true;
}

Nfsstat4 Nfs4State::ExchangeId(const std::string& owner, const Verifier& verifier, Exchanged* out) {
  MutexLock lock(&mu_);
  for (auto& [id, c] : clients_) {
    if (c->owner != owner) continue;
    if (c->verifier == verifier) {
      c->renewed_ms = clock_();
      *out = {c->id, c->cs_sequence, c->confirmed};
      return Nfsstat4::kOk;
    }
    // The client restarted: what its earlier incarnation held is gone (RFC 8881 18.35.5).
    DropClient(id);
    break;
  }
  if (clients_.size() >= limits_.max_clients && !SweepExpired() && !DropOldestUnconfirmed()) {
    return Nfsstat4::kDelay;
  }
  auto c = std::make_unique<Client>();
  c->id = (uint64_t{boot_tag_} << 32) | ++next_client_;
  c->owner = owner;
  c->verifier = verifier;
  c->renewed_ms = clock_();
  c->previous = previous_.count(owner) > 0;
  *out = {c->id, c->cs_sequence, false};
  clients_[c->id] = std::move(c);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::CreateSession(uint64_t clientid, uint32_t sequence, const ChannelAttrs& want,
                                  Created* out) {
  MutexLock lock(&mu_);
  Client* c = FindClient(clientid);
  if (!c) return Nfsstat4::kStaleClientId;
  if (c->last_created && sequence == c->cs_sequence - 1) {
    *out = *c->last_created;  // a retry: the same session
    return Nfsstat4::kOk;
  }
  if (sequence != c->cs_sequence) return Nfsstat4::kSeqMisordered;
  if (c->sessions.size() >= limits_.max_sessions_per_client) return Nfsstat4::kServerFault;
  Created made;
  ChannelAttrs& f = made.fore;
  f.max_request = std::min(want.max_request, limits_.max_request);
  f.max_response = std::min(want.max_response, limits_.max_response);
  // Caching more than the client asked for costs it nothing, so the server's own bound rules.
  f.max_response_cached = std::min(limits_.max_cached_response, f.max_response);
  f.max_ops = std::min(want.max_ops, limits_.max_ops);
  f.max_requests = std::clamp<uint32_t>(want.max_requests, 1, limits_.max_slots);
  if (f.max_ops == 0 || f.max_request == 0 || f.max_response == 0) return Nfsstat4::kInval;
  const uint32_t n = ++next_session_;
  std::memcpy(made.id.data(), &boot_tag_, 4);
  std::memcpy(made.id.data() + 4, &clientid, 8);
  std::memcpy(made.id.data() + 12, &n, 4);
  made.sequence = sequence;
  auto s = std::make_unique<Session>(f.max_requests, f.max_response_cached);
  s->id = made.id;
  s->clientid = clientid;
  s->fore = f;
  sessions_[made.id] = std::move(s);
  c->sessions.insert(made.id);
  c->confirmed = true;
  c->renewed_ms = clock_();
  c->last_created = made;
  ++c->cs_sequence;
  *out = made;
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::DestroySession(const SessionId& id) {
  MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Nfsstat4::kBadSession;
  if (Client* c = FindClient(it->second->clientid)) c->sessions.erase(id);
  sessions_.erase(it);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::DestroyClientId(uint64_t clientid) {
  MutexLock lock(&mu_);
  Client* c = FindClient(clientid);
  if (!c) return Nfsstat4::kStaleClientId;
  if (!c->sessions.empty()) return Nfsstat4::kClientIdBusy;
  const bool recorded = c->recorded;
  DropClient(clientid);
  // A client that said goodbye has nothing to reclaim after a restart: forget it now, so the
  // next grace period does not wait for it. Best effort: a stale entry only lengthens grace.
  if (recorded) (void)PersistLocked();
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::CheckSession(const SessionId& id) {
  MutexLock lock(&mu_);
  return sessions_.count(id) ? Nfsstat4::kOk : Nfsstat4::kBadSession;
}

Nfsstat4 Nfs4State::Sequence(const SessionId& id, uint32_t seqid, uint32_t slot, uint32_t numops,
                             size_t request_bytes, Sequenced* out) {
  MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Nfsstat4::kBadSession;
  Session& s = *it->second;
  if (numops > s.fore.max_ops) return Nfsstat4::kTooManyOps;
  if (request_bytes > s.fore.max_request) return Nfsstat4::kReqTooBig;
  SlotTable::Start start = s.slots.Begin(slot, seqid);
  out->verdict = start.verdict;
  out->cached = std::move(start.cached);
  out->clientid = s.clientid;
  out->highest_slot = s.slots.size() - 1;
  out->fore = s.fore;
  switch (start.verdict) {
    case SlotTable::Verdict::kBadSlot:
      return Nfsstat4::kBadSlot;
    case SlotTable::Verdict::kInUse:
      return Nfsstat4::kDelay;
    case SlotTable::Verdict::kMisordered:
      return Nfsstat4::kSeqMisordered;
    case SlotTable::Verdict::kUncachedReplay:
      return Nfsstat4::kRetryUncachedRep;
    case SlotTable::Verdict::kNew:
    case SlotTable::Verdict::kReplay:
      break;
  }
  if (Client* c = FindClient(s.clientid)) c->renewed_ms = clock_();
  return Nfsstat4::kOk;
}

void Nfs4State::FinishSequence(const SessionId& id, uint32_t slot,
                               std::optional<std::string> reply) {
  MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  // The session may have been destroyed by the compound itself.
  if (it != sessions_.end()) it->second->slots.Finish(slot, std::move(reply));
}

bool Nfs4State::InGraceLocked() {
  if (grace_over_) return false;
  if (clock_() - start_ms_ >= int64_t{limits_.grace_s} * 1000 ||
      reclaimed_.size() >= previous_.size()) {
    grace_over_ = true;
  }
  return !grace_over_;
}

bool Nfs4State::InGrace() {
  MutexLock lock(&mu_);
  return InGraceLocked();
}

bool Nfs4State::MayReclaim(uint64_t clientid) {
  MutexLock lock(&mu_);
  Client* c = FindClient(clientid);
  return c && c->previous && !c->reclaim_complete && InGraceLocked();
}

Nfsstat4 Nfs4State::ReclaimComplete(uint64_t clientid) {
  MutexLock lock(&mu_);
  Client* c = FindClient(clientid);
  if (!c) return Nfsstat4::kStaleClientId;
  if (c->reclaim_complete) return Nfsstat4::kCompleteAlready;
  c->reclaim_complete = true;
  if (c->previous) reclaimed_.insert(c->owner);
  return Nfsstat4::kOk;
}

Status Nfs4State::PersistLocked() {
  std::set<std::string> owners;
  for (const auto& [id, c] : clients_) {
    if (c->recorded) owners.insert(c->owner);
  }
  // Clients of the earlier start keep their right to reclaim while grace lasts, also across
  // another restart within it.
  if (InGraceLocked()) owners.insert(previous_.begin(), previous_.end());
  return persist_(std::vector<std::string>(owners.begin(), owners.end()));
}

Stateid Nfs4State::StateidOf(const OpenState& o) const {
  Stateid s;
  s.seqid = o.seqid;
  std::memcpy(s.other.data(), &boot_tag_, 4);
  std::memcpy(s.other.data() + 4, &o.id, 8);
  return s;
}

Nfsstat4 Nfs4State::Open(uint64_t clientid, const std::string& owner, const Handle& fh,
                         uint32_t access, uint32_t deny, bool reclaim, Stateid* out) {
  MutexLock lock(&mu_);
  Client* c = FindClient(clientid);
  if (!c) return Nfsstat4::kStaleClientId;
  OpenState* mine = nullptr;
  if (auto by_file = opens_by_file_.find(fh); by_file != opens_by_file_.end()) {
    std::vector<uint64_t> expired;
    for (uint64_t id : by_file->second) {
      OpenState& o = *opens_.at(id);
      if (o.clientid == clientid && o.owner == owner) {
        mine = &o;
        continue;
      }
      if ((access & o.deny) == 0 && (deny & o.access) == 0) continue;
      Client* holder = FindClient(o.clientid);
      if (holder && Expired(*holder)) {
        expired.push_back(o.clientid);  // an expired lease yields to a conflicting open
        continue;
      }
      return Nfsstat4::kShareDenied;
    }
    for (uint64_t id : expired) DropClient(id);
  }
  if (!c->recorded) {
    c->recorded = true;
    if (!PersistLocked().ok()) {
      c->recorded = false;
      return Nfsstat4::kServerFault;
    }
  }
  if (reclaim) c->recorded = true;
  if (mine) {
    mine->access |= access;
    mine->deny |= deny;
    ++mine->seqid;
    *out = StateidOf(*mine);
    return Nfsstat4::kOk;
  }
  if (c->opens.size() >= limits_.max_opens_per_client) return Nfsstat4::kServerFault;
  auto o = std::make_unique<OpenState>();
  o->id = ++next_open_;
  o->clientid = clientid;
  o->owner = owner;
  o->fh = fh;
  o->access = access;
  o->deny = deny;
  *out = StateidOf(*o);
  c->opens.insert(o->id);
  opens_by_file_[fh].insert(o->id);
  opens_[o->id] = std::move(o);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::FindOpen(uint64_t clientid, const Stateid& in, OpenState** out) {
  uint32_t tag = 0;
  uint64_t id = 0;
  std::memcpy(&tag, in.other.data(), 4);
  std::memcpy(&id, in.other.data() + 4, 8);
  if (tag != boot_tag_) return Nfsstat4::kStaleStateid;
  auto it = opens_.find(id);
  if (it == opens_.end() || it->second->clientid != clientid) return Nfsstat4::kBadStateid;
  // Seqid 0 means "the current one" in NFSv4.1 (RFC 8881 8.2.2).
  if (in.seqid != 0 && in.seqid < it->second->seqid) return Nfsstat4::kOldStateid;
  if (in.seqid > it->second->seqid) return Nfsstat4::kBadStateid;
  *out = it->second.get();
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::Downgrade(uint64_t clientid, const Stateid& in, uint32_t access, uint32_t deny,
                              Stateid* out) {
  MutexLock lock(&mu_);
  OpenState* o = nullptr;
  if (Nfsstat4 st = FindOpen(clientid, in, &o); st != Nfsstat4::kOk) return st;
  // The new modes must be a subset of the current ones (RFC 8881 18.18.3).
  if ((access & ~o->access) != 0 || (deny & ~o->deny) != 0 || access == 0) {
    return Nfsstat4::kInval;
  }
  o->access = access;
  o->deny = deny;
  ++o->seqid;
  *out = StateidOf(*o);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::Close(uint64_t clientid, const Stateid& in) {
  MutexLock lock(&mu_);
  OpenState* o = nullptr;
  if (Nfsstat4 st = FindOpen(clientid, in, &o); st != Nfsstat4::kOk) return st;
  DropOpen(o->id);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::CheckIo(uint64_t clientid, const Stateid& in, const Handle& fh,
                            uint32_t access) {
  MutexLock lock(&mu_);
  if (in.IsAnonymous() || in.IsReadBypass()) {
    if (in.IsReadBypass() && access == kShareRead) return Nfsstat4::kOk;
    auto by_file = opens_by_file_.find(fh);
    if (by_file == opens_by_file_.end()) return Nfsstat4::kOk;
    for (uint64_t id : by_file->second) {
      if (opens_.at(id)->deny & access) return Nfsstat4::kShareDenied;
    }
    return Nfsstat4::kOk;
  }
  OpenState* o = nullptr;
  if (Nfsstat4 st = FindOpen(clientid, in, &o); st != Nfsstat4::kOk) return st;
  if (o->fh != fh) return Nfsstat4::kBadStateid;
  // A READ through a write-only open is allowed, as knfsd allows it (RFC 8881 9.1.2 permits).
  if (access == kShareWrite && (o->access & kShareWrite) == 0) return Nfsstat4::kOpenMode;
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4State::Test(uint64_t clientid, const Stateid& in) {
  MutexLock lock(&mu_);
  OpenState* o = nullptr;
  return FindOpen(clientid, in, &o);
}

Nfsstat4 Nfs4State::Free(uint64_t clientid, const Stateid& in) {
  MutexLock lock(&mu_);
  OpenState* o = nullptr;
  Nfsstat4 st = FindOpen(clientid, in, &o);
  return st == Nfsstat4::kOk ? Nfsstat4::kLocksHeld : st;
}

size_t Nfs4State::clients() const {
  MutexLock lock(&mu_);
  return clients_.size();
}

size_t Nfs4State::opens() const {
  MutexLock lock(&mu_);
  return opens_.size();
}

}  // namespace ovl::nfs4
