// The slot table, the state tables (bounds, seqid rules, lease expiry on an injected clock,
// grace) and the durable client record.
#include "nfs4/state.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/temp_dir_for_test.h"
#include "fs/power_loss_env.h"
#include "nfs4/client_record.h"
#include "nfs4/pseudo_fs.h"

namespace ovl::nfs4 {
namespace {

using Verdict = SlotTable::Verdict;

TEST(SlotTableTest, SequenceRules) {
  SlotTable t(2, 100);
  EXPECT_EQ(t.Begin(0, 0).verdict, Verdict::kMisordered);  // a new slot expects 1
  EXPECT_EQ(t.Begin(0, 1).verdict, Verdict::kNew);
  EXPECT_EQ(t.Begin(0, 1).verdict, Verdict::kInUse);  // retry while running
  t.Finish(0, std::string("reply-1"));
  SlotTable::Start replay = t.Begin(0, 1);
  EXPECT_EQ(replay.verdict, Verdict::kReplay);
  EXPECT_EQ(replay.cached, "reply-1");
  EXPECT_EQ(t.Begin(0, 3).verdict, Verdict::kMisordered);
  EXPECT_EQ(t.Begin(0, 0).verdict, Verdict::kMisordered);
  EXPECT_EQ(t.Begin(2, 1).verdict, Verdict::kBadSlot);
  EXPECT_EQ(t.Begin(0, 2).verdict, Verdict::kNew);
  t.Finish(0, std::string(101, 'x'));  // too big to keep
  EXPECT_EQ(t.Begin(0, 2).verdict, Verdict::kUncachedReplay);
  EXPECT_EQ(t.Begin(1, 1).verdict, Verdict::kNew);  // slots are independent
}

TEST(SlotTableTest, SeqidWraps) {
  SlotTable t(1, 100);
  for (uint32_t s = 1; s < 4; ++s) {
    ASSERT_EQ(t.Begin(0, s).verdict, Verdict::kNew);
    t.Finish(0, std::nullopt);
  }
  EXPECT_EQ(t.Begin(0, 5).verdict, Verdict::kMisordered);
}

class StateTest : public ::testing::Test {
 protected:
  std::unique_ptr<Nfs4State> Make(std::set<std::string> previous = {}) {
    return std::make_unique<Nfs4State>(
        limits_, [this] { return now_ms_; }, std::move(previous),
        [this](const std::vector<std::string>& owners) {
          persisted_ = owners;
          ++persists_;
          return Status::Ok();
        },
        ++boot_);
  }
  // A confirmed client with one session.
  uint64_t Connect(Nfs4State& s, const std::string& owner, SessionId* sid = nullptr) {
    Nfs4State::Exchanged ex;
    EXPECT_EQ(s.ExchangeId(owner, Verifier{1}, &ex), Nfsstat4::kOk);
    Nfs4State::Created cs;
    ChannelAttrs want{0, 1 << 20, 1 << 20, 4096, 8, 4};
    EXPECT_EQ(s.CreateSession(ex.clientid, ex.sequence, want, &cs), Nfsstat4::kOk);
    if (sid) *sid = cs.id;
    return ex.clientid;
  }

