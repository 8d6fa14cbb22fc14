// The differential view of generated cases (docs/explore.md): one case's steps ran on several
// servers, so where the model allows more than one outcome (MAY), the servers' answers can be
// set side by side. Pure: a history in, the operations on which the servers differed out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ops/history.h"

namespace ovl::explore {

struct Disagreement {
  std::string scenario;
  uint32_t step = 0;  // the scenario step (1-based)
  std::string op;     // the operation as the model describes it (client A's view)
  std::map<std::string, std::string> answers;  // server -> "ok", an error name, "no answer"
};

// Where a case of the history ran: its scenario and server.
struct CasePlace {
  std::string scenario;
  std::string server;
};

// The operations of `history` on which the cases of one scenario (in `places`, by case id) got
// different answers on different servers, by scenario and step; at most `limit` of them. A
// step that repeats compares its answers in order. Cases not in `places` are left out, as are
// steps a server did not reach.
std::vector<Disagreement> Disagreements(const std::vector<ops::Event>& history,
                                        const std::map<std::string, CasePlace>& places,
                                        size_t limit);

}  // namespace ovl::explore
