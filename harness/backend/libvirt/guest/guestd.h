// ovl-guestd: the command end of a VM's control channel, run as the guest's last init step. The
// host sends one JSON object per line on the virtio-serial port "ovl.control"; every request
// carries an "id" that its one reply line repeats, so the host can drop replies to requests it
// gave up on (pings sent before the guest was up, commands that timed out).
//
// Requests:
//   {"id":N,"cmd":"ping"}
//       -> {"id":N,"ok":true,"boot_id":"...","uptime":S}   (boot_id changes with every boot)
//   {"id":N,"cmd":"exec","argv":[...],"timeout_ms":T}
//       -> {"id":N,"ok":true,"rc":R,"output":"..."}   stdout+stderr, the last 64 KiB
//       -> {"id":N,"ok":false,"error":"timed out ...","output":"..."}   the command's process
//          group is killed after T ms
//   {"id":N,"cmd":"materialize","fixture":{...},"lowers":["/data/layers/lower0",...]}
//       -> {"id":N,"ok":true}   backend::Materialize of the fixture (its JSON form) into the dirs
//   {"id":N,"cmd":"verify-lowers","fixture":{...},"lowers":[...]}
//       -> {"id":N,"ok":true} when the dirs hold exactly the fixture (backend::VerifyLowerLayers),
//          else {"id":N,"ok":false,"errno":E,"error":"the first difference"}
//   {"id":N,"cmd":"handle-check","path":P}
//       -> {"id":N,"ok":true,"bytes":B} when name_to_handle_at(P) works, else
//          {"id":N,"ok":false,"errno":E,"error":"..."} (EOPNOTSUPP: the fs cannot export)
//   {"id":N,"cmd":"offline-edit","edit":{...},"lowers":[...],"upper":U,"work":W}
//       -> {"id":N,"ok":true} once backend::ApplyOfflineEdit of the edit (ops/offline.h JSON form)
//          to the layers is done and synced, else {"id":N,"ok":false,"errno":E,"error":"..."}
// Anything else gets {"id":N,"ok":false,"error":"..."}.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ovl::guest {

using std::chrono::milliseconds;

struct ExecOutcome {
  bool timed_out = false;
  int rc = -1;         // exit code, or 128+signal
  std::string output;  // stdout and stderr interleaved, the last kMaxOutput bytes
};

inline constexpr size_t kMaxOutput = 64 * 1024;

// Runs `argv` (argv[0] a path or a PATH name) in its own process group with stdin /dev/null;
// kills the group after `timeout`. Does not wait for daemons the command leaves behind.
ExecOutcome Exec(const std::vector<std::string>& argv, milliseconds timeout);

// The reply to one request line. Never throws.
nlohmann::json HandleRequest(const std::string& line);

// Reaps every exited child without blocking (guestd is PID 1's successor: orphans land here).
void ReapOrphans();

}  // namespace ovl::guest