  Limits limits_;
  int64_t now_ms_ = 1000;
  uint32_t boot_ = 0;
  std::vector<std::string> persisted_;
  int persists_ = 0;
};

TEST_F(StateTest, ClientTableIsBoundedAndExpiredClientsMakeRoom) {
  limits_.max_clients = 2;
  auto s = Make();
  Connect(*s, "a");
  Connect(*s, "b");
  Nfs4State::Exchanged ex;
  EXPECT_EQ(s->ExchangeId("c", Verifier{1}, &ex), Nfsstat4::kDelay);
  now_ms_ += limits_.lease_s * 1000 + 1;
  EXPECT_EQ(s->ExchangeId("c", Verifier{1}, &ex), Nfsstat4::kOk);
  EXPECT_EQ(s->clients(), 1u);
}

TEST_F(StateTest, AFloodOfExchangeIdsDisplacesOnlyUnconfirmedClients) {
  limits_.max_clients = 3;
  auto s = Make();
  SessionId sid;
  Connect(*s, "confirmed", &sid);
  Nfs4State::Exchanged ex;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(s->ExchangeId("flood-" + std::to_string(i), Verifier{1}, &ex), Nfsstat4::kOk);
    now_ms_ += 1;
  }
  EXPECT_EQ(s->clients(), 3u);
  Nfs4State::Sequenced q;
  EXPECT_EQ(s->Sequence(sid, 1, 0, 1, 100, &q), Nfsstat4::kOk);  // untouched
  // The newest unconfirmed client can still create its session.
  Nfs4State::Created cs;
  EXPECT_EQ(s->CreateSession(ex.clientid, ex.sequence, ChannelAttrs{0, 4096, 4096, 0, 8, 4}, &cs),
            Nfsstat4::kOk);
}

TEST_F(StateTest, CreateSessionNegotiatesAndReplays) {
  auto s = Make();
  Nfs4State::Exchanged ex;
  ASSERT_EQ(s->ExchangeId("a", Verifier{1}, &ex), Nfsstat4::kOk);
  EXPECT_FALSE(ex.confirmed);
  ChannelAttrs want{0, 1u << 30, 1u << 30, 1u << 30, 1000, 1000};
  Nfs4State::Created cs, again;
  EXPECT_EQ(s->CreateSession(ex.clientid, ex.sequence + 1, want, &cs), Nfsstat4::kSeqMisordered);
  ASSERT_EQ(s->CreateSession(ex.clientid, ex.sequence, want, &cs), Nfsstat4::kOk);
  EXPECT_EQ(cs.fore.max_requests, limits_.max_slots);
  EXPECT_EQ(cs.fore.max_ops, limits_.max_ops);
  EXPECT_EQ(cs.fore.max_request, limits_.max_request);
  EXPECT_EQ(cs.fore.max_response_cached, limits_.max_cached_response);
  ASSERT_EQ(s->CreateSession(ex.clientid, ex.sequence, want, &again), Nfsstat4::kOk);
  EXPECT_EQ(again.id, cs.id);  // a retry gets the same session
  EXPECT_EQ(s->CreateSession(ex.clientid + 99, 1, want, &cs), Nfsstat4::kStaleClientId);
  ASSERT_EQ(s->ExchangeId("a", Verifier{1}, &ex), Nfsstat4::kOk);
  EXPECT_TRUE(ex.confirmed);
  EXPECT_EQ(s->DestroyClientId(ex.clientid), Nfsstat4::kClientIdBusy);
  Stateid open;
  ASSERT_EQ(s->Open(ex.clientid, "o", "fh", kShareRead, 0, false, &open), Nfsstat4::kOk);
  EXPECT_EQ(persisted_, std::vector<std::string>{"a"});
  EXPECT_EQ(s->DestroySession(again.id), Nfsstat4::kOk);
  EXPECT_EQ(s->DestroySession(again.id), Nfsstat4::kBadSession);
  EXPECT_EQ(s->DestroyClientId(ex.clientid), Nfsstat4::kOk);
  EXPECT_TRUE(persisted_.empty());  // gone from the durable record too
  EXPECT_EQ(s->opens(), 0u);
}

TEST_F(StateTest, SessionsPerClientAreBounded) {
  limits_.max_sessions_per_client = 2;
  auto s = Make();
  Nfs4State::Exchanged ex;
  ASSERT_EQ(s->ExchangeId("a", Verifier{1}, &ex), Nfsstat4::kOk);
  ChannelAttrs want{0, 4096, 4096, 0, 8, 4};
  Nfs4State::Created cs;
  uint32_t seq = ex.sequence;
  EXPECT_EQ(s->CreateSession(ex.clientid, seq++, want, &cs), Nfsstat4::kOk);
  EXPECT_EQ(s->CreateSession(ex.clientid, seq++, want, &cs), Nfsstat4::kOk);
  EXPECT_EQ(s->CreateSession(ex.clientid, seq, want, &cs), Nfsstat4::kServerFault);
}

TEST_F(StateTest, SequenceChecksLimitsBeforeTheSlot) {
  auto s = Make();
  SessionId sid;
  Connect(*s, "a", &sid);
  Nfs4State::Sequenced q;
  EXPECT_EQ(s->Sequence(sid, 1, 0, 9, 100, &q), Nfsstat4::kTooManyOps);
  EXPECT_EQ(s->Sequence(sid, 1, 0, 2, (1 << 20) + 1, &q), Nfsstat4::kReqTooBig);
  EXPECT_EQ(s->Sequence(sid, 1, 4, 2, 100, &q), Nfsstat4::kBadSlot);
  EXPECT_EQ(s->Sequence(sid, 2, 0, 2, 100, &q), Nfsstat4::kSeqMisordered);
  ASSERT_EQ(s->Sequence(sid, 1, 0, 2, 100, &q), Nfsstat4::kOk);
  EXPECT_EQ(q.verdict, Verdict::kNew);
  EXPECT_EQ(q.highest_slot, 3u);
  s->FinishSequence(sid, 0, std::string("cached"));
  ASSERT_EQ(s->Sequence(sid, 1, 0, 2, 100, &q), Nfsstat4::kOk);
  EXPECT_EQ(q.verdict, Verdict::kReplay);
  EXPECT_EQ(q.cached, "cached");
  SessionId other{};
  EXPECT_EQ(s->Sequence(other, 1, 0, 2, 100, &q), Nfsstat4::kBadSession);
}

TEST_F(StateTest, OpenSeqidsAndShareReservations) {
  auto s = Make();
  const uint64_t a = Connect(*s, "a");
  const uint64_t b = Connect(*s, "b");
  Stateid sa, sb, sa2;
  ASSERT_EQ(s->Open(a, "owner", "fh1", kShareRead, kShareWrite, false, &sa), Nfsstat4::kOk);
  EXPECT_EQ(sa.seqid, 1u);
  EXPECT_EQ(persisted_, std::vector<std::string>{"a"});  // recorded before the first open
  // Another client may read but not write (denied), nor deny reading.
  EXPECT_EQ(s->Open(b, "o", "fh1", kShareWrite, 0, false, &sb), Nfsstat4::kShareDenied);
  EXPECT_EQ(s->Open(b, "o", "fh1", kShareRead, kShareRead, false, &sb), Nfsstat4::kShareDenied);
  ASSERT_EQ(s->Open(b, "o", "fh1", kShareRead, 0, false, &sb), Nfsstat4::kOk);
  // Anonymous I/O respects deny modes too.
  EXPECT_EQ(s->CheckIo(b, Stateid{}, "fh1", kShareWrite), Nfsstat4::kShareDenied);
  EXPECT_EQ(s->CheckIo(b, Stateid{}, "fh1", kShareRead), Nfsstat4::kOk);
  // The same owner opening again upgrades and bumps the seqid.
  ASSERT_EQ(s->Open(a, "owner", "fh1", kShareWrite, 0, false, &sa2), Nfsstat4::kOk);
  EXPECT_EQ(sa2.other, sa.other);
  EXPECT_EQ(sa2.seqid, 2u);
  EXPECT_EQ(s->CheckIo(a, sa, "fh1", kShareRead), Nfsstat4::kOldStateid);
  EXPECT_EQ(s->CheckIo(a, sa2, "fh1", kShareWrite), Nfsstat4::kOk);
  Stateid zero = sa2;
  zero.seqid = 0;  // "the current seqid"
  EXPECT_EQ(s->CheckIo(a, zero, "fh1", kShareWrite), Nfsstat4::kOk);
  Stateid future = sa2;
  future.seqid = 9;
  EXPECT_EQ(s->CheckIo(a, future, "fh1", kShareRead), Nfsstat4::kBadStateid);
  EXPECT_EQ(s->CheckIo(a, sa2, "fh2", kShareRead), Nfsstat4::kBadStateid);
  // Another client's stateid is not ours.
  EXPECT_EQ(s->CheckIo(b, sa2, "fh1", kShareRead), Nfsstat4::kBadStateid);
  EXPECT_EQ(s->Test(b, sa2), Nfsstat4::kBadStateid);
  // b opened read-only: no writes through it.
  EXPECT_EQ(s->CheckIo(b, sb, "fh1", kShareWrite), Nfsstat4::kOpenMode);
  // Downgrade to a subset only.
  Stateid down;
  EXPECT_EQ(s->Downgrade(a, sa2, kShareRead, kShareWrite | kShareRead, &down), Nfsstat4::kInval);
  ASSERT_EQ(s->Downgrade(a, sa2, kShareRead, 0, &down), Nfsstat4::kOk);
  EXPECT_EQ(down.seqid, 3u);
  EXPECT_EQ(s->Free(a, down), Nfsstat4::kLocksHeld);
  EXPECT_EQ(s->Close(a, sa2), Nfsstat4::kOldStateid);
  EXPECT_EQ(s->Close(a, down), Nfsstat4::kOk);
  EXPECT_EQ(s->Close(a, down), Nfsstat4::kBadStateid);
  // A stateid of an earlier server instance is stale.
  auto restarted = Make();
  EXPECT_EQ(restarted->Test(a, sb), Nfsstat4::kStaleStateid);
}

TEST_F(StateTest, OpensPerClientAreBounded) {
  limits_.max_opens_per_client = 3;
  auto s = Make();
  const uint64_t a = Connect(*s, "a");
  const uint64_t b = Connect(*s, "b");
  Stateid sid;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(s->Open(a, "o", "f" + std::to_string(i), kShareRead, 0, false, &sid), Nfsstat4::kOk);
  }
  EXPECT_EQ(s->Open(a, "o", "f9", kShareRead, 0, false, &sid), Nfsstat4::kServerFault);
  EXPECT_EQ(s->Open(b, "o", "f9", kShareRead, 0, false, &sid), Nfsstat4::kOk);  // others go on
}

