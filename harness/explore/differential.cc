#include "explore/differential.h"

#include <set>
#include <utility>

#include "model/semantics.h"

namespace ovl::explore {
namespace {

std::string Answer(const ops::Result& r) {
  switch (r.outcome) {
    case ops::Result::Outcome::kOk:
      return "ok";
    case ops::Result::Outcome::kError:
      return r.error;
    case ops::Result::Outcome::kUnknown:
      return "no answer";
  }
  return "no answer";
}

struct Answered {
  std::string op;
  std::string answer;
};

}  // namespace

std::vector<Disagreement> Disagreements(const std::vector<ops::Event>& history,
                                        const std::map<std::string, CasePlace>& places,
                                        size_t limit) {
  std::map<std::pair<std::string, uint64_t>, const ops::Op*> sent;  // (case, seq) -> op
  // scenario -> (step, n-th op of the step) -> server -> answer
  std::map<std::string, std::map<std::pair<uint32_t, uint32_t>, std::map<std::string, Answered>>>
      by_step;
  std::map<std::pair<std::string, uint32_t>, uint32_t> count;  // (case, step) -> ops seen
  for (const ops::Event& e : history) {
    auto place = places.find(e.case_id);
    if (place == places.end()) continue;
    if (e.type == ops::Event::Type::kInvoke && e.op && e.op->step > 0) {
      sent[{e.case_id, e.op->seq}] = &*e.op;
    } else if (e.type == ops::Event::Type::kComplete && e.result) {
      auto op = sent.find({e.case_id, e.seq});
      if (op == sent.end()) continue;
      const uint32_t step = op->second->step;
      const uint32_t n = count[{e.case_id, step}]++;
      by_step[place->second.scenario][{step, n}][place->second.server] = {
          model::DescribeOp(*op->second), Answer(*e.result)};
    }
  }
  std::vector<Disagreement> out;
  for (const auto& [scenario, steps] : by_step) {
    for (const auto& [key, servers] : steps) {
      std::set<std::string> answers;
      for (const auto& [server, a] : servers) answers.insert(a.answer);
      if (servers.size() < 2 || answers.size() < 2) continue;
      if (out.size() == limit) return out;
      Disagreement d{scenario, key.first, servers.begin()->second.op, {}};
      for (const auto& [server, a] : servers) d.answers[server] = a.answer;
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace ovl::explore
