#include "explore/shrink.h"

namespace ovl::explore {
namespace {

using Clock = std::chrono::steady_clock;

class Shrinker {
 public:
  Shrinker(const CaseDoc& failing, const std::string& rule, const Oracle& oracle,
           const ShrinkLimits& limits)
      : oracle_(oracle), limits_(limits), start_(Clock::now()), base_id_(failing.id) {
    result_.smallest = failing;
    result_.rule = rule;
  }

  ShrinkResult Run() {
    bool changed = true;
    while (changed && !Out()) {
      changed = false;
      changed |= CutRuns(&CaseDoc::steps);
      changed |= CutRuns(&CaseDoc::entries);
      changed |= SimplifySteps();
      changed |= SimplifyFixture();
    }
    result_.smallest.id = base_id_ + "-min";
    result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return std::move(result_);
  }

 private:
  const CaseDoc& Best() const { return result_.smallest; }

  bool Out() {
    if (Clock::now() - start_ >= limits_.budget || result_.candidates >= limits_.max_candidates)
      result_.stopped_early = true;
    return result_.stopped_early;
  }

  // Runs `c` (made valid where it can be) and keeps it when it fails the same way.
  bool Try(CaseDoc c) {
    DropDangling(&c);
    const CaseDoc& b = Best();
    if (c.steps.empty() || (c.steps == b.steps && c.entries == b.entries && c.layers == b.layers))
      return false;
    if (Out()) return false;
    c.id = base_id_ + "-s" + std::to_string(++result_.candidates);
    const std::optional<std::string> rule = oracle_(c);
    if (!rule || *rule != result_.rule) return false;
    ++result_.kept;
    result_.smallest = std::move(c);
    return true;
  }

  // Removes runs of `field` (steps or fixture entries), halving the run length down to one
  // element (delta debugging's complement step).
  bool CutRuns(std::vector<Json> CaseDoc::*field) {
    bool changed = false;
    for (size_t k = std::max<size_t>(1, (Best().*field).size() / 2); k >= 1 && !Out(); k /= 2) {
      for (size_t at = 0; at < (Best().*field).size() && !Out();) {
        CaseDoc c = Best();
        auto& v = c.*field;
        v.erase(v.begin() + at, v.begin() + std::min(v.size(), at + k));
        if (Try(std::move(c))) {
          changed = true;
        } else {
          at += k;
        }
      }
      if (k == 1) break;
    }
    return changed;
  }

  // Tries `edit` on element `i` of `field` when it applies (returns true after changing it).
  template <typename Edit>
  bool EachElement(std::vector<Json> CaseDoc::*field, Edit edit) {
    bool changed = false;
    for (size_t i = 0; i < (Best().*field).size() && !Out(); ++i) {
      CaseDoc c = Best();
      if (edit((c.*field)[i]) && Try(std::move(c))) changed = true;
    }
    return changed;
  }

  bool SimplifySteps() {
    bool changed = false;
    // One client: every step of the others given to A (their variables with them), then step
    // by step.
    CaseDoc one = Best();
    for (Json& s : one.steps)
      if (!s.contains("fault")) s.erase("client");
    changed |= Try(std::move(one));
    changed |= EachElement(&CaseDoc::steps, [](Json& s) { return s.erase("client") > 0; });
    // Shorter data and writes at the start.
    changed |= EachElement(&CaseDoc::steps, [](Json& s) {
      if (!s.contains("data_size") || s["data_size"].get<uint64_t>() <= 1) return false;
      s["data_size"] = s["data_size"].get<uint64_t>() / 2;
      return true;
    });
    changed |= EachElement(&CaseDoc::steps, [](Json& s) {
      if (!s.contains("repeat") || s["repeat"].get<uint64_t>() <= 1) return false;
      s["repeat"] = s["repeat"].get<uint64_t>() / 2;
      return true;
    });
    changed |= EachElement(&CaseDoc::steps, [](Json& s) {
      if (!s.contains("offset") || s["offset"].get<uint64_t>() == 0) return false;
      s["offset"] = 0;
      return true;
    });
    // A restart replaced by an eviction: the smallest fault that still shows the bug.
    changed |= EachElement(&CaseDoc::steps, [](Json& s) {
      if (!s.contains("fault") || s["fault"] == "evict") return false;
      s["fault"] = "evict";
      s.erase("client");
      return true;
    });
    return changed;
  }

  bool SimplifyFixture() {
    bool changed = false;
    if (Best().layers > 1) {
      CaseDoc c = Best();
      c.layers = 1;
      for (Json& e : c.entries) e.erase("layer");
      changed |= Try(std::move(c));
    }
    changed |= EachElement(&CaseDoc::entries, [](Json& e) {
      if (!e.contains("size") || e["size"].get<uint64_t>() == 0) return false;
      e["size"] = e["size"].get<uint64_t>() / 2;
      return true;
    });
    return changed;
  }

  const Oracle& oracle_;
  const ShrinkLimits limits_;
  const Clock::time_point start_;
  const std::string base_id_;
  ShrinkResult result_;
};

}  // namespace

ShrinkResult Shrink(const CaseDoc& failing, const std::string& rule, const Oracle& oracle,
                    const ShrinkLimits& limits) {
  return Shrinker(failing, rule, oracle, limits).Run();
}

}  // namespace ovl::explore