TEST_F(StateTest, ExpiredLeaseYieldsToAConflictingOpenOnly) {
  auto s = Make();
  const uint64_t a = Connect(*s, "a");
  const uint64_t b = Connect(*s, "b");
  Stateid sa, sb;
  ASSERT_EQ(s->Open(a, "o", "fh", kShareBoth, kShareBoth, false, &sa), Nfsstat4::kOk);
  EXPECT_EQ(s->Open(b, "o", "fh", kShareRead, 0, false, &sb), Nfsstat4::kShareDenied);
  now_ms_ += limits_.lease_s * 1000 + 1;
  // Courteous: a's state survives its lease until someone conflicts.
  EXPECT_EQ(s->Test(a, sa), Nfsstat4::kOk);
  EXPECT_EQ(s->Open(b, "o", "fh", kShareRead, 0, false, &sb), Nfsstat4::kOk);
  EXPECT_EQ(s->Test(a, sa), Nfsstat4::kBadStateid);
  EXPECT_EQ(s->clients(), 1u);
}

TEST_F(StateTest, SequenceRenewsTheLease) {
  limits_.max_clients = 2;
  auto s = Make();
  SessionId sid;
  Connect(*s, "idle");
  Connect(*s, "keeper", &sid);
  for (uint32_t i = 1; i <= 3; ++i) {
    now_ms_ += limits_.lease_s * 1000 - 1;
    Nfs4State::Sequenced q;
    ASSERT_EQ(s->Sequence(sid, i, 0, 1, 100, &q), Nfsstat4::kOk);
    s->FinishSequence(sid, 0, std::nullopt);
  }
  // "idle" expired and makes room for a newcomer; "keeper" renewed and stays.
  Nfs4State::Exchanged ex;
  EXPECT_EQ(s->ExchangeId("new", Verifier{1}, &ex), Nfsstat4::kOk);
  EXPECT_EQ(s->clients(), 2u);
  Nfs4State::Sequenced q;
  EXPECT_EQ(s->Sequence(sid, 4, 0, 1, 100, &q), Nfsstat4::kOk);
}

