// The COMPOUND engine: header, the SEQUENCE that opens a session's compound (with its reply
// cache), the operations allowed without one, dispatch by operation number.
#include "nfs4/nfs4_program.h"

#include <sys/random.h>
#include <time.h>

namespace ovl::nfs4 {

namespace {

int64_t MonotonicMs() {
  struct timespec t {};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1000000;
}

// Operations RFC 8881 section 18.46.3 allows outside a session's compound, each alone.
bool SessionlessOp(uint32_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kExchangeId:
    case Op::kCreateSession:
    case Op::kBindConnToSession:
    case Op::kDestroySession:
    case Op::kDestroyClientId:
      return true;
    default:
      return false;
  }
}

// Whether an operation changes the export (refused with NFS4ERR_ROFS when read-only). OPEN
// and SETATTR decide themselves (an OPEN for reading is fine).
bool Modifies(uint32_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kCreate:
    case Op::kRemove:
    case Op::kRename:
    case Op::kLink:
    case Op::kWrite:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<Nfs4Program>> Nfs4Program::Create(UnionFs* fs,
                                                         const nfs::ExportPolicy* policy,
                                                         const Verifier& write_verifier,
                                                         Nfs4Options options) {
  if (!options.clock) options.clock = MonotonicMs;
  if (options.boot_tag == 0) {
    while (options.boot_tag == 0) {
      if (getrandom(&options.boot_tag, sizeof options.boot_tag, 0) != sizeof options.boot_tag) {
        return Status::FromErrno("getrandom");
      }
    }
  }
  std::unique_ptr<ClientRecord> record;
  if (!options.work_dir.empty()) {
    OVL_ASSIGN_OR_RETURN(ClientRecord r,
                         ClientRecord::Open(options.env ? options.env : DefaultFsEnv(),
                                            options.work_dir, 4 * options.limits.max_clients));
    record = std::make_unique<ClientRecord>(std::move(r));
  }
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  auto pseudo = std::make_unique<PseudoFs>(policy->options().path, fs->ExportUuid(), now);
  return std::unique_ptr<Nfs4Program>(
      new Nfs4Program(fs, policy, write_verifier, std::move(pseudo), std::move(record), options));
}

Nfs4Program::Nfs4Program(UnionFs* fs, const nfs::ExportPolicy* policy,
                         const Verifier& write_verifier, std::unique_ptr<PseudoFs> pseudo,
                         std::unique_ptr<ClientRecord> record, const Nfs4Options& options)
    : fs_(fs),
      policy_(policy),
      write_verifier_(write_verifier),
      pseudo_(std::move(pseudo)),
      record_(std::move(record)) {
  ClientRecord* rec = record_.get();
  state_ = std::make_unique<Nfs4State>(
      options.limits, options.clock, rec ? rec->owners() : std::set<std::string>{},
      [rec](const std::vector<std::string>& owners) {
        return rec ? rec->Write(owners) : Status::Ok();
      },
      options.boot_tag);
  const std::array<uint8_t, 16> uuid = fs->ExportUuid();
  server_owner_.assign(reinterpret_cast<const char*>(uuid.data()), uuid.size());
}

rpc::AcceptStat Nfs4Program::Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                                  xdr::Encoder& results) {
  if (ctx.proc == kProcNull) {
    return args.remaining() == 0 ? rpc::AcceptStat::kSuccess : rpc::AcceptStat::kGarbageArgs;
  }
  if (ctx.proc != kProcCompound) return rpc::AcceptStat::kProcUnavail;
  return RunCompound(ctx, args, results);
}

rpc::AcceptStat Nfs4Program::RunCompound(const rpc::CallContext& ctx, xdr::Decoder& in,
                                         xdr::Encoder& out) {
  const size_t request_bytes = in.remaining();
  std::string tag;
  uint32_t minor = 0, numops = 0;
  const bool header_ok = in.String(&tag, kMaxTag) && in.U32(&minor) && in.U32(&numops);
  Nfsstat4 early = Nfsstat4::kOk;
  if (!header_ok) {
    early = Nfsstat4::kBadXdr;
    tag.clear();
  } else if (minor == 0 || minor > 2) {
    early = Nfsstat4::kMinorVersMismatch;
  } else if (!policy_->Allows(ctx.peer_ipv4)) {
    early = Nfsstat4::kAccess;
  }
  const size_t status_at = out.ReserveU32();
  out.String(tag);
  const size_t count_at = out.ReserveU32();
  if (early != Nfsstat4::kOk || numops == 0) {
    out.PatchU32(status_at, static_cast<uint32_t>(early));
    out.PatchU32(count_at, 0);
    return rpc::AcceptStat::kSuccess;
  }
  Compound c;
  c.ctx = &ctx;
  c.cred = policy_->CredFor(ctx);
  c.minor = minor;
  uint32_t op = 0, count = 1;
  Nfsstat4 st = Nfsstat4::kOk;
  if (!in.U32(&op)) {
    st = Nfsstat4::kBadXdr;
    count = 0;
  } else if (op != static_cast<uint32_t>(Op::kSequence)) {
    st = RunSessionless(c, op, numops, in, out);
  } else {
    // SEQUENCE (RFC 8881 18.46): the slot decides whether the compound runs or its cached
    // reply is sent again.
    SessionId sid{};
    uint32_t seqid = 0, slot = 0, highest = 0;
    bool cachethis = false;
    out.U32(op);
    const size_t seq_status_at = out.ReserveU32();
    Nfs4State::Sequenced seq;
    if (!in.FixedOpaque(sid.data(), sid.size()) || !in.U32(&seqid) || !in.U32(&slot) ||
        !in.U32(&highest) || !in.Bool(&cachethis)) {
      st = Nfsstat4::kBadXdr;
    } else {
      st = state_->Sequence(sid, seqid, slot, numops, request_bytes, &seq);
    }
    if (st == Nfsstat4::kOk && seq.verdict == SlotTable::Verdict::kReplay) {
      // The cached reply is the whole COMPOUND4res: replace what was started.
      out = xdr::Encoder();
      out.FixedOpaque(seq.cached.data(), seq.cached.size());
      return rpc::AcceptStat::kSuccess;
    }
    out.PatchU32(seq_status_at, static_cast<uint32_t>(st));
    if (st == Nfsstat4::kOk) {
      out.FixedOpaque(sid.data(), sid.size());
      out.U32(seqid);
      out.U32(slot);
      out.U32(seq.highest_slot);
      out.U32(seq.highest_slot);  // target_highest_slotid
      out.U32(0);                 // status flags: nothing to report
      c.in_session = true;
      c.clientid = seq.clientid;
      c.fore = seq.fore;
      st = RunOps(c, numops, in, out, &count);
    }
    out.PatchU32(status_at, static_cast<uint32_t>(st));
    out.PatchU32(count_at, count);
    if (c.in_session) {
      // A reply whose data went to the tail is not kept (READs too big to cache anyway).
      std::optional<std::string> reply;
      if (!c.used_tail) reply = out.bytes();
      state_->FinishSequence(sid, slot, std::move(reply));
    }
    return rpc::AcceptStat::kSuccess;
  }
  out.PatchU32(status_at, static_cast<uint32_t>(st));
  out.PatchU32(count_at, count);
  return rpc::AcceptStat::kSuccess;
}

Nfsstat4 Nfs4Program::RunSessionless(Compound& c, uint32_t op, uint32_t numops, xdr::Decoder& in,
                                     xdr::Encoder& out) {
  bool notsupp = false;
  if (HandlerOf(op, c.minor, &notsupp) == nullptr && !notsupp) {
    out.U32(static_cast<uint32_t>(Op::kIllegal));
    out.U32(static_cast<uint32_t>(Nfsstat4::kOpIllegal));
    return Nfsstat4::kOpIllegal;
  }
  Nfsstat4 st = Nfsstat4::kOk;
  if (!SessionlessOp(op)) {
    st = Nfsstat4::kOpNotInSession;
  } else if (numops > 1) {
    st = Nfsstat4::kNotOnlyOp;
  }
  if (st != Nfsstat4::kOk) {
    out.U32(op);
    out.U32(static_cast<uint32_t>(st));
    return st;
  }
  c.last_op = true;
  return RunOp(c, op, in, out);
}

Nfsstat4 Nfs4Program::RunOps(Compound& c, uint32_t numops, xdr::Decoder& in, xdr::Encoder& out,
                             uint32_t* count) {
  for (uint32_t i = 1; i < numops; ++i) {
    uint32_t op = 0;
    if (!in.U32(&op)) {
      // A compound cut short: the operation that cannot be decoded fails, as RFC 8881 15.1.1
      // asks; its number is unknown, so it is reported as OP_ILLEGAL's slot.
      out.U32(static_cast<uint32_t>(Op::kIllegal));
      out.U32(static_cast<uint32_t>(Nfsstat4::kBadXdr));
      ++*count;
      return Nfsstat4::kBadXdr;
    }
    c.last_op = i + 1 == numops;
    ++*count;
    Nfsstat4 st = RunOp(c, op, in, out);
    if (st != Nfsstat4::kOk) return st;
  }
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::RunOp(Compound& c, uint32_t op, xdr::Decoder& in, xdr::Encoder& out) {
  bool notsupp = false;
  Handler h = HandlerOf(op, c.minor, &notsupp);
  if (h == nullptr && !notsupp) {
    out.U32(static_cast<uint32_t>(Op::kIllegal));
    out.U32(static_cast<uint32_t>(Nfsstat4::kOpIllegal));
    return Nfsstat4::kOpIllegal;
  }
  out.U32(op);
  const size_t at = out.ReserveU32();
  Nfsstat4 st = Nfsstat4::kNotSupp;
  if (Modifies(op) && policy_->options().read_only) {
    st = Nfsstat4::kRofs;
  } else if (h != nullptr) {
    st = (this->*h)(c, in, out);
  }
  out.PatchU32(at, static_cast<uint32_t>(st));
  return st;
}

Nfs4Program::Handler Nfs4Program::HandlerOf(uint32_t op, uint32_t minor, bool* notsupp) const {
  *notsupp = false;
  switch (static_cast<Op>(op)) {
    case Op::kAccess:
      return &Nfs4Program::Access;
    case Op::kClose:
      return &Nfs4Program::Close;
    case Op::kCommit:
      return &Nfs4Program::Commit;
    case Op::kCreate:
      return &Nfs4Program::CreateObj;
    case Op::kGetAttr:
      return &Nfs4Program::GetAttr;
    case Op::kGetFh:
      return &Nfs4Program::GetFh;
    case Op::kLink:
      return &Nfs4Program::Link;
    case Op::kLookup:
      return &Nfs4Program::Lookup;
    case Op::kLookupP:
      return &Nfs4Program::LookupP;
    case Op::kNVerify:
      return &Nfs4Program::NVerify;
    case Op::kOpen:
      return &Nfs4Program::Open;
    case Op::kOpenDowngrade:
      return &Nfs4Program::OpenDowngrade;
    case Op::kPutFh:
      return &Nfs4Program::PutFh;
    case Op::kPutPubFh:  // the public filehandle is the root (RFC 8881 18.20.3 allows it)
    case Op::kPutRootFh:
      return &Nfs4Program::PutRootFh;
    case Op::kRead:
      return &Nfs4Program::Read;
    case Op::kReadDir:
      return &Nfs4Program::ReadDir;
    case Op::kReadLink:
      return &Nfs4Program::ReadLink;
    case Op::kRemove:
      return &Nfs4Program::Remove;
    case Op::kRename:
      return &Nfs4Program::Rename;
    case Op::kRestoreFh:
      return &Nfs4Program::RestoreFh;
    case Op::kSaveFh:
      return &Nfs4Program::SaveFh;
    case Op::kSecInfo:
      return &Nfs4Program::SecInfo;
    case Op::kSetAttr:
      return &Nfs4Program::SetAttr;
    case Op::kVerify:
      return &Nfs4Program::Verify;
    case Op::kWrite:
      return &Nfs4Program::Write;
    case Op::kBindConnToSession:
      return &Nfs4Program::BindConnToSession;
    case Op::kExchangeId:
      return &Nfs4Program::ExchangeId;
    case Op::kCreateSession:
      return &Nfs4Program::CreateSession;
    case Op::kDestroySession:
      return &Nfs4Program::DestroySession;
    case Op::kFreeStateid:
      return &Nfs4Program::FreeStateid;
    case Op::kSecInfoNoName:
      return &Nfs4Program::SecInfoNoName;
    case Op::kSequence:
      return &Nfs4Program::SequenceInside;
    case Op::kTestStateid:
      return &Nfs4Program::TestStateid;
    case Op::kDestroyClientId:
      return &Nfs4Program::DestroyClientId;
    case Op::kReclaimComplete:
      return &Nfs4Program::ReclaimComplete;
    default:
      break;
  }
  // Everything else that exists in this minor version is an operation not offered: locks,
  // delegations, layouts, the 4.0-only ones (RFC 8881 section 18 lists them "MUST NOT" for
  // 4.1 servers to implement, answering NFS4ERR_NOTSUPP), and 4.2's.
  const uint32_t last =
      minor >= 2 ? static_cast<uint32_t>(Op::kLastV42) : static_cast<uint32_t>(Op::kLastV41);
  *notsupp = op >= static_cast<uint32_t>(Op::kAccess) && op <= last;
  return nullptr;
}

}  // namespace ovl::nfs4