TEST_F(StateTest, GraceEndsByTimeOrWhenEveryoneReclaimed) {
  {
    auto s = Make();
    EXPECT_FALSE(s->InGrace());  // nobody to wait for
  }
  limits_.grace_s = 5;
  auto s = Make({"a", "b"});
  EXPECT_TRUE(s->InGrace());
  const uint64_t a = Connect(*s, "a");
  const uint64_t c = Connect(*s, "c");
  EXPECT_TRUE(s->MayReclaim(a));
  EXPECT_FALSE(s->MayReclaim(c));  // not known before the restart
  Stateid sid;
  ASSERT_EQ(s->Open(a, "o", "fh", kShareRead, 0, /*reclaim=*/true, &sid), Nfsstat4::kOk);
  // While in grace, the record keeps the earlier clients.
  EXPECT_EQ(persisted_, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(s->ReclaimComplete(a), Nfsstat4::kOk);
  EXPECT_EQ(s->ReclaimComplete(a), Nfsstat4::kCompleteAlready);
  EXPECT_FALSE(s->MayReclaim(a));
  EXPECT_TRUE(s->InGrace());  // b has not come back
  const uint64_t b = Connect(*s, "b");
  ASSERT_EQ(s->ReclaimComplete(b), Nfsstat4::kOk);
  EXPECT_FALSE(s->InGrace());

  auto timed = Make({"a"});
  EXPECT_TRUE(timed->InGrace());
  now_ms_ += 5000;
  EXPECT_FALSE(timed->InGrace());
}

TEST(ClientRecordTest, SurvivesReopenAndIgnoresGarbage) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/ovlnfsd");
  {
    auto r = ClientRecord::Open(DefaultFsEnv(), dir.path(), 10);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->owners().empty());
    ASSERT_TRUE(r->Write({std::string("a\0b", 3), "Linux NFSv4.1 host"}).ok());
  }
  auto r = ClientRecord::Open(DefaultFsEnv(), dir.path(), 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->owners(), (std::set<std::string>{std::string("a\0b", 3), "Linux NFSv4.1 host"}));
  FILE* f = fopen((dir.path() + "/ovlnfsd/nfs4-clients").c_str(), "a");
  fputs("zz-not-hex\n61\n", f);
  fclose(f);
  auto again = ClientRecord::Open(DefaultFsEnv(), dir.path(), 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->owners().size(), 3u);  // "a" (61) added, garbage skipped
  auto bounded = ClientRecord::Open(DefaultFsEnv(), dir.path(), 1);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->owners().size(), 1u);
}

// The record is written through the FsEnv seam: a power cut right after Write returns keeps
// exactly what it wrote, and a cut before the first Write leaves no record.
TEST(ClientRecordTest, WriteIsDurableAcrossAPowerCut) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/work/ovlnfsd");
  std::filesystem::create_directories(dir.path() + "/scratch");
  const std::string work = dir.path() + "/work";
  PowerLossEnv env(DefaultFsEnv());
  Fd scratch(::open((dir.path() + "/scratch").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(env.Start(scratch.get()).ok());
    auto r = ClientRecord::Open(&env, work, 10);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::vector<std::string> owners = {"client-" + std::to_string(round)};
    ASSERT_TRUE(r->Write(owners).ok());
    ASSERT_TRUE(env.Cut().ok());
    auto after = ClientRecord::Open(DefaultFsEnv(), work, 10);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->owners(), std::set<std::string>(owners.begin(), owners.end()));
  }
}

TEST(PseudoFsTest, HandlesAreDistinctAndChecked) {
  std::array<uint8_t, 16> uuid{1, 2, 3};
  PseudoFs p("/srv//ovl/", uuid, {});
  ASSERT_EQ(p.depths(), 2u);
  EXPECT_EQ(p.EntryOf(0), "srv");
  EXPECT_EQ(p.EntryOf(1), "ovl");
  uint32_t depth = 9;
  EXPECT_EQ(p.Decode(p.HandleOf(1), &depth), PseudoFs::Kind::kPseudo);
  EXPECT_EQ(depth, 1u);
  EXPECT_EQ(p.Decode(p.HandleOf(2), &depth), PseudoFs::Kind::kStale);
  PseudoFs other("/srv/ovl", std::array<uint8_t, 16>{9}, {});
  EXPECT_EQ(p.Decode(other.HandleOf(0), &depth), PseudoFs::Kind::kStale);
  EXPECT_EQ(p.Decode(std::string("OV\x01\x00", 4) + std::string(40, 'x'), &depth),
            PseudoFs::Kind::kNotPseudo);
  EXPECT_EQ(PseudoFs("/", uuid, {}).depths(), 0u);
}

}  // namespace
}  // namespace ovl::nfs4
